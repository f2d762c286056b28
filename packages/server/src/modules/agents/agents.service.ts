/**
 * The agent registry. The model every later module copies: permissions (with team-lead scoping) and
 * rules here, SQL in the store, audit in the same transaction as the change.
 */
import type { Actor, CreateAgentBody, Permission, UpdateAgentBody } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { AgentsTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { createOrgStore } from '../../platform/orgs/orgs.store.ts';
import type { PlanService } from '../../platform/plans.ts';
import { grantLevel } from '../../platform/rbac.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { toAgent } from './agent-dto.ts';
import type { AgentFilter, AgentStore } from './agents.store.ts';

export interface AgentServiceDeps {
  db: Kysely<Database>;
  store: AgentStore;
  audit: AuditStore;
  secretBox: SecretBox;
  plans: PlanService;
  clock: () => number;
  /** After a committed change to an org's agents (caches such as the ingest resolver drop them). */
  onChange?: (orgId: OrgId) => void;
}

/** What a key bound to other agents hears when it names this one (or a new name). */
export const notBoundTo = (idOrName: string) =>
  new AppError('forbidden', `This API key is bound to other agents: it cannot act as "${idOrName}".`);

const isUniqueViolation = (e: unknown) => /unique|duplicate key/i.test(String((e as Error)?.message));

export function createAgentService(deps: AgentServiceDeps) {
  const { db, store, audit, secretBox, clock } = deps;
  // Teams and the org's settings belong to the orgs module: read through its store.
  const orgs = createOrgStore(db);

  /** Team leads act only on their teams' agents; 404 would hide nothing here (they can read it), so 403. */
  function assertMayTouch(caller: Caller, perm: Permission, teamId: string | null | undefined) {
    const level = grantLevel(caller.permissions, perm);
    if (level === 'all') return;
    if (level === 'team' && teamId && caller.teamIds.includes(teamId)) return;
    throw new AppError(
      'forbidden',
      level === 'team'
        ? 'Team leads can only manage agents that belong to one of their teams.'
        : `This needs the permission ${perm}.`,
    );
  }

  function sealConnection(connection: Record<string, string> | undefined) {
    return connection && Object.keys(connection).length ? secretBox.seal(JSON.stringify(connection)) : null;
  }

  const conflictName = (name: string) =>
    new AppError('conflict', `An agent named "${name}" already exists in this organization.`, {
      errors: [{ path: 'name', message: 'already used by another agent' }],
    });

  async function assertTeam(orgId: OrgId, teamId: string | null | undefined) {
    if (!teamId) return;
    const team = await orgs.forOrg(orgId).getTeam(teamId);
    if (!team)
      throw new AppError('validation_failed', 'team_id: no such team in this organization', {
        errors: [{ path: 'team_id', message: 'no such team in this organization' }],
      });
  }

  async function insert(orgId: OrgId, actor: Actor, body: CreateAgentBody, autoRegistered: boolean) {
    const t = clock();
    const row: Omit<AgentsTable, 'org_id'> = {
      id: newId('agt', t),
      name: body.name,
      description: body.description ?? '',
      type: body.type ?? null,
      team_id: body.team_id ?? null,
      tags: JSON.stringify([...new Set(body.tags ?? [])]),
      environment: body.environment,
      status: 'active',
      provider_kind: body.provider?.kind ?? null,
      provider_external_id: body.provider?.external_id ?? null,
      provider_secret: sealConnection(body.provider?.connection),
      auto_registered: autoRegistered ? 1 : 0,
      created_at: t,
      updated_at: t,
    };
    try {
      await db.transaction().execute(async (trx) => {
        const agents = store.forOrg(orgId, trx);
        await deps.plans.assertWithin(orgId, 'agents', await agents.count(), trx);
        if (await agents.byName(body.name)) throw conflictName(body.name);
        await agents.insert(row);
        await audit.append(trx, orgId, {
          actor,
          action: autoRegistered ? 'agent.auto_registered' : 'agent.created',
          entityType: 'agent',
          entityId: row.id,
          changes: toAgent({ ...row, org_id: orgId }, secretBox),
        });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflictName(body.name);
      throw e;
    }
    return toAgent({ ...row, org_id: orgId }, secretBox);
  }

  return {
    async create(caller: Caller, body: CreateAgentBody) {
      assertMayTouch(caller, 'agents:create', body.team_id);
      await assertTeam(caller.orgId, body.team_id);
      return insert(caller.orgId, caller.actor, body, false);
    },

    async get(orgId: OrgId, idOrName: string) {
      const row = await store.forOrg(orgId).find(idOrName);
      if (!row) throw notFound('Agent');
      return toAgent(row, secretBox);
    },

    async list(orgId: OrgId, filter: AgentFilter, limit: number) {
      const rows = await store.forOrg(orgId).list(filter, limit + 1);
      const page = rows.slice(0, limit);
      return {
        data: page.map((r) => toAgent(r, secretBox)),
        next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    },

    async update(caller: Caller, idOrName: string, patch: UpdateAgentBody) {
      try {
        const updated = await db.transaction().execute(async (trx) => {
          const agents = store.forOrg(caller.orgId, trx);
          const before = await agents.find(idOrName);
          if (!before) throw notFound('Agent');
          assertMayTouch(caller, 'agents:edit', before.team_id);
          if (patch.team_id !== undefined && patch.team_id !== before.team_id) {
            assertMayTouch(caller, 'agents:edit', patch.team_id);
            await assertTeam(caller.orgId, patch.team_id);
          }
          if (patch.name && patch.name !== before.name && (await agents.byName(patch.name)))
            throw conflictName(patch.name);
          const next: Partial<AgentsTable> = { updated_at: clock() };
          if (patch.name !== undefined) next.name = patch.name;
          if (patch.description !== undefined) next.description = patch.description;
          if (patch.type !== undefined) next.type = patch.type;
          if (patch.team_id !== undefined) next.team_id = patch.team_id;
          if (patch.tags !== undefined) next.tags = JSON.stringify([...new Set(patch.tags)]);
          if (patch.environment !== undefined) next.environment = patch.environment;
          if (patch.provider === null) {
            Object.assign(next, { provider_kind: null, provider_external_id: null, provider_secret: null });
          } else if (patch.provider) {
            next.provider_kind = patch.provider.kind;
            next.provider_external_id = patch.provider.external_id ?? null;
            // Connection fields not sent are kept: a form that edits the kind does not wipe the token.
            if (patch.provider.connection) next.provider_secret = sealConnection(patch.provider.connection);
          }
          await agents.update(before.id, next);
          const after = { ...before, ...next } as AgentsTable;
          await audit.append(trx, caller.orgId, {
            actor: caller.actor,
            action: 'agent.updated',
            entityType: 'agent',
            entityId: before.id,
            changes: { before: toAgent(before, secretBox), after: toAgent(after, secretBox) },
          });
          return toAgent(after, secretBox);
        });
        deps.onChange?.(caller.orgId);
        return updated;
      } catch (e) {
        if (isUniqueViolation(e)) throw conflictName(patch.name ?? '');
        throw e;
      }
    },

    async remove(caller: Caller, idOrName: string) {
      await db.transaction().execute(async (trx) => {
        const agents = store.forOrg(caller.orgId, trx);
        const row = await agents.find(idOrName);
        if (!row) throw notFound('Agent');
        assertMayTouch(caller, 'agents:delete', row.team_id);
        await agents.remove(row.id);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'agent.deleted',
          entityType: 'agent',
          entityId: row.id,
          changes: { name: row.name },
        });
      });
      deps.onChange?.(caller.orgId);
    },

    /**
     * For ingestion: the agent named by id or name, registered on the spot when the org allows it
     * (the org setting auto_register_agents, on by default) so OTLP and SDK users see data at once.
     */
    /**
     * The agent named by id or name, registered on the spot when the org allows it. With `allowed`
     * (an API key bound to agents) only those agents resolve: anything else, existing or new, is a
     * 403 before any registration.
     */
    async resolveOrRegister(
      orgId: OrgId,
      actor: Actor,
      idOrName: string,
      environment: 'prod' | 'staging' | 'test' = 'prod',
      allowed?: ReadonlySet<string>,
    ) {
      const row = await store.forOrg(orgId).find(idOrName);
      if (allowed && !(row && allowed.has(row.id))) throw notBoundTo(idOrName);
      if (row) return toAgent(row, secretBox);
      const org = await orgs.forOrg(orgId).getOrg();
      const settings = JSON.parse(org?.settings ?? '{}') as { auto_register_agents?: boolean };
      if (settings.auto_register_agents === false)
        throw new AppError('not_found', `Agent "${idOrName}" is not registered and auto-registration is off.`);
      try {
        return await insert(orgId, actor, { name: idOrName, environment }, true);
      } catch (e) {
        // Two first events of a new agent at once: the loser reads the winner's row.
        if (e instanceof AppError && e.code === 'conflict') return this.get(orgId, idOrName);
        throw e;
      }
    },
  };
}
export type AgentService = ReturnType<typeof createAgentService>;
