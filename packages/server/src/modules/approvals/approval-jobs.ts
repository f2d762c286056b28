/**
 * The approval flow's durable jobs, enqueued in the evaluation's transaction by `create`:
 * - `approval.escalate` at requested_at + escalate_after_s: a still-pending approval is widened to its
 *   `escalate_to` approvers, who are told (same signed email links), audited `approval.escalated`.
 * - `approval.expire` at expires_at: a still-pending approval becomes `expired` (reads already treat it
 *   so; this makes it a stored fact and tells people), audited `approval.expired`, webhook
 *   `approval.decided` with status expired.
 * - `approval.callback`: POSTs `{event: "approval.decided", approval}` to the agent's `callback_url`,
 *   signed `X-Hub-Signature-256` with the per-approval callback secret, through the egress guard (no
 *   loopback, private or metadata targets unless HUB_EGRESS_ALLOW allows them); retried by the job runner.
 * Every step is a compare-and-set on the approval's state, and each job has a singleton key per
 * approval, so a retried or duplicated job changes nothing twice.
 */
import type { Kysely, Selectable } from 'kysely';
import type { ApprovalsTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import { type OrgId, SYSTEM_ACTOR } from '../../platform/caller.ts';
import { createEgressGuard, type EgressGuard } from '../../platform/egress/egress.ts';
import { type Exec, type JobRunner, RetryAt } from '../../platform/jobs/job-runner.ts';
import { workForOrg } from '../../platform/jobs/org-jobs.system.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import { SIGNATURE_HEADER, signPayload } from '../../platform/webhooks/webhook-signature.ts';
import { callbackSecret } from './approval-links.ts';
import type { ApprovalNotifier } from './approval-notifier.ts';
import type { ApprovalStore, Approvers } from './approvals.store.ts';

export const APPROVAL_QUEUES = {
  escalate: 'approval.escalate',
  expire: 'approval.expire',
  callback: 'approval.callback',
} as const;

/** What every approval job carries: the approval, and the org it belongs to (written by `settle`). */
interface ApprovalJob {
  orgId: string;
  id: string;
}
const orgOf = (job: ApprovalJob) => job.orgId;

export function registerApprovalJobs<A extends { id: string; action: unknown; expires_at: string }>(deps: {
  db: Kysely<Database>;
  audit: AuditStore;
  jobs: Pick<JobRunner, 'work'>;
  notifications: Pick<NotificationService, 'notify'>;
  store: ApprovalStore;
  notifier: ApprovalNotifier;
  linkSecret: Buffer;
  clock: () => number;
  log: { warn(o: unknown, m?: string): void };
  wake(orgId: OrgId, id: string): Promise<void>;
  enqueueCallback(exec: Exec, orgId: OrgId, id: string): Promise<string>;
  /** The decisions naming the approval keep its outcome (approvals.service.ts, `onOutcome`). */
  onOutcome(exec: Exec, orgId: OrgId, approvalId: string, status: 'expired'): Promise<void>;
  toApproval(row: Selectable<ApprovalsTable>, now: number): A & { approvers: Approvers; message: string | null };
  /**
   * The callback POST goes through it (SSRF guard). context.ts passes the hub's guard, with the
   * operator's HUB_EGRESS_ALLOW, in the approval service's deps; without one the strictest guard is used
   * (no internal address at all), so a missing wire fails closed.
   */
  egress?: Pick<EgressGuard, 'post'>;
}) {
  const { db, audit, clock } = deps;
  const egress = deps.egress ?? createEgressGuard();
  const actionType = (a: { action: unknown }) => (a.action as { type?: string }).type ?? 'an action';

  // System jobs: the org comes from the job written with the approval, made an OrgId by workForOrg
  // (platform/jobs/org-jobs.system.ts), the one place a job's org is trusted.
  workForOrg(deps.jobs, APPROVAL_QUEUES.escalate, orgOf, async (orgId, { id }) => {
    const row = await deps.store.forOrg(orgId).get(id);
    if (row?.status !== 'pending' || row.escalated_at != null || !row.escalate_to) return;
    const t = clock();
    if (Number(row.expires_at) <= t) return; // expired first: the expiry job speaks for it
    if (row.escalate_at != null && Number(row.escalate_at) > t)
      throw new RetryAt('not due yet', Number(row.escalate_at));
    const before = deps.toApproval(row, t);
    const wider = JSON.parse(row.escalate_to) as Approvers;
    // Tell only the newly added people: the first approvers already have their links.
    const told = new Set((await deps.store.forOrg(orgId).recipients(before.approvers)).map((p) => p.user_id));
    const added = (await deps.store.forOrg(orgId).recipients(wider)).filter((p) => !told.has(p.user_id));
    const planned = await deps.notifier.plan(orgId, added); // before the transaction (see the notifier)
    const approval = { ...before, escalated_at: new Date(t).toISOString() };
    await db.transaction().execute(async (trx) => {
      const widened = await deps.store.forOrg(orgId, trx).escalate(id, t);
      if (!widened) return; // decided meanwhile, or another process won
      await audit.append(trx, orgId, {
        actor: SYSTEM_ACTOR,
        action: 'approval.escalated',
        entityType: 'approval',
        entityId: id,
        changes: { approvers: before.approvers, escalate_to: wider, notified: added.map((p) => p.user_id) },
        reason: null,
      });
      await deps.notifier.write(trx, orgId, approval, planned, {
        type: 'approval.escalated',
        title: `Escalated: ${actionType(before)} still waits for an approval`,
        body: `${before.message ?? 'A policy requires a person to approve this action.'} Nobody decided in time, so you are now asked too. Action: ${JSON.stringify(before.action)}. Expires ${before.expires_at}.`,
      });
    });
  });

  workForOrg(deps.jobs, APPROVAL_QUEUES.expire, orgOf, async (orgId, { id }) => {
    const t = clock();
    const expired = await db.transaction().execute(async (trx) => {
      const row = await deps.store.forOrg(orgId, trx).get(id);
      if (row?.status !== 'pending') return null; // decided (or deleted with its org)
      // Another process's clock may run early: come back when it is really due.
      if (Number(row.expires_at) > t) throw new RetryAt('not due yet', Number(row.expires_at));
      const updated = await deps.store.forOrg(orgId, trx).expire(id);
      if (!updated) return null;
      await deps.onOutcome(trx, orgId, id, 'expired');
      await audit.append(trx, orgId, {
        actor: SYSTEM_ACTOR,
        action: 'approval.expired',
        entityType: 'approval',
        entityId: id,
        changes: { action: JSON.parse(row.action), policy_id: row.policy_id, agent_id: row.agent_id },
        reason: 'nobody decided before it expired',
      });
      if (updated.callback_url) await deps.enqueueCallback(trx, orgId, id);
      return deps.toApproval({ ...row, status: 'expired', callback_url: updated.callback_url }, t);
    });
    if (!expired) return;
    await deps.wake(orgId, id);
    // Told to the people who were asked (in-app and email per their settings) and to the webhooks.
    const asked = await deps.store.forOrg(orgId).recipients(expired.approvers);
    await deps.notifications
      .notify(orgId, {
        topic: 'approvals',
        type: 'approval.decided',
        title: `Nobody decided in time: ${actionType(expired)} expired and is blocked`,
        body: `Approval ${id} expired at ${expired.expires_at}; the agent's action is blocked.`,
        entityType: 'approval',
        entityId: id,
        webhookEvent: 'approval.decided',
        data: { approval: expired },
        userIds: asked.map((p) => p.user_id),
      })
      .catch((e: unknown) => deps.log.warn({ err: e }, 'approval expiry notification failed'));
  });

  workForOrg(
    deps.jobs,
    APPROVAL_QUEUES.callback,
    orgOf,
    async (orgId, { id }) => {
      const row = await deps.store.forOrg(orgId).get(id);
      if (!row?.callback_url) return;
      const body = JSON.stringify({ event: 'approval.decided', approval: deps.toApproval(row, clock()) });
      const res = await egress.post(row.callback_url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'AgentOps-Hub-Callbacks/1',
          'X-Hub-Event': 'approval.decided',
          [SIGNATURE_HEADER]: signPayload(callbackSecret(deps.linkSecret, id), body),
        },
        body,
      });
      // A failure throws: the job runner retries with backoff, then records it as failed. The reason is
      // the guard's own words (refused, timed out, HTTP 500), never what the target answered.
      if (!res.ok) throw new Error(`callback failed: ${res.error}`);
    },
    { concurrency: 4, leaseMs: 60_000 },
  );
}
