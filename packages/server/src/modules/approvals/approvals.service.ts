/**
 * Approvals: what REQUIRE_APPROVAL creates. Bound to the agent and a hash of the exact action, decided
 * once (a second decision is a 409), used once (the agent's retry with `approval_id` consumes it),
 * expired after the policy's timeout (expired = BLOCK). Agents wait by long-poll; a decision wakes
 * waiters in this process and, through the control bus, in every other one.
 */
import { EventEmitter } from 'node:events';

import type { Kysely, Selectable, Transaction } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { ApprovalsTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import type { ControlBus } from '../../platform/control-bus.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';

type Exec = Kysely<Database> | Transaction<Database>;
export interface Approvers {
  roles?: string[];
  team_id?: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function toApproval(r: Selectable<ApprovalsTable>, now: number) {
  const expired = r.status === 'pending' && Number(r.expires_at) <= now;
  return {
    id: r.id,
    status: (expired ? 'expired' : r.status) as 'pending' | 'approved' | 'rejected' | 'expired',
    policy_id: r.policy_id,
    agent_id: r.agent_id,
    run_id: r.run_id,
    decision_id: r.decision_id,
    action: JSON.parse(r.action),
    approvers: JSON.parse(r.approvers) as Approvers,
    message: r.message,
    requested_at: iso(r.requested_at)!,
    expires_at: iso(r.expires_at)!,
    decided_at: iso(r.decided_at),
    decided_by: r.decided_by,
    comment: r.comment,
    used: r.used_at !== null,
  };
}
export type Approval = ReturnType<typeof toApproval>;

export function createApprovalService(deps: {
  db: Kysely<Database>;
  audit: AuditStore;
  bus: ControlBus;
  notifications: Pick<NotificationService, 'notify'>;
  clock: () => number;
  log: { warn(o: unknown, m?: string): void };
}) {
  const { db, audit, clock } = deps;
  const decided = new EventEmitter();
  decided.setMaxListeners(0);
  deps.bus.subscribe('approval.decided', (d) => decided.emit(String(d.id)));

  const byId = (exec: Exec, orgId: OrgId, id: string) =>
    exec.selectFrom('approvals').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

  return {
    /** Inside the evaluation's transaction; notifications go out after it commits (`announce`). */
    async create(
      exec: Exec,
      orgId: OrgId,
      a: {
        policyId: string | null;
        agentId: string;
        runId: string | null;
        decisionId: string;
        action: unknown;
        actionHash: string;
        approvers: Approvers;
        message: string | null;
        timeoutS: number;
      },
    ) {
      const t = clock();
      const row = {
        id: newId('apr', t),
        org_id: orgId,
        policy_id: a.policyId,
        agent_id: a.agentId,
        run_id: a.runId,
        decision_id: a.decisionId,
        action: JSON.stringify(a.action),
        action_hash: a.actionHash,
        status: 'pending',
        approvers: JSON.stringify(a.approvers),
        message: a.message,
        requested_at: t,
        expires_at: t + a.timeoutS * 1000,
        decided_at: null,
        decided_by: null,
        comment: null,
        used_at: null,
      };
      await exec.insertInto('approvals').values(row).execute();
      return toApproval(row, t);
    },

    /** Tells the approvers: in-app, email (per their preferences), webhook `approval.requested`. */
    async announce(orgId: OrgId, approval: Approval, agentName: string, policyName: string | null) {
      const action = approval.action as { type?: string };
      const title = `${agentName} asks to ${action.type ?? 'act'}${policyName ? ` (${policyName})` : ''}`;
      await deps.notifications
        .notify(orgId, {
          topic: 'approvals',
          type: 'approval.requested',
          title,
          body: `${approval.message ?? 'A policy requires a person to approve this action.'} Action: ${JSON.stringify(approval.action)}. Expires ${approval.expires_at}.`,
          entityType: 'approval',
          entityId: approval.id,
          webhookEvent: 'approval.requested',
          data: { approval },
        })
        .catch((e: unknown) => deps.log.warn({ err: e }, 'approval notification failed'));
    },

    async list(orgId: OrgId, status: string | undefined, limit: number, cursor?: string) {
      const now = clock();
      let q = db.selectFrom('approvals').selectAll().where('org_id', '=', orgId);
      if (status === 'pending') q = q.where('status', '=', 'pending').where('expires_at', '>', now);
      else if (status === 'expired')
        q = q.where((eb) =>
          eb.or([eb('status', '=', 'expired'), eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)])]),
        );
      else if (status) q = q.where('status', '=', status);
      if (cursor) q = q.where('id', '<', cursor);
      const rows = await q
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      return {
        data: page.map((r) => toApproval(r, now)),
        next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    },

    async get(orgId: OrgId, id: string) {
      const row = await byId(db, orgId, id);
      if (!row) throw notFound('Approval');
      return toApproval(row, clock());
    },

    /** Long-poll: answers as soon as the approval is decided (or expires), at most `seconds` later. */
    async wait(orgId: OrgId, id: string, seconds: number) {
      const first = await this.get(orgId, id);
      if (first.status !== 'pending' || seconds <= 0) return first;
      const untilExpiry = Date.parse(first.expires_at) - clock();
      const ms = Math.max(0, Math.min(seconds * 1000, untilExpiry + 50));
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          decided.off(id, done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        decided.on(id, done);
      });
      return this.get(orgId, id);
    },

    async decide(caller: Caller, id: string, outcome: 'approved' | 'rejected', comment: string | undefined) {
      const t = clock();
      const result = await db.transaction().execute(async (trx) => {
        const row = await byId(trx, caller.orgId, id);
        if (!row) throw notFound('Approval');
        const approvers = JSON.parse(row.approvers) as Approvers;
        assertMayDecide(caller, approvers);
        const res = await trx
          .updateTable('approvals')
          .set({
            status: outcome,
            decided_at: t,
            decided_by: caller.actor.name ?? caller.actor.id,
            comment: comment ?? null,
          })
          .where('org_id', '=', caller.orgId)
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .where('expires_at', '>', t)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) {
          const now = toApproval(row, t);
          throw new AppError('conflict', `This approval is already ${now.status}.`);
        }
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: `approval.${outcome}`,
          entityType: 'approval',
          entityId: id,
          changes: { action: JSON.parse(row.action), policy_id: row.policy_id, agent_id: row.agent_id },
          reason: comment ?? null,
        });
        return toApproval(
          {
            ...row,
            status: outcome,
            decided_at: t,
            decided_by: caller.actor.name ?? caller.actor.id,
            comment: comment ?? null,
          },
          t,
        );
      });
      decided.emit(id);
      await deps.bus.publish('approval.decided', { org_id: caller.orgId, id }).catch(() => {});
      await deps.notifications
        .notify(caller.orgId, {
          topic: 'approvals',
          type: 'approval.decided',
          title: `${caller.actor.name ?? 'Someone'} ${outcome} ${(result.action as { type?: string }).type ?? 'an action'}${comment ? `: ${comment}` : ''}`,
          body: `Approval ${id} was ${outcome}.`,
          entityType: 'approval',
          entityId: id,
          webhookEvent: 'approval.decided',
          data: { approval: result },
        })
        .catch((e: unknown) => deps.log.warn({ err: e }, 'approval notification failed'));
      return result;
    },

    /**
     * The agent's retry with `approval_id`: ALLOW once if it is approved, for this agent and exactly
     * this action; the consumption is a compare-and-set, so two retries cannot both pass.
     */
    async consume(exec: Exec, orgId: OrgId, id: string, agentId: string, actionHash: string) {
      const t = clock();
      const row = await byId(exec, orgId, id);
      if (!row) return { outcome: 'missing' as const };
      if (row.agent_id !== agentId || row.action_hash !== actionHash) return { outcome: 'mismatch' as const, row };
      const state = toApproval(row, t);
      if (state.status !== 'approved') return { outcome: state.status, row };
      if (row.used_at !== null) return { outcome: 'used' as const, row };
      const res = await exec
        .updateTable('approvals')
        .set({ used_at: t })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1
        ? { outcome: 'allowed' as const, row }
        : { outcome: 'used' as const, row };
    },
  };
}
export type ApprovalService = ReturnType<typeof createApprovalService>;

/** Viewers never approve (they lack approvals:decide); the policy may narrow it to roles or a team. */
function assertMayDecide(caller: Caller, approvers: Approvers) {
  if (!caller.permissions.has('approvals:decide'))
    throw new AppError('forbidden', 'Your role cannot decide approvals.');
  if (caller.actor.type === 'api_key') return; // admin/full keys act for the org's administrators
  if (approvers.roles?.length && !approvers.roles.includes(caller.role ?? ''))
    throw new AppError('forbidden', `This approval is for ${approvers.roles.join(' or ')}.`);
  if (
    approvers.team_id &&
    !caller.teamIds.includes(approvers.team_id) &&
    caller.role !== 'owner' &&
    caller.role !== 'admin'
  )
    throw new AppError('forbidden', 'This approval is for another team.');
}
