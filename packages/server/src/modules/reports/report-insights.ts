/**
 * The "what changed" section: a few sentences computed from the period against the one before it,
 * each naming the figure and who drove it. A rule says nothing when its change is small or rests on
 * too few runs to mean anything, so a quiet week reads as quiet.
 *
 * @example
 * // cost 1.00 → 1.40, SupportBot +0.35 of it:
 * // "Cost up 40% on the previous period ($1.40 vs $1.00), driven by SupportBot (+$0.35)."
 */

import { change, duration, int, pct, usd } from './report-format.ts';
import type { ReportData } from './report-types.ts';

/** A cost change smaller than this (in percent) is not news. */
const COST_CHANGE_PCT = 20;
/** Failure-rate rules need this many finished runs in the period. */
const MIN_RUNS = 5;
/** Adherence rules need this many evaluated actions in both periods, and a fall of this much (0..1). */
const MIN_EVALUATED = 5;
const ADHERENCE_DROP = 0.1;
const MAX_INSIGHTS = 8;
const PERIOD_WORD: Record<string, string> = { day: 'daily', week: 'weekly', month: 'monthly' };

export function computeInsights(d: ReportData, opts: { dayMs: number }): string[] {
  const out: string[] = [];
  const t = d.totals;

  // Cost, with the agent whose spend moved most in the same direction.
  const delta = t.cost_usd - t.prev_cost_usd;
  if (t.prev_cost_usd > 0 && Math.abs(delta) >= 0.01 && Math.abs(t.cost_change_pct ?? 0) >= COST_CHANGE_PCT) {
    const up = delta > 0;
    const driver = [...d.agents]
      .map((a) => ({ a, dd: a.cost_usd - a.prev_cost_usd }))
      .filter((x) => (up ? x.dd > 0 : x.dd < 0))
      .sort((x, y) => Math.abs(y.dd) - Math.abs(x.dd))[0];
    const by = driver ? `, driven by ${driver.a.name} (${driver.dd > 0 ? '+' : '-'}${usd(Math.abs(driver.dd))})` : '';
    out.push(
      `Cost ${up ? 'up' : 'down'} ${change(Math.abs(t.cost_change_pct ?? 0)).replace('+', '')} on the previous period (${usd(t.cost_usd)} vs ${usd(t.prev_cost_usd)})${by}.`,
    );
  } else if (t.prev_cost_usd === 0 && t.cost_usd > 0) {
    const top = [...d.agents].sort((a, b) => b.cost_usd - a.cost_usd)[0];
    const share = top && t.cost_usd > 0 ? top.cost_usd / t.cost_usd : 0;
    out.push(
      `First spend in this range: ${usd(t.cost_usd)}${top && top.cost_usd > 0 ? `, ${pct(share)} of it by ${top.name}` : ''} (nothing the period before).`,
    );
  }

  // Failure rates: doubled (or new) per agent, with the counts behind them.
  for (const a of d.agents) {
    const finished = a.completed + a.failed;
    if (finished < MIN_RUNS || a.failed === 0) continue;
    const before = a.prev_failure_rate;
    if (before > 0 && a.failure_rate >= 2 * before && a.failure_rate - before >= 0.05) {
      const factor = a.failure_rate / before;
      const word = factor >= 2.95 ? `rose ${factor.toFixed(1)}x` : 'doubled';
      out.push(
        `Failure rate of ${a.name} ${word}: ${pct(before)} to ${pct(a.failure_rate)} (${int(a.failed)} of ${int(finished)} runs failed).`,
      );
    } else if (before === 0 && a.prev_runs > 0 && a.failure_rate >= 0.1) {
      out.push(
        `${a.name} started failing: ${pct(a.failure_rate)} of its runs failed (${int(a.failed)} of ${int(finished)}), none the period before.`,
      );
    } else if (a.prev_runs === 0 && a.failure_rate >= 0.1) {
      out.push(`${a.name} failed ${int(a.failed)} of ${int(finished)} runs (${pct(a.failure_rate)}).`);
    } else if (before > 0 && a.failure_rate <= before / 2 && before - a.failure_rate >= 0.05) {
      out.push(`Failure rate of ${a.name} halved: ${pct(before)} to ${pct(a.failure_rate)}.`);
    }
  }

  // Adherence that fell, with the counts behind the new score.
  for (const a of d.agents) {
    const now = a.adherence;
    const before = a.prev_adherence;
    if (now?.score == null || before?.score == null) continue;
    if (now.evaluated < MIN_EVALUATED || before.evaluated < MIN_EVALUATED) continue;
    if (before.score - now.score >= ADHERENCE_DROP)
      out.push(
        `Adherence of ${a.name} fell from ${pct(before.score)} to ${pct(now.score)}: of ${int(now.evaluated)} evaluated actions, ${int(now.blocked)} blocked, ${int(now.rejected)} rejected, ${int(now.overridden)} overridden.`,
      );
  }

  // Run volume.
  if (t.prev_runs >= 10 && t.runs > 0) {
    const c = ((t.runs - t.prev_runs) / t.prev_runs) * 100;
    if (Math.abs(c) >= 50)
      out.push(`Runs ${c > 0 ? 'up' : 'down'} ${Math.abs(Math.round(c))}%: ${int(t.runs)} vs ${int(t.prev_runs)}.`);
  }
  const fresh = d.agents.filter((a) => a.prev_runs === 0 && a.runs > 0);
  if (fresh.length && t.prev_runs > 0)
    out.push(
      `New this period: ${fresh
        .slice(0, 3)
        .map((a) => `${a.name} (${int(a.runs)} runs)`)
        .join(', ')}${fresh.length > 3 ? ` and ${fresh.length - 3} more` : ''}.`,
    );

  // Approvals that wait longer than a day.
  const stale = d.approvals.pending.filter((a) => a.waiting_ms > opts.dayMs);
  if (stale.length) {
    const oldest = stale[0]!;
    out.push(
      `${stale.length} approval${stale.length === 1 ? ' has' : 's have'} waited more than a day (oldest: ${oldest.action_type} by ${oldest.agent}, ${duration(oldest.waiting_ms)}).`,
    );
  }

  // Blocked actions.
  const v = d.violations;
  if (v.blocks >= 3 && v.blocks >= 2 * Math.max(1, v.prev_blocks)) {
    const top = v.byPolicy[0];
    out.push(
      `Blocked actions up from ${int(v.prev_blocks)} to ${int(v.blocks)}${top ? `, most by "${top.name}" (${int(top.count)})` : ''}.`,
    );
  }

  // Budgets close to or past their amount.
  for (const b of d.budgets ?? []) {
    const p = b.percent ?? (b.amount_usd > 0 ? (b.spent_usd / b.amount_usd) * 100 : 0);
    if (p >= 80)
      out.push(
        `Budget "${b.name}" is at ${Math.round(p)}% of its ${PERIOD_WORD[b.period] ?? b.period} amount (${usd(b.spent_usd)} of ${usd(b.amount_usd)}).`,
      );
  }

  return out.slice(0, MAX_INSIGHTS);
}
