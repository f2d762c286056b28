/**
 * Adherence in words for the agent page: the score and the counts behind it (docs/policies.md, section
 * Adherence, has the formula). The score is floored to one decimal, never rounded up, so one block in
 * 900 actions reads 99.8%, not 100%: "100%" is kept for an agent nothing stopped.
 */
import type { Adherence } from '@agentops-hub/contracts';

/** The score as a percentage, or "—" when no action was evaluated. */
export function adherenceScore(a: Pick<Adherence, 'score'>): string {
  if (a.score === null) return '—';
  return `${Math.floor(a.score * 1000) / 10}%`;
}

/** "47 of 50 checked actions went through cleanly · 2 blocked · 1 rejected", or why there is no score. */
export function adherenceCounts(a: Adherence): string {
  const waiting = a.pending ? ` · ${a.pending} awaiting a decision (not counted yet)` : '';
  if (a.evaluated === 0) return `No action was checked by a policy in this range${waiting}.`;
  const parts = [
    `${a.adherent} of ${a.evaluated} checked ${a.evaluated === 1 ? 'action' : 'actions'} went through cleanly`,
    a.blocked ? `${a.blocked} blocked` : '',
    a.rejected ? `${a.rejected} rejected or expired` : '',
    a.overridden ? `${a.overridden} matched a monitor-only rule` : '',
  ].filter(Boolean);
  return `${parts.join(' · ')}${waiting}`;
}

/** The one-line explanation shown under the score. */
export const ADHERENCE_EXPLAINED =
  'The share of the actions this agent asked the policy engine about that went through without a block, a rejected or expired approval, or a monitor-only rule matching. An action a person approved counts as adherent.';
