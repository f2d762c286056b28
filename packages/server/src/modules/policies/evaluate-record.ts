/**
 * Record, the last step of an evaluation: every decision is kept (inputs, reasons, latency), linked to
 * its run, and answered only once it is durable.
 * - A plain decision (ALLOW, no monitor, no approval brought back: the usual case, with or without an
 *   idempotency key) joins its neighbours' in one group commit, and nothing else is written.
 * - Any other decision is written in its own transaction with its audit entry; a REQUIRE_APPROVAL one
 *   first enters the approvals module once (`approvals.settle`), which uses the approval brought back or
 *   asks for a new one. Its approvers are told after the commit. The row keeps that approval's status
 *   and expiry, which the approvals module updates later through `recordApprovalOutcome`.
 * - A call with an idempotency key that was answered before gets that answer again (`replayed: true`). The
 *   key is not looked up first: the call is decided as any other, and the key's unique index refuses its row
 *   (nothing of it is kept, its transaction rolls back), so a retry costs one evaluation, and every first
 *   call (the SDK and the MCP gateway send a key with each) saves a read before its decision.
 * - What is kept of the action follows the agent's capture level (privacy module): the decision row, the
 *   approval and the audit entry keep the redacted action (`type` as sent) and the caller's context keys
 *   redacted, while the decision and the approval's hash were made on the whole action. An org with the
 *   default settings has no redactor, and the plain path then does no extra work.
 */
import type { Decision, DecisionValue, Reason } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { Exec } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { MaybePromise } from '../../platform/maybe-promise.ts';
import type { ApprovalService, ApprovalVerdict } from '../approvals/index.ts';
import { keptAction, keptContext, type Redactor } from '../privacy/index.ts';
import { type DecisionRow, type DecisionStore, IdempotencyKeyTaken } from './decisions.store.ts';
import { answerOf, type Decided, withApproval } from './evaluate-decide.ts';
import type { Evaluation } from './evaluate-gather.ts';
import type { PolicyEngine } from './policy-engine.ts';
import { storedJson, storedValue } from './stored-action.ts';

/** A policy that sets no `approval_timeout_s`: its approvals expire after 24 hours. */
const DEFAULT_APPROVAL_TIMEOUT_S = 24 * 3600;

export interface RecordDeps {
  db: Kysely<Database>;
  decisions: DecisionStore;
  approvals: Pick<ApprovalService, 'settle'>;
  audit: AuditStore;
  engine: Pick<PolicyEngine<unknown>, 'actionHash'>;
  /** Counts the rules that matched (advisory hit counts, written later). */
  countHits: (orgId: OrgId, matched: readonly Reason[], now: number) => void;
  /** The org's redactor (null: keep as sent); from memory after an org's first call. */
  privacy?: { redactorFor(orgId: OrgId): MaybePromise<Redactor | null> };
}

