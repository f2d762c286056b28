/**
 * Policies: create, change, activate, delete, every change kept as a version (who and when) and
 * audited; roll back to any version. The org's compiled set is rebuilt when a policy changes, here and
 * (through the control bus) in every other hub process.
 */
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { assertBelowOrgCap } from '../../platform/org-caps.ts';
import { grantLevel } from '../../platform/rbac.ts';
import { createAgentStore } from '../agents/index.ts';
import type { PolicyRow, PolicyStore } from './policies.store.ts';

export interface PolicyInput {
  name: string;
  description?: string;
  status?: 'active' | 'inactive';
  priority?: number;
  rule: { when: unknown; then: string; approvers?: unknown; approval_timeout_s?: number; message?: string };
}

export function toPolicy(r: PolicyRow) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    status: r.status as 'active' | 'inactive',
    priority: Number(r.priority),
    rule: JSON.parse(r.rule),
    version: Number(r.version),
    hit_count: Number(r.hit_count),
    last_hit_at: r.last_hit_at === null ? null : new Date(Number(r.last_hit_at)).toISOString(),
    source: r.source,
    created_by: r.created_by,
    created_at: new Date(Number(r.created_at)).toISOString(),
    updated_at: new Date(Number(r.updated_at)).toISOString(),
  };
}
export type Policy = ReturnType<typeof toPolicy>;

/** The agents a rule pins at its top level (agent.id / agent.name with eq or in), for team scoping. */
function pinnedAgents(when: unknown): string[] {
  const conds = (when as { all?: unknown[] })?.all ?? [when];
  const out: string[] = [];
  for (const c of conds as { field?: string; op?: string; value?: unknown }[]) {
    if (c?.field !== 'agent.id' && c?.field !== 'agent.name') continue;
    if (c.op === 'eq' && typeof c.value === 'string') out.push(c.value);
    if (c.op === 'in' && Array.isArray(c.value)) out.push(...c.value.map(String));
  }
  return out;
}

export function createPolicyService(deps: {
  db: Kysely<Database>;
  store: PolicyStore;
  audit: AuditStore;
  clock: () => number;
  /** Called after a committed change: rebuild the org's compiled set (here and in other processes). */
  onChange: (orgId: OrgId) => void;
}) {
  const { db, store, audit, clock } = deps;
  const registry = createAgentStore(db);

  /** Team leads may only write policies that pin agents of their own teams. */
  async function assertMayWrite(
    caller: Caller,
    perm: 'policies:create' | 'policies:edit' | 'policies:activate',
    rule: PolicyInput['rule'],
  ) {
    const level = grantLevel(caller.permissions, perm);
    if (level === 'all') return;
    if (level === 'team') {
      const pinned = pinnedAgents(rule.when);
      if (pinned.length) {
        const agents = await registry.forOrg(caller.orgId).findMany(pinned);
        if (agents.length && agents.every((a) => a.team_id && caller.teamIds.includes(a.team_id))) return;
      }
      throw new AppError(
        'forbidden',
        "Team leads can only write policies that name their own team's agents (agent.name or agent.id).",
      );
    }
    throw new AppError('forbidden', `This needs the permission ${perm}.`);
  }

  return {
    async list(orgId: OrgId) {
      return (await store.forOrg(orgId).list()).map(toPolicy);
    },
    async get(orgId: OrgId, id: string) {
      const row = await store.forOrg(orgId).get(id);
      if (!row) throw notFound('Policy');
      return toPolicy(row);
    },

    async create(caller: Caller, input: PolicyInput, source: string | null = null) {
      await assertMayWrite(caller, 'policies:create', input.rule);
      const t = clock();
      const row = {
        id: newId('pol', t),
        name: input.name,
        description: input.description ?? '',
        status: input.status ?? 'active',
        priority: input.priority ?? 0,
        rule: JSON.stringify(input.rule),
        version: 1,
        last_hit_at: null,
        source,
        created_by: caller.actor.id,
        created_at: t,
        updated_at: t,
      };
      const policy = toPolicy({ ...row, org_id: caller.orgId, hit_count: 0 });
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('policies', s.count);
        await s.insert(row);
        await s.addVersion(row.id, 1, policy, 'created', caller.actor.id, t);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'policy.created',
          entityType: 'policy',
          entityId: row.id,
          changes: policy,
        });
      });
      deps.onChange(caller.orgId);
      return policy;
    },

    async update(caller: Caller, id: string, input: PolicyInput, change = 'updated') {
      const result = await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        const before = await s.get(id);
        if (!before) throw notFound('Policy');
        await assertMayWrite(caller, 'policies:edit', JSON.parse(before.rule));
        await assertMayWrite(caller, 'policies:edit', input.rule);
        const nextStatus = input.status ?? (before.status as 'active' | 'inactive');
        if (nextStatus !== before.status) await assertMayWrite(caller, 'policies:activate', input.rule);
        const t = clock();
        const version = Number(before.version) + 1;
        const patch = {
          name: input.name,
          description: input.description ?? before.description,
          status: nextStatus,
          priority: input.priority ?? Number(before.priority),
          rule: JSON.stringify(input.rule),
          version,
          updated_at: t,
        };
        await s.update(id, patch);
        const after = toPolicy({ ...before, ...patch });
        await s.addVersion(id, version, after, change, caller.actor.id, t);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: `policy.${change}`,
          entityType: 'policy',
          entityId: id,
          changes: { before: toPolicy(before), after },
        });
        return after;
      });
      deps.onChange(caller.orgId);
      return result;
    },

    async remove(caller: Caller, id: string) {
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        const before = await s.get(id);
        if (!before) throw notFound('Policy');
        await assertMayWrite(caller, 'policies:edit', JSON.parse(before.rule));
        await s.remove(id);
        // The history outlives the policy: who deleted it, and what it said.
        await s.addVersion(id, Number(before.version) + 1, toPolicy(before), 'deleted', caller.actor.id, clock());
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'policy.deleted',
          entityType: 'policy',
          entityId: id,
          changes: toPolicy(before),
        });
      });
      deps.onChange(caller.orgId);
    },

    async versions(orgId: OrgId, id: string) {
      const rows = await store.forOrg(orgId).versions(id);
      if (!rows.length) throw notFound('Policy');
      return rows.map((v) => ({
        version: Number(v.version),
        change: v.change,
        changed_by: v.changed_by,
        changed_at: new Date(Number(v.changed_at)).toISOString(),
        policy: JSON.parse(v.snapshot) as Policy,
      }));
    },

    /** Rolls back by writing the old version's content as a new version (history is never rewritten). */
    async rollback(caller: Caller, id: string, version: number) {
      const v = await store.forOrg(caller.orgId).version(id, version);
      if (!v) throw notFound('Policy version');
      const snap = JSON.parse(v.snapshot) as Policy;
      return this.update(
        caller,
        id,
        {
          name: snap.name,
          description: snap.description,
          status: snap.status,
          priority: snap.priority,
          rule: snap.rule,
        },
        'rolled_back',
      );
    },

    /** Active policies for compilation (the evaluator's cache loads these). */
    active: async (orgId: OrgId) => (await store.forOrg(orgId).active()).map(toPolicy),
  };
}
export type PolicyService = ReturnType<typeof createPolicyService>;
