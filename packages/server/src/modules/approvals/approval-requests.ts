/**
 * The evaluator's one way into approvals: `settle(exec, orgId, ask)`, called once per evaluation whose
 * policy decision is REQUIRE_APPROVAL, inside the transaction that records the decision. It uses the
 * approval the agent brought back (`approval_id`) when that one is approved for this agent and exactly
 * this action, or keeps waiting on it while it is pending, or asks for a new one; it stores the agent's
 * `callback_url` on the approval that is waited on. The approvers are told after the transaction
 * commits (`announce` in the answer), so nobody is told of an approval that was rolled back.
 *
 * @example
 * const verdict = await approvals.settle(trx, orgId, { broughtBack: input.approval_id ?? null, request, callbackUrl });
 * // after commit:
 * verdict.announce?.();
 */
import type { Actor } from '@agentops-hub/contracts';
import { newId } from '../../db/ids.ts';
import type { Exec } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { JobRunner } from '../../platform/jobs/job-runner.ts';
import type { Approval, toApproval } from './approval-dto.ts';
import { APPROVAL_QUEUES } from './approval-jobs.ts';
import { callbackSecret } from './approval-links.ts';
import type { ApprovalStore, Approvers } from './approvals.store.ts';

/** Escalation settings of the rule that created an approval. */
export interface EscalationRule {
  escalate_after_s?: number;
  escalate_to?: Approvers;
}

/** A new approval, as a REQUIRE_APPROVAL decision asks for it. */
export interface ApprovalRequest {
  policyId: string | null;
  /** For the approvers' notification title. */
  policyName: string | null;
  agentId: string;
  agentName: string;
  runId: string | null;
  decisionId: string;
  /** What approvers see (bounded); `actionHash` binds the full action. */
  action: unknown;
  actionHash: string;
  approvers: Approvers;
  message: string | null;
  timeoutS: number;
  /** Who evaluated: a key is remembered (it reads its own approvals and may not decide them). */
  requestedBy?: Actor;
}

export type ApprovalAsk =
  /** A REQUIRE_APPROVAL decision: the approval brought back if it can be used, else `request`. */
  | { broughtBack: string | null; request: ApprovalRequest; callbackUrl: string | null }
  /** A replayed REQUIRE_APPROVAL answer (idempotency key): only the callback URL is stored on it. */
  | { waitOn: string; callbackUrl: string };

/**
 * What became of the approval part of a decision.
 * - `approved`: the brought-back approval is used now (ALLOW, once).
 * - `rejected` / `expired`: the brought-back approval says no (BLOCK).
 * - `pending`: still waiting on the brought-back approval (REQUIRE_APPROVAL, the same id).
 * - `requested`: a new approval waits (REQUIRE_APPROVAL, a new id).
 */
export interface ApprovalVerdict {
  outcome: 'approved' | 'rejected' | 'expired' | 'pending' | 'requested';
  approvalId: string;
  /** The policy of the approval that decided (the brought-back one's, or the request's). */
  policyId: string | null;
  /** The key of the callback's signature, when a `callbackUrl` was given and the approval is waited on. */
  callbackSecret?: string;
  /** Tells the approvers of a new approval; call it once the transaction has committed. */
  announce: (() => void) | null;
  /**
   * The approval as stored now, which the decision row keeps (its adherence is read from there): its
   * status (`pending` still when its time ran out and the expiry job has not run) and `expires_at`.
   * Absent for a replay (`waitOn`), which records no decision.
   */
  stored?: { status: string; expiresAt: number };
}

