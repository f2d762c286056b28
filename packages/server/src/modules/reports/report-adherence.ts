/**
 * The report's policy adherence part: for each listed agent, the share of its actions the policy engine
 * evaluated that went through without a block, a rejected approval or a log-only override, with the
 * counts behind it (the formula is the stats module's, docs/policies.md "Adherence"; the figures come
 * with each agent's stats, so this adds no query). Shared by the HTML, the PDF and the text email so
 * every channel says the same thing.
 */
import type { Adherence } from '../stats/index.ts';
import { int, pct } from './report-format.ts';
import type { AgentRow } from './report-types.ts';

export const ADHERENCE_HEAD = ['Agent', 'Adherence', 'Evaluated', 'Blocked', 'Rejected', 'Overridden', 'Waiting'];

export const ADHERENCE_MEANS =
  'Adherence is the share of the actions the policy engine evaluated that went through without a block, a rejected or expired approval, or a log-only rule matching. Approvals still waiting count neither way.';

/** The listed agents that asked the policy engine anything in the period. */
export const adherentAgents = (agents: readonly AgentRow[]) =>
  agents.filter((a) => a.adherence && a.adherence.evaluated + a.adherence.pending > 0);

/** The score as words: "80%", or "-" when nothing was evaluated (only approvals still waiting). */
export const scoreText = (a: Adherence | null) => (a && a.score !== null ? pct(a.score) : '-');

/** One table row per agent: the score and each count behind it. */
export function adherenceRows(agents: readonly AgentRow[]): string[][] {
  return adherentAgents(agents).map((a) => {
    const x = a.adherence!;
    return [a.name, scoreText(x), int(x.evaluated), int(x.blocked), int(x.rejected), int(x.overridden), int(x.pending)];
  });
}

/** The counts of the listed agents summed, and the score they make. */
export function adherenceTotal(agents: readonly AgentRow[]): Adherence {
  const t = { evaluated: 0, adherent: 0, blocked: 0, rejected: 0, overridden: 0, pending: 0 };
  for (const a of adherentAgents(agents)) for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += a.adherence![k];
  return { score: t.evaluated ? t.adherent / t.evaluated : null, ...t };
}

/** The sentence above the table: the listed agents together, or that none asked anything. */
export function adherenceSummary(agents: readonly AgentRow[]): string {
  const t = adherenceTotal(agents);
  if (t.evaluated + t.pending === 0) return 'No agent asked the policy engine about an action in this period.';
  if (t.evaluated === 0)
    return `Nothing evaluated yet: ${int(t.pending)} ${t.pending === 1 ? 'approval is' : 'approvals are'} still waiting.`;
  return `${scoreText(t)} adherent across these agents: ${int(t.adherent)} of ${int(t.evaluated)} evaluated actions went through without a block, a rejection or an override.`;
}
