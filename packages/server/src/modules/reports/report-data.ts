/**
 * Gathers what one report shows, for a period and the period of the same length just before it (the
 * comparison behind "cost up 40%"). Everything is read through `ReportSources`; the result is plain
 * data that the HTML and PDF renderers draw the same way.
 */
import type { ReportTemplate } from '@agentops-hub/contracts';
import { DateTime } from 'luxon';
import type { OrgId } from '../../platform/caller.ts';
import { computeInsights } from './report-insights.ts';
import type { ReportSources } from './report-sources.ts';
import type { AgentRow, ReportData } from './report-types.ts';

const DAY_MS = 86_400_000;
/** Agents looked at one by one (failure rates, latency); the rest are summed as "others". */
const AGENTS_MAX = 25;

export const TEMPLATE_TITLES: Record<ReportTemplate, string> = {
  weekly_summary: 'Weekly summary',
  monthly_summary: 'Monthly summary',
  cost_breakdown: 'Cost breakdown',
  policy_violations: 'Policy violations',
};

const rate = (failed: number, completed: number) => (failed + completed ? failed / (failed + completed) : 0);

/** Every local calendar day of [from, to) in `timezone`, as YYYY-MM-DD with a short label. */
export function daysOf(from: number, to: number, timezone: string): { day: string; label: string }[] {
  const out: { day: string; label: string }[] = [];
  let d = DateTime.fromMillis(from, { zone: timezone }).startOf('day');
  while (d.toMillis() < to && out.length < 400) {
    out.push({ day: d.toISODate() ?? '', label: d.toFormat('LLL d') });
    d = d.plus({ days: 1 });
  }
  return out;
}