export function createApprovalRequests(deps: {
  store: ApprovalStore;
  jobs: Pick<JobRunner, 'send'>;
  ruleOf?: (exec: Exec, orgId: OrgId, policyId: string) => Promise<EscalationRule | null>;
  toApproval: typeof toApproval;
  announce: (orgId: OrgId, approval: Approval, agentName: string, policyName: string | null) => Promise<void>;
  enqueueCallback: (exec: Exec, orgId: OrgId, id: string) => Promise<string>;
  linkSecret: Buffer;
  clock: () => number;
}) {
  const { store, clock } = deps;

  /** Inserts a pending approval and its durable expiry (and escalation) jobs, in `exec`'s transaction. */
  async function request(exec: Exec, orgId: OrgId, a: ApprovalRequest, callbackUrl: string | null) {
    const t = clock();
    const rule = a.policyId && deps.ruleOf ? await deps.ruleOf(exec, orgId, a.policyId) : null;
    // Validation keeps escalate_after_s below the timeout; re-checked because the default timeout
    // (no approval_timeout_s) is the evaluator's, not the rule's.
    const escalateAt =
      rule?.escalate_after_s && rule.escalate_to && rule.escalate_after_s < a.timeoutS
        ? t + rule.escalate_after_s * 1000
        : null;
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
      escalate_to: escalateAt ? JSON.stringify(rule!.escalate_to) : null,
      escalate_at: escalateAt,
      escalated_at: null,
      callback_url: callbackUrl,
      requested_by_key_id: a.requestedBy?.type === 'api_key' ? a.requestedBy.id : null,
      decided_by_type: null,
      decided_by_id: null,
    };
    const { org_id: _org, ...fields } = row;
    await store.forOrg(orgId, exec).insert(fields);
    // Durable and in the same transaction: a crash cannot leave an approval that never expires.
    const job = { orgId, id: row.id };
    await deps.jobs.send(APPROVAL_QUEUES.expire, job, {
      exec,
      runAt: row.expires_at,
      singletonKey: `${APPROVAL_QUEUES.expire}:${row.id}`,
    });
    if (escalateAt)
      await deps.jobs.send(APPROVAL_QUEUES.escalate, job, {
        exec,
        runAt: escalateAt,
        singletonKey: `${APPROVAL_QUEUES.escalate}:${row.id}`,
      });
    return { approval: deps.toApproval(row, t), stored: { status: row.status, expiresAt: row.expires_at } };
  }

  /**
   * The approval brought back, judged for this agent and action: used now when approved (a
   * compare-and-set, so two retries cannot both pass), or its state; null when it cannot stand for this
   * action at all (missing, another agent's or action's, already used), so a new one is asked for.
   */
  async function judge(exec: Exec, orgId: OrgId, id: string, agentId: string, actionHash: string) {
    const t = clock();
    const approvals = store.forOrg(orgId, exec);
    // Held before it is read: a decision or an expiry of it at the same moment then commits wholly before
    // this read or after this transaction, and so updates the decision row written here too.
    await approvals.hold(id);
    const row = await approvals.get(id);
    if (!row || row.agent_id !== agentId || row.action_hash !== actionHash) return null;
    const status = deps.toApproval(row, t).status;
    const stored = { status: row.status, expiresAt: Number(row.expires_at) };
    if (status !== 'approved') return { status, policyId: row.policy_id, stored };
    if (row.used_at !== null || !(await approvals.use(id, t))) return null;
    return { status, policyId: row.policy_id, stored };
  }

  /**
   * Stores the agent's callback URL (the first one wins) and answers the secret that signs the callback.
   * An approval decided before the URL arrived is called back at once.
   */
  async function attach(exec: Exec, orgId: OrgId, id: string, url: string) {
    const row = await store.forOrg(orgId, exec).attachCallback(id, url);
    // Still pending: the decision or the expiry job will see the URL (both read it in their update).
    if (row && row.status !== 'pending') await deps.enqueueCallback(exec, orgId, id);
    return callbackSecret(deps.linkSecret, id);
  }

  return async function settle(exec: Exec, orgId: OrgId, ask: ApprovalAsk): Promise<ApprovalVerdict> {
    if ('waitOn' in ask) {
      const secret = await attach(exec, orgId, ask.waitOn, ask.callbackUrl);
      return { outcome: 'pending', approvalId: ask.waitOn, policyId: null, callbackSecret: secret, announce: null };
    }
    const { request: r, callbackUrl } = ask;
    const back = ask.broughtBack ? await judge(exec, orgId, ask.broughtBack, r.agentId, r.actionHash) : null;
    if (back && back.status !== 'pending')
      return {
        outcome: back.status,
        approvalId: ask.broughtBack!,
        policyId: back.policyId,
        announce: null,
        stored: back.stored,
      };
    if (back) {
      // Still waiting: the same approval, not a new one.
      const secret = callbackUrl ? await attach(exec, orgId, ask.broughtBack!, callbackUrl) : undefined;
      return {
        outcome: 'pending',
        approvalId: ask.broughtBack!,
        policyId: back.policyId,
        callbackSecret: secret,
        announce: null,
        stored: back.stored,
      };
    }
    const { approval, stored } = await request(exec, orgId, r, callbackUrl);
    return {
      outcome: 'requested',
      approvalId: approval.id,
      policyId: r.policyId,
      callbackSecret: callbackUrl ? callbackSecret(deps.linkSecret, approval.id) : undefined,
      announce: () => void deps.announce(orgId, approval, r.agentName, r.policyName),
      stored,
    };
  };
}
