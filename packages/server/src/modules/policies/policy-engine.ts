/**
 * What the evaluator and the simulator need from the policy engine (engine/, wired in context.ts): a
 * compiled set per org, a decision over it, the hub's context keys and the hash that binds an approval
 * to an exact action. A port, so evaluate.service.ts reads without the engine's internals.
 */
import type { DecisionValue, Reason } from '@agentops-hub/contracts';
import type { Approvers } from '../approvals/index.ts';

/** A rule that matched, as the engine reports it: a `Reason` plus the rule's approval settings. */
export interface RuleMatch extends Reason {
  policy_id: string;
  approvers?: Approvers;
  approval_timeout_s?: number;
}

export interface PolicyEngine<Set> {
  compile(policies: { id: string; name: string; priority: number; status: string; rule: unknown }[]): Set;
  evaluate(
    set: Set,
    input: { agent: Record<string, unknown>; action: Record<string, unknown>; context: Record<string, unknown> },
    opts: { defaultDeny: boolean },
  ): {
    decision: DecisionValue;
    reasons: readonly RuleMatch[];
    /** The highest-priority rule of the winning effect (its message and approvers are used). */
    primary: RuleMatch | null;
    monitors: readonly RuleMatch[];
  };
  actionHash(agentId: string, action: unknown): string;
  /** The hub's context keys (hour, weekday, date, environment): a new object per call, the caller's to keep. */
  context(now: Date, timezone: string, environment: string): Record<string, unknown>;
}