export function createRecord(deps: RecordDeps) {
  const { db, decisions } = deps;

  /** Records `d` and answers `ev.done`. */
  function record<Set>(ev: Evaluation<Set>, d: Decided, now: number): void {
    const red = deps.privacy ? deps.privacy.redactorFor(ev.caller.orgId) : null;
    // Only an org's first call after a start or a settings change waits for its redactor to load.
    if (red instanceof Promise) red.then((r) => recordWith(ev, d, now, r), ev.done);
    else recordWith(ev, d, now, red);
  }

  function recordWith<Set>(ev: Evaluation<Set>, d: Decided, now: number, red: Redactor | null): void {
    const decisionId = newId('dec', now);
    const { input } = ev;
    if (d.decision === 'ALLOW' && !d.monitors.length && !input.approval_id) {
      // Plain: nothing to audit, no approval. Grouped with its neighbours' in one commit, with or without an
      // idempotency key (the SDK and the MCP gateway send one with every call). Two calls with the same key
      // at once both reach here; the key's unique index fails the later row (group commit then retries each
      // submission alone, so only that one fails), and that caller answers what the first one decided.
      const key = input.idempotency_key;
      decisions.submit(decisionRow(ev, d, decisionId, null, now, kept(red, ev)), (error) => {
        if (error !== undefined) {
          if (!key || !isKeyTaken(error)) return ev.done(error);
          priorAnswer(ev).then((prior) => (prior ? ev.done(null, prior) : ev.done(error)), ev.done);
          return;
        }
        deps.countHits(ev.caller.orgId, d.reasons, now);
        ev.done(null, answerOf(decisionId, d.decision, d.reasons));
      });
      return;
    }
    recordGuarded(ev, d, decisionId, now, kept(red, ev)).then((answer) => ev.done(null, answer), ev.done);
  }

  /** A decision that involves an approval, a block or a monitor: recorded with its audit entry in one transaction. */
  async function recordGuarded<Set>(ev: Evaluation<Set>, decided: Decided, decisionId: string, now: number, k: Kept) {
    const orgId = ev.caller.orgId;
    let written: { d: Decided; verdict: ApprovalVerdict | null };
    try {
      written = await db.transaction().execute((trx) => writeGuarded(trx, ev, decided, decisionId, now, k));
    } catch (e) {
      // The key was answered before (a retry, or the same call twice at once): that answer is given again.
      if (ev.input.idempotency_key && isKeyTaken(e)) {
        const prior = await priorAnswer(ev);
        if (prior) return prior;
      }
      throw e;
    }
    const { d, verdict } = written;
    deps.countHits(orgId, d.reasons, now);
    deps.countHits(orgId, d.monitors, now);
    verdict?.announce?.(); // committed: the approvers may be told
    return answerOf(decisionId, d.decision, d.reasons, {
      approvalId: verdict?.approvalId,
      monitors: d.monitors,
      callbackSecret: d.decision === 'REQUIRE_APPROVAL' ? verdict?.callbackSecret : undefined,
    });
  }

  /** Inside the transaction: the approval (one call into approvals), the decision row, the audit entry. */
  async function writeGuarded<Set>(
    trx: Exec,
    ev: Evaluation<Set>,
    decided: Decided,
    decisionId: string,
    now: number,
    k: Kept,
  ) {
    const { caller, input, agent } = ev;
    const orgId = caller.orgId;
    let d = decided;
    let verdict: ApprovalVerdict | null = null;
    if (d.decision === 'REQUIRE_APPROVAL' && !d.held) {
      const { primary } = d;
      verdict = await deps.approvals.settle(trx, orgId, {
        broughtBack: input.approval_id ?? null,
        callbackUrl: input.callback_url ?? null,
        request: {
          policyId: primary?.policy_id ?? null,
          policyName: primary?.name ?? null,
          agentId: agent.id,
          agentName: agent.name,
          runId: input.run_id ?? null,
          decisionId,
          action: storedValue(k.action ?? input.action), // what approvers see; the hash binds the full action
          actionHash: deps.engine.actionHash(agent.id, input.action),
          approvers: primary?.approvers ?? {},
          message: primary?.message ?? null,
          timeoutS: primary?.approval_timeout_s ?? DEFAULT_APPROVAL_TIMEOUT_S,
          requestedBy: caller.actor,
        },
      });
      d = withApproval(d, verdict);
    }
    const approvalId = verdict?.approvalId ?? null;
    const { org_id: _org, ...row } = decisionRow(ev, d, decisionId, approvalId, now, k);
    // The approval's state as the row's own fact (adherence reads it; decision-adherence.ts keeps it current).
    const stored = verdict?.stored;
    await decisions
      .forOrg(orgId, trx)
      .insert(stored ? { ...row, approval_status: stored.status, approval_expires_at: stored.expiresAt } : row);
    // Blocks and approvals are what an auditor looks for; allows stay in the decisions table.
    if (d.decision !== 'ALLOW' || d.monitors.length)
      await deps.audit.append(trx, orgId, {
        actor: caller.actor,
        action: `policy.decision.${d.decision.toLowerCase()}`,
        entityType: 'decision',
        entityId: decisionId,
        changes: {
          agent: agent.name,
          action: storedValue(k.action ?? input.action),
          reasons: d.reasons,
          monitors: d.monitors,
          approval_id: approvalId,
          run_id: input.run_id ?? null,
        },
      });
    return { d, verdict };
  }

  /**
   * The answer already given for the call's idempotency key, replayed; null when there is none. A retry that
   * brings a `callback_url` to an approval that still waits has it stored on that approval.
   */
  async function priorAnswer<Set>(ev: Evaluation<Set>): Promise<Decision | null> {
    const orgId = ev.caller.orgId;
    const prior = await decisions.forOrg(orgId).byIdempotencyKey(ev.input.idempotency_key!);
    if (!prior) return null;
    const answer = answerOf(prior.id, prior.decision as DecisionValue, JSON.parse(prior.reasons) as Reason[], {
      approvalId: prior.approval_id,
      replayed: true,
    });
    const url = ev.input.callback_url;
    if (url && prior.decision === 'REQUIRE_APPROVAL' && prior.approval_id) {
      const v = await deps.approvals.settle(db, orgId, { waitOn: prior.approval_id, callbackUrl: url });
      answer.callback_secret = v.callbackSecret;
    }
    return answer;
  }

  return { record };
}

/** The error of a decision row whose idempotency key another row of the org already holds (either database). */
function isKeyTaken(e: unknown): boolean {
  return e instanceof IdempotencyKeyTaken || /unique|duplicate key/i.test(String((e as Error)?.message));
}

/** What a decision keeps of the action (null: as sent), and the redactor its context goes through. */
interface Kept {
  action: Record<string, unknown> | null;
  red: Redactor | null;
}
const AS_SENT: Kept = { action: null, red: null };

/** The action as the agent's capture level keeps it, redacted once (a module function: no closure per call). */
function kept<Set>(red: Redactor | null, ev: Evaluation<Set>): Kept {
  return red === null ? AS_SENT : { action: keptAction(red, ev.agent.id, ev.input.action), red };
}

/** The decisions row (a module function, not a closure per request). */
function decisionRow<Set>(
  ev: Evaluation<Set>,
  d: Decided,
  decisionId: string,
  approvalId: string | null,
  now: number,
  k: Kept,
): DecisionRow {
  const { input } = ev;
  return {
    id: decisionId,
    org_id: ev.caller.orgId,
    agent_id: ev.agent.id,
    run_id: input.run_id ?? null,
    action_type: input.action.type,
    // Bounded (stored-action.ts): the decision was made on the full action.
    action: storedJson(k.action ?? input.action),
    // The hub's keys (hour, weekday, …) stay; the caller's own keys are content like the action's.
    context: storedJson(k.red && input.context ? keptContext(k.red, ev.agent.id, d.context) : d.context),
    decision: d.decision,
    reasons: d.reasons.length ? JSON.stringify(d.reasons) : '[]',
    monitors: d.monitors.length ? JSON.stringify(d.monitors) : '[]',
    approval_id: approvalId,
    idempotency_key: input.idempotency_key ?? null,
    latency_us: Number((process.hrtime.bigint() - ev.started) / 1000n),
    created_at: now,
  };
}
