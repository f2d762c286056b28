/**
 * The report as one self-contained HTML document that reads well in mail clients: a single 640-px
 * column of tables with inline styles (no stylesheet, no scripts, no remote images), charts as inline
 * SVG, and every chart's figures also in a table below it, so a client that drops SVG loses nothing.
 * Every value that comes from data (agent, policy and report names, errors) is escaped.
 */
import { ADHERENCE_HEAD, ADHERENCE_MEANS, adherenceRows, adherenceSummary, scoreText } from './report-adherence.ts';
import { costPerDayChart, runsPerAgentChart, toSvg } from './report-charts.ts';
import { change, dateTime, duration, int, latency, pct, periodText, usd } from './report-format.ts';
import type { ReportData } from './report-types.ts';

const esc = (v: unknown) =>
  String(v ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";
const TD = 'padding:6px 8px;border-bottom:1px solid #eef1f5;font-size:13px;color:#1f2733';
const TH =
  'padding:6px 8px;border-bottom:2px solid #dfe3ea;font-size:12px;color:#4a5361;text-align:left;font-weight:600';

function section(title: string, body: string): string {
  return `<tr><td style="padding:20px 24px 4px 24px"><h2 style="margin:0 0 10px 0;font-size:16px;color:#1f2733;${FONT}">${esc(title)}</h2>${body}</td></tr>`;
}

function table(head: string[], rows: (string | number)[][], align: ('l' | 'r')[] = []): string {
  if (!rows.length) return '<p style="margin:0;font-size:13px;color:#7b8494">Nothing in this period.</p>';
  const a = (i: number) => (align[i] === 'r' ? 'text-align:right;' : '');
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;${FONT}"><tr>${head
    .map((h, i) => `<th style="${TH};${a(i)}">${esc(h)}</th>`)
    .join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td style="${TD};${a(i)}">${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

function tiles(items: { label: string; value: string; note?: string }[]): string {
  const w = Math.floor(100 / items.length);
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;${FONT}"><tr>${items
    .map(
      (t) =>
        `<td width="${w}%" valign="top" style="padding:10px 8px;border:1px solid #eef1f5;background:#f8f9fb"><div style="font-size:11px;color:#7b8494;text-transform:uppercase;letter-spacing:.04em">${esc(t.label)}</div><div style="font-size:22px;font-weight:700;color:#1f2733;margin-top:4px">${esc(t.value)}</div>${t.note ? `<div style="font-size:12px;color:#4a5361;margin-top:2px">${esc(t.note)}</div>` : ''}</td>`,
    )
    .join('')}</tr></table>`;
}

function headline(d: ReportData): string {
  const t = d.totals;
  const finished = t.completed + t.failed;
  const costNote =
    t.cost_change_pct === null
      ? t.prev_cost_usd === 0 && t.cost_usd > 0
        ? 'nothing the period before'
        : `previous ${usd(t.prev_cost_usd)}`
      : `${change(t.cost_change_pct)} vs ${usd(t.prev_cost_usd)}`;
  if (d.template === 'policy_violations') {
    const v = d.violations;
    return tiles([
      { label: 'Blocked actions', value: int(v.blocks), note: `previous ${int(v.prev_blocks)}` },
      { label: 'Sent for approval', value: int(v.approvals_required) },
      { label: 'Log-only matches', value: int(v.monitored) },
      { label: 'Pending approvals', value: int(d.approvals.pending.length) },
    ]);
  }
  return tiles([
    { label: 'Runs', value: int(t.runs), note: `previous ${int(t.prev_runs)}` },
    {
      label: 'Success rate',
      value: finished ? pct(t.success_rate) : '-',
      note: finished ? `${int(t.completed)} / ${int(finished)} runs succeeded` : 'no finished runs',
    },
    { label: 'Cost', value: usd(t.cost_usd), note: costNote },
    d.template === 'cost_breakdown'
      ? { label: 'Agents with spend', value: int(d.agents.filter((a) => a.cost_usd > 0).length) }
      : { label: 'Pending approvals', value: int(d.approvals.pending.length) },
  ]);
}

function insights(d: ReportData): string {
  // Left out by the org's plan or its insights flag: say so, in the words a route's 402 or 403 would use.
  if (d.insightsOff) return `<p style="margin:0;font-size:13px;color:#4a5361">${esc(d.insightsOff)}</p>`;
  const items = d.insights.length
    ? d.insights
    : ['Nothing stood out: cost, runs and failure rates moved less than the thresholds against the previous period.'];
  return `<ul style="margin:0;padding-left:18px;${FONT};font-size:14px;color:#1f2733;line-height:1.5">${items
    .map((i) => `<li style="margin-bottom:4px">${esc(i)}</li>`)
    .join('')}</ul>`;
}

function agentTable(d: ReportData): string {
  return table(
    ['Agent', 'Runs', 'Failed', 'Success', 'Cost', 'p95 latency'],
    d.agents.map((a) => [
      a.name,
      int(a.runs),
      int(a.failed),
      a.completed + a.failed ? pct(1 - a.failure_rate) : '-',
      usd(a.cost_usd),
      latency(a.p95_ms),
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** The listed agents' adherence together, a row per agent with the counts, and what the score means. */
function adherencePart(d: ReportData): string {
  const rows = adherenceRows(d.agents);
  return [
    `<p style="margin:0 0 8px 0;font-size:13px;color:#1f2733">${esc(adherenceSummary(d.agents))}</p>`,
    rows.length ? table(ADHERENCE_HEAD, rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']) : '',
    `<p style="margin:8px 0 0 0;font-size:12px;color:#7b8494">${esc(ADHERENCE_MEANS)}</p>`,
  ].join('');
}

function costRows(rows: { name: string; key: string; cost_usd: number; runs: number }[], total: number) {
  return rows.map((r) => [r.name || r.key, usd(r.cost_usd), total > 0 ? pct(r.cost_usd / total) : '-', int(r.runs)]);
}

function violationsPart(d: ReportData): string {
  const v = d.violations;
  return [
    table(
      ['Policy', 'Actions stopped or sent for approval'],
      v.byPolicy.map((p) => [p.name, int(p.count)]),
      ['l', 'r'],
    ),
    d.template === 'policy_violations'
      ? `<div style="height:12px"></div>${table(
          ['Agent', 'Violations'],
          v.byAgent.map((p) => [p.name, int(p.count)]),
          ['l', 'r'],
        )}`
      : '',
    v.recent.length
      ? `<div style="height:12px"></div>${table(
          ['When', 'Agent', 'Action', 'Decision', 'Policy'],
          v.recent.map((r) => [
            dateTime(r.at, d.timezone),
            r.agent,
            r.action_type,
            r.decision === 'block' ? 'Blocked' : 'Approval required',
            r.policies.join(', ') || 'emergency control',
          ]),
        )}`
      : '',
  ].join('');
}

function approvalsPart(d: ReportData): string {
  const a = d.approvals;
  const summary = `<p style="margin:0 0 8px 0;font-size:13px;color:#4a5361;${FONT}">${int(a.requested)} requested in this period: ${int(a.approved)} approved, ${int(a.rejected)} rejected, ${int(a.expired)} expired. ${int(a.pending.length)} waiting now.</p>`;
  return (
    summary +
    (a.pending.length
      ? table(
          ['Waiting since', 'Agent', 'Action', 'Waited'],
          a.pending
            .slice(0, 10)
            .map((p) => [dateTime(p.requested_at, d.timezone), p.agent, p.action_type, duration(p.waiting_ms)]),
        )
      : '')
  );
}

function errorText(e: unknown): string {
  if (e === null || e === undefined) return '';
  if (typeof e === 'string') return e.slice(0, 160);
  const o = e as { message?: unknown };
  return (typeof o.message === 'string' ? o.message : JSON.stringify(e)).slice(0, 160);
}

export interface HtmlLinks {
  html?: string;
  pdf?: string;
}

export function renderHtml(d: ReportData, links: HtmlLinks = {}): string {
  const t = d.totals;
  const parts: string[] = [];
  parts.push(section('At a glance', headline(d)));
  parts.push(section('What changed', insights(d)));
  const dayChart = () =>
    section(
      'Cost per day',
      `${toSvg(costPerDayChart(d.costPerDay), 'Cost per day')}${table(
        ['Day', 'Cost'],
        d.costPerDay.filter((x) => x.cost_usd > 0).map((x) => [x.label, usd(x.cost_usd)]),
        ['l', 'r'],
      )}`,
    );
  if (d.template === 'weekly_summary' || d.template === 'monthly_summary') {
    parts.push(dayChart());
    parts.push(
      section(
        'Runs per agent',
        d.agents.length
          ? `${toSvg(runsPerAgentChart(d.agents), 'Runs per agent')}${agentTable(d)}`
          : table(['Agent'], []),
      ),
    );
    parts.push(section('Policy violations', violationsPart(d)));
    parts.push(section('Policy adherence', adherencePart(d)));
    parts.push(
      section(
        'Incidents',
        table(
          ['When', 'Agent', 'Run', 'Error'],
          d.incidents.map((r) => [
            dateTime(Date.parse(r.started_at), d.timezone),
            r.agent_name,
            r.id,
            errorText(r.error),
          ]),
        ),
      ),
    );
    parts.push(section('Approvals', approvalsPart(d)));
  } else if (d.template === 'cost_breakdown') {
    parts.push(dayChart());
    const by = d.costsBy ?? { agent: [], team: [], model: [] };
    const head = ['Name', 'Cost', 'Share', 'Runs'];
    const al: ('l' | 'r')[] = ['l', 'r', 'r', 'r'];
    parts.push(section('By agent', table(head, costRows(by.agent, t.cost_usd), al)));
    parts.push(section('By team', table(head, costRows(by.team, t.cost_usd), al)));
    parts.push(
      section(
        'By model',
        table(
          ['Model', 'Cost', 'Share', 'Tokens in / out'],
          by.model.map((r) => [
            r.name || r.key,
            usd(r.cost_usd),
            t.cost_usd > 0 ? pct(r.cost_usd / t.cost_usd) : '-',
            `${int(r.input_tokens)} / ${int(r.output_tokens)}`,
          ]),
          al,
        ),
      ),
    );
  } else {
    parts.push(section('Violations', violationsPart(d)));
    parts.push(section('Policy adherence', adherencePart(d)));
    parts.push(section('Approvals', approvalsPart(d)));
  }
  if (d.budgets && d.template !== 'policy_violations')
    parts.push(
      section(
        'Budgets',
        table(
          ['Budget', 'Period', 'Spent', 'Amount', 'Used'],
          d.budgets.map((b) => [
            b.scope_name ? `${b.name} (${b.scope_name})` : b.name,
            b.period,
            usd(b.spent_usd),
            usd(b.amount_usd),
            `${Math.round(b.percent ?? (b.amount_usd ? (b.spent_usd / b.amount_usd) * 100 : 0))}%`,
          ]),
          ['l', 'l', 'r', 'r', 'r'],
        ),
      ),
    );
  const linkRow = [
    links.html ? `<a href="${esc(links.html)}" style="color:#3b6fd8">Open in the browser</a>` : '',
    links.pdf ? `<a href="${esc(links.pdf)}" style="color:#3b6fd8">Download the PDF</a>` : '',
  ]
    .filter(Boolean)
    .join(' &middot; ');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light"><title>${esc(d.reportName)}: ${esc(d.orgName)}</title></head>
<body style="margin:0;padding:0;background:#f1f3f6">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f1f3f6"><tr><td align="center" style="padding:16px 8px">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="width:100%;max-width:640px;background:#ffffff;border:1px solid #e3e7ed;border-radius:6px;${FONT}">
<tr><td style="padding:22px 24px 8px 24px;border-bottom:3px solid #3b6fd8">
<div style="font-size:12px;color:#7b8494;text-transform:uppercase;letter-spacing:.05em">${esc(d.orgName)} &middot; ${esc(d.title)}</div>
<h1 style="margin:4px 0 4px 0;font-size:22px;color:#1f2733">${esc(d.reportName)}</h1>
<div style="font-size:13px;color:#4a5361">${esc(periodText(d.period.from, d.period.to, d.timezone))}</div>
</td></tr>
${parts.join('\n')}
<tr><td style="padding:20px 24px;font-size:12px;color:#7b8494;border-top:1px solid #eef1f5">Generated by AgentOps Hub on ${esc(dateTime(d.generatedAt, d.timezone))} (${esc(d.timezone)}). Compared with the ${esc(periodText(d.previous.from, d.previous.to, d.timezone))} period.${linkRow ? `<br>${linkRow}` : ''}</td></tr>
</table></td></tr></table>
</body></html>`;
}

/** The plain-text part of the email: headline figures and insights. */
export function renderText(d: ReportData, links: HtmlLinks = {}): string {
  const t = d.totals;
  const finished = t.completed + t.failed;
  const lines = [
    `${d.reportName} (${d.title}), ${d.orgName}`,
    periodText(d.period.from, d.period.to, d.timezone),
    '',
    `Runs: ${int(t.runs)} (previous ${int(t.prev_runs)})`,
    `Success rate: ${finished ? `${pct(t.success_rate)} (${int(t.completed)} / ${int(finished)})` : '-'}`,
    `Cost: ${usd(t.cost_usd)}${t.cost_change_pct === null ? '' : ` (${change(t.cost_change_pct)} vs ${usd(t.prev_cost_usd)})`}`,
    `Blocked actions: ${int(d.violations.blocks)}; approvals waiting: ${int(d.approvals.pending.length)}`,
    '',
    'What changed:',
    ...(d.insightsOff
      ? [`- ${d.insightsOff}`]
      : d.insights.length
        ? d.insights.map((i) => `- ${i}`)
        : ['- Nothing stood out against the previous period.']),
  ];
  if (d.agents.length) {
    lines.push('', 'Agents:');
    for (const a of d.agents.slice(0, 10)) {
      const x = a.adherence;
      const adherence = x?.evaluated ? `, adherence ${scoreText(x)} (${int(x.adherent)} of ${int(x.evaluated)})` : '';
      lines.push(`- ${a.name}: ${int(a.runs)} runs, ${int(a.failed)} failed, ${usd(a.cost_usd)}${adherence}`);
    }
  }
  if (links.html) lines.push('', `Full report: ${links.html}`);
  return lines.join('\n');
}
