/**
 * Decide, the second step of an evaluation: pure functions of what gather found. No I/O, no clock of
 * their own (`now` is passed in), so a decision can be read, tested and replayed from its inputs.
 * - `decide`: a hold (emergency control, spent budget) BLOCKs before any rule runs; otherwise the
 *   compiled policy set decides.
 * - `withApproval`: a REQUIRE_APPROVAL decision once the approvals module has settled its approval
 *   (the one brought back was approved, rejected, expired or still pending; or a new one waits).
 * - `answerOf`: the wire answer, exactly the contract's `Decision`.
 */
import type { Decision, DecisionValue, Reason } from '@agentops-hub/contracts';
import type { ApprovalVerdict } from '../approvals/index.ts';
import type { Evaluation, Hold } from './evaluate-gather.ts';
import type { PolicyEngine, RuleMatch } from './policy-engine.ts';

/** The decision of one evaluation, before it is recorded. */
export interface Decided {
  decision: DecisionValue;
  reasons: Reason[];
  monitors: Reason[];
  /** The rule whose approval settings apply (the highest-priority rule of the winning effect). */
  primary: RuleMatch | null;
  /** The context the rules read: the caller's keys, overridden by the hub's (see engine/context.ts). */
  context: Record<string, unknown>;
  /** True when a hold decided (no rule ran, no approval can change it). */
  held: boolean;
}

const NONE: Reason[] = [];

export function decide<Set>(
  ev: Evaluation<Set>,
  engine: Pick<PolicyEngine<Set>, 'evaluate' | 'context'>,
  now: number,
): Decided {
  const { input, settings } = ev;
  // The hub's keys win over the caller's (see engine/context.ts). The engine's object is a fresh one, so
  // without caller keys it is used as it is (one copy fewer per evaluation).
  const hub = engine.context(new Date(now), settings.timezone, ev.agent.environment);
  const context = input.context ? { ...input.context, ...hub } : hub;
  if (ev.hold) return { ...heldBy(ev.hold), context };
  const out = engine.evaluate(ev.set!, { agent: ev.agentView, action: input.action, context }, settings);
  return {
    decision: out.decision,
    reasons: out.reasons.length ? out.reasons.map(reasonOf) : NONE,
    monitors: out.monitors.length ? out.monitors.map(reasonOf) : NONE,
    primary: out.primary,
    context,
    held: false,
  };
}

/** A REQUIRE_APPROVAL decision after `approvals.settle`: the approval's outcome, as a reason when it decided. */
export function withApproval(d: Decided, v: ApprovalVerdict): Decided {
  if (v.outcome === 'pending' || v.outcome === 'requested') return d;
  const reason = { policy_id: v.policyId, name: 'approval', effect: v.outcome };
  return { ...d, decision: v.outcome === 'approved' ? 'ALLOW' : 'BLOCK', reasons: [...d.reasons, reason] };
}

/** The answer on the wire: the contract's `Decision`, optional fields only when present. */
export function answerOf(
  decisionId: string,
  decision: DecisionValue,
  reasons: Reason[],
  more?: { approvalId?: string | null; monitors?: Reason[]; replayed?: boolean; callbackSecret?: string },
): Decision {
  const answer: Decision = { decision, decision_id: decisionId, reasons };
  if (!more) return answer;
  if (more.approvalId) answer.approval_id = more.approvalId;
  if (more.monitors?.length) answer.monitors = more.monitors;
  if (more.replayed) answer.replayed = true;
  if (more.callbackSecret) answer.callback_secret = more.callbackSecret;
  return answer;
}

function heldBy(hold: Hold): Omit<Decided, 'context'> {
  const effect = hold.mode === 'failsafe' ? 'failsafe' : 'block';
  return {
    decision: 'BLOCK',
    reasons: [{ policy_id: null, name: hold.reason, effect, message: hold.message }],
    monitors: NONE,
    primary: null,
    held: true,
  };
}

// A rule's match is reused by the engine for every evaluation it matches (frozen); its reason is made
// once. Matches that failed closed carry their own unknown_fields and are made per evaluation.
const reasons = new WeakMap<RuleMatch, Reason>();

/** The contract's `Reason` of a rule match: without the rule's approval settings, which are not a reason. */
function reasonOf(m: RuleMatch): Reason {
  if (m.unknown_fields !== undefined) return { ...toReason(m), unknown_fields: m.unknown_fields };
  let r = reasons.get(m);
  if (!r) {
    r = toReason(m);
    reasons.set(m, r);
  }
  return r;
}

function toReason(m: RuleMatch): Reason {
  const r: Reason = { policy_id: m.policy_id, name: m.name, effect: m.effect };
  if (m.message !== undefined) r.message = m.message;
  if (m.priority !== undefined) r.priority = m.priority;
  return r;
}