export async function gatherReport(
  sources: ReportSources,
  orgId: OrgId,
  opts: { template: ReportTemplate; name: string; from: number; to: number; timezone?: string; now: number },
): Promise<ReportData> {
  const { template, from, to } = opts;
  const span = Math.max(60_000, to - from);
  const previous = { from: from - span, to: from };
  const org = await sources.org(orgId);
  const timezone = opts.timezone ?? org.timezone ?? 'UTC';
  const summary = template === 'weekly_summary' || template === 'monthly_summary';
  const withCosts = summary || template === 'cost_breakdown';

  const [
    cur,
    prev,
    costAgents,
    prevCostAgents,
    costDays,
    decisions,
    prevDecisions,
    approvals,
    budgets,
    incidents,
    insightsOff,
  ] = await Promise.all([
    sources.overview(orgId, from, to),
    sources.overview(orgId, previous.from, previous.to),
    sources.costs(orgId, 'agent', from, to),
    sources.costs(orgId, 'agent', previous.from, previous.to),
    withCosts ? sources.costs(orgId, 'day', from, to) : Promise.resolve({ data: [], total_usd: 0 }),
    sources.decisions(orgId, from, to),
    sources.decisions(orgId, previous.from, previous.to),
    sources.approvals(orgId),
    summary || template === 'cost_breakdown' ? sources.budgets(orgId) : Promise.resolve(null),
    summary ? sources.failedRuns(orgId, from, to, 10) : Promise.resolve([]),
    sources.insightsRefusal(orgId),
  ]);
  const costsBy =
    template === 'cost_breakdown'
      ? {
          agent: costAgents.data,
          team: (await sources.costs(orgId, 'team', from, to)).data,
          model: (await sources.costs(orgId, 'model', from, to)).data,
        }
      : null;

  // Agents with runs or spend in either period, busiest first; figures per agent from the stats service.
  const names = await sources.agentNames(orgId);
  const prevCost = new Map(prevCostAgents.data.map((r) => [r.key, r]));
  const curCost = new Map(costAgents.data.map((r) => [r.key, r]));
  const ids = [...new Set([...curCost.keys(), ...prevCost.keys()])]
    .sort(
      (a, b) =>
        (curCost.get(b)?.runs ?? 0) - (curCost.get(a)?.runs ?? 0) ||
        (curCost.get(b)?.cost_usd ?? 0) - (curCost.get(a)?.cost_usd ?? 0),
    )
    .slice(0, AGENTS_MAX);
  const agents: AgentRow[] = await Promise.all(
    ids.map(async (id) => {
      const [c, p] = await Promise.all([
        sources.agentFigures(orgId, id, from, to).catch(() => null),
        sources.agentFigures(orgId, id, previous.from, previous.to).catch(() => null),
      ]);
      return {
        id,
        name: names.get(id) ?? curCost.get(id)?.name ?? prevCost.get(id)?.name ?? id,
        runs: c?.runs ?? 0,
        completed: c?.completed ?? 0,
        failed: c?.failed ?? 0,
        failure_rate: c ? rate(c.failed, c.completed) : 0,
        cost_usd: curCost.get(id)?.cost_usd ?? c?.cost_usd ?? 0,
        p95_ms: c?.latency_p95_ms ?? null,
        prev_runs: p?.runs ?? 0,
        prev_failed: p?.failed ?? 0,
        prev_failure_rate: p ? rate(p.failed, p.completed) : 0,
        prev_cost_usd: prevCost.get(id)?.cost_usd ?? p?.cost_usd ?? 0,
        adherence: c?.adherence ?? null,
        prev_adherence: p?.adherence ?? null,
      };
    }),
  );
  agents.sort((a, b) => b.runs - a.runs || b.cost_usd - a.cost_usd || a.name.localeCompare(b.name));

  const byDay = new Map(costDays.data.map((r) => [r.key, r.cost_usd]));
  const costPerDay = withCosts
    ? daysOf(from, to, org.timezone ?? timezone).map((d) => ({ ...d, cost_usd: byDay.get(d.day) ?? 0 }))
    : [];

  const count = (list: string[]) => {
    const m = new Map<string, number>();
    for (const k of list) m.set(k, (m.get(k) ?? 0) + 1);
    return [...m.entries()].map(([name, n]) => ({ name, count: n })).sort((a, b) => b.count - a.count);
  };
  const blocks = decisions.filter((d) => d.decision === 'block');
  const violations = {
    blocks: blocks.length,
    prev_blocks: prevDecisions.filter((d) => d.decision === 'block').length,
    approvals_required: decisions.filter((d) => d.decision === 'require_approval').length,
    monitored: decisions.filter((d) => d.decision === 'allow').length,
    byPolicy: count(
      decisions
        .filter((d) => d.decision !== 'allow')
        .flatMap((d) => (d.policies.length ? d.policies : ['Emergency control'])),
    ).slice(0, 10),
    byAgent: count(decisions.filter((d) => d.decision !== 'allow').map((d) => d.agent)).slice(0, 10),
    recent: decisions
      .filter((d) => d.decision !== 'allow')
      .sort((a, b) => b.at - a.at)
      .slice(0, template === 'policy_violations' ? 50 : 10),
  };

  const agentName = (id: string) => names.get(id) ?? id;
  const inPeriod = approvals.recent.filter((a) => a.requested_at >= from && a.requested_at < to);
  const approvalsData = {
    pending: approvals.pending
      .map((a) => ({
        id: a.id,
        agent: agentName(a.agent_id),
        action_type: a.action_type,
        requested_at: a.requested_at,
        waiting_ms: Math.max(0, opts.now - a.requested_at),
      }))
      .sort((a, b) => b.waiting_ms - a.waiting_ms),
    requested: inPeriod.length,
    approved: inPeriod.filter((a) => a.status === 'approved').length,
    rejected: inPeriod.filter((a) => a.status === 'rejected').length,
    expired: inPeriod.filter((a) => a.status === 'expired').length,
  };

  const costNow = costAgents.total_usd ?? cur.cost_usd;
  const costBefore = prevCostAgents.total_usd ?? prev.cost_usd;
  const data: ReportData = {
    template,
    title: TEMPLATE_TITLES[template],
    reportName: opts.name,
    orgName: org.name,
    timezone,
    period: { from, to },
    previous,
    generatedAt: opts.now,
    totals: {
      runs: cur.runs,
      completed: cur.completed,
      failed: cur.failed,
      success_rate: cur.success_rate,
      cost_usd: costNow,
      prev_runs: prev.runs,
      prev_failed: prev.failed,
      prev_success_rate: prev.success_rate,
      prev_cost_usd: costBefore,
      cost_change_pct: costBefore > 0 ? ((costNow - costBefore) / costBefore) * 100 : null,
    },
    costPerDay,
    agents,
    costsBy,
    violations,
    incidents,
    approvals: approvalsData,
    budgets,
    insights: [],
    insightsOff,
  };
  // Insights are a plan feature with a flag: left out (and the report says why) when either says no.
  if (!insightsOff) data.insights = computeInsights(data, { dayMs: DAY_MS });
  return data;
}
