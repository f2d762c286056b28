/**
 * The report as a PDF (pdfkit, A4, the standard Helvetica fonts so nothing is embedded or fetched):
 * the same sections and figures as the HTML, the charts drawn as vector shapes from the same geometry.
 * Text is real text, so it can be searched and copied (and tests extract it).
 */
import PDFDocument from 'pdfkit';
import { ADHERENCE_HEAD, ADHERENCE_MEANS, adherenceRows, adherenceSummary } from './report-adherence.ts';
import { costPerDayChart, runsPerAgentChart, type Shape } from './report-charts.ts';
import { change, dateTime, duration, int, latency, pct, periodText, usd } from './report-format.ts';
import type { ReportData } from './report-types.ts';

const MARGIN = 48;
const INK = '#1f2733';
const MUTED = '#7b8494';

/** The standard fonts speak WinAnsi: anything else becomes '?', never a broken glyph. */
const clean = (s: unknown) =>
  String(s ?? '').replace(/[^\x20-\x7e\xa0-\xff\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u20ac]/g, '?');

type Doc = PDFKit.PDFDocument;

function ensure(doc: Doc, h: number) {
  if (doc.y + h > doc.page.height - MARGIN) doc.addPage();
}

function heading(doc: Doc, text: string) {
  ensure(doc, 60);
  doc.moveDown(0.8);
  doc.font('Helvetica-Bold').fontSize(13).fillColor(INK).text(clean(text), MARGIN, doc.y);
  doc.moveDown(0.3);
}

function paragraph(doc: Doc, text: string, color = INK, size = 10) {
  ensure(doc, 20);
  doc
    .font('Helvetica')
    .fontSize(size)
    .fillColor(color)
    .text(clean(text), MARGIN, doc.y, { width: doc.page.width - 2 * MARGIN });
}

function table(doc: Doc, head: string[], rows: (string | number)[][], weights: number[], right: number[] = []) {
  if (!rows.length) {
    paragraph(doc, 'Nothing in this period.', MUTED);
    return;
  }
  const width = doc.page.width - 2 * MARGIN;
  const total = weights.reduce((a, b) => a + b, 0);
  const widths = weights.map((w) => (w / total) * width);
  const rowH = 16;
  const drawRow = (cells: (string | number)[], bold: boolean) => {
    ensure(doc, rowH + 2);
    const y = doc.y;
    let x = MARGIN;
    doc
      .font(bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(9)
      .fillColor(bold ? '#4a5361' : INK);
    cells.forEach((c, i) => {
      doc.text(clean(c), x + 3, y + 4, {
        width: widths[i]! - 6,
        height: rowH,
        lineBreak: false,
        ellipsis: true,
        align: right.includes(i) ? 'right' : 'left',
      });
      x += widths[i]!;
    });
    doc
      .moveTo(MARGIN, y + rowH)
      .lineTo(MARGIN + width, y + rowH)
      .lineWidth(bold ? 1 : 0.5)
      .strokeColor(bold ? '#dfe3ea' : '#eef1f5')
      .stroke();
    doc.x = MARGIN;
    doc.y = y + rowH + 1;
  };
  drawRow(head, true);
  for (const r of rows) drawRow(r, false);
}

function drawShape(doc: Doc, s: Shape) {
  const width = doc.page.width - 2 * MARGIN;
  const scale = Math.min(1, width / s.width);
  ensure(doc, s.height * scale + 8);
  const ox = MARGIN;
  const oy = doc.y + 4;
  for (const l of s.lines)
    doc
      .moveTo(ox + l.x1 * scale, oy + l.y1 * scale)
      .lineTo(ox + l.x2 * scale, oy + l.y2 * scale)
      .lineWidth(0.7)
      .strokeColor(l.color)
      .stroke();
  for (const r of s.rects) doc.rect(ox + r.x * scale, oy + r.y * scale, r.w * scale, r.h * scale).fill(r.color);
  for (const t of s.labels) {
    const size = t.size * scale;
    doc.font('Helvetica').fontSize(size).fillColor(t.color);
    const text = clean(t.text);
    const w = doc.widthOfString(text);
    const x = t.anchor === 'end' ? t.x * scale - w : t.anchor === 'middle' ? t.x * scale - w / 2 : t.x * scale;
    // SVG places text by its baseline; pdfkit by the top of the line.
    doc.text(text, ox + x, oy + t.y * scale - size * 0.8, { lineBreak: false });
  }
  doc.x = MARGIN;
  doc.y = oy + s.height * scale + 6;
}

function tiles(doc: Doc, items: { label: string; value: string; note?: string }[]) {
  const width = doc.page.width - 2 * MARGIN;
  const w = width / items.length;
  ensure(doc, 64);
  const y = doc.y;
  items.forEach((t, i) => {
    const x = MARGIN + i * w;
    doc.rect(x + 2, y, w - 4, 58).fillAndStroke('#f8f9fb', '#eef1f5');
    doc
      .font('Helvetica')
      .fontSize(7.5)
      .fillColor(MUTED)
      .text(clean(t.label.toUpperCase()), x + 8, y + 7, { width: w - 16, lineBreak: false });
    doc
      .font('Helvetica-Bold')
      .fontSize(16)
      .fillColor(INK)
      .text(clean(t.value), x + 8, y + 19, { width: w - 16, lineBreak: false });
    if (t.note)
      doc
        .font('Helvetica')
        .fontSize(7.5)
        .fillColor('#4a5361')
        .text(clean(t.note), x + 8, y + 41, { width: w - 16, lineBreak: false, ellipsis: true });
  });
  doc.x = MARGIN;
  doc.y = y + 64;
}

/** Renders the report; resolves with the PDF bytes. */
export function renderPdf(d: ReportData): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: { Title: clean(`${d.reportName} - ${d.orgName}`), Author: 'AgentOps Hub', Subject: clean(d.title) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const t = d.totals;
  const finished = t.completed + t.failed;
  doc
    .font('Helvetica')
    .fontSize(9)
    .fillColor(MUTED)
    .text(clean(`${d.orgName} - ${d.title}`.toUpperCase()), MARGIN, MARGIN);
  doc.font('Helvetica-Bold').fontSize(20).fillColor(INK).text(clean(d.reportName));
  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor('#4a5361')
    .text(clean(periodText(d.period.from, d.period.to, d.timezone)));
  doc.moveDown(0.6);

  if (d.template === 'policy_violations') {
    tiles(doc, [
      { label: 'Blocked actions', value: int(d.violations.blocks), note: `previous ${int(d.violations.prev_blocks)}` },
      { label: 'Sent for approval', value: int(d.violations.approvals_required) },
      { label: 'Log-only matches', value: int(d.violations.monitored) },
      { label: 'Pending approvals', value: int(d.approvals.pending.length) },
    ]);
  } else {
    tiles(doc, [
      { label: 'Runs', value: int(t.runs), note: `previous ${int(t.prev_runs)}` },
      {
        label: 'Success rate',
        value: finished ? pct(t.success_rate) : '-',
        note: finished ? `${int(t.completed)} / ${int(finished)} runs succeeded` : 'no finished runs',
      },
      {
        label: 'Cost',
        value: usd(t.cost_usd),
        note:
          t.cost_change_pct === null
            ? `previous ${usd(t.prev_cost_usd)}`
            : `${change(t.cost_change_pct)} vs ${usd(t.prev_cost_usd)}`,
      },
      { label: 'Pending approvals', value: int(d.approvals.pending.length) },
    ]);
  }

  heading(doc, 'What changed');
  if (d.insightsOff) paragraph(doc, d.insightsOff, MUTED);
  else
    for (const i of d.insights.length ? d.insights : ['Nothing stood out against the previous period.'])
      paragraph(doc, `\u2022 ${i}`);

  const summary = d.template === 'weekly_summary' || d.template === 'monthly_summary';
  if (summary || d.template === 'cost_breakdown') {
    heading(doc, 'Cost per day');
    drawShape(doc, costPerDayChart(d.costPerDay));
  }
  if (summary) {
    heading(doc, 'Runs per agent');
    if (d.agents.length) drawShape(doc, runsPerAgentChart(d.agents));
    table(
      doc,
      ['Agent', 'Runs', 'Failed', 'Success', 'Cost', 'p95'],
      d.agents.map((a) => [
        a.name,
        int(a.runs),
        int(a.failed),
        a.completed + a.failed ? pct(1 - a.failure_rate) : '-',
        usd(a.cost_usd),
        latency(a.p95_ms),
      ]),
      [3, 1, 1, 1, 1.2, 1],
      [1, 2, 3, 4, 5],
    );
  }
  if (d.template === 'cost_breakdown' && d.costsBy) {
    for (const [title, rows] of [
      ['By agent', d.costsBy.agent],
      ['By team', d.costsBy.team],
      ['By model', d.costsBy.model],
    ] as const) {
      heading(doc, title);
      table(
        doc,
        ['Name', 'Cost', 'Share', 'Runs'],
        rows.map((r) => [
          r.name || r.key,
          usd(r.cost_usd),
          t.cost_usd > 0 ? pct(r.cost_usd / t.cost_usd) : '-',
          int(r.runs),
        ]),
        [3, 1, 1, 1],
        [1, 2, 3],
      );
    }
  }
  if (d.template !== 'cost_breakdown') {
    heading(doc, d.template === 'policy_violations' ? 'Violations by policy' : 'Policy violations');
    table(
      doc,
      ['Policy', 'Blocked or sent for approval'],
      d.violations.byPolicy.map((p) => [p.name, int(p.count)]),
      [3, 2],
      [1],
    );
    if (d.violations.recent.length) {
      doc.moveDown(0.5);
      table(
        doc,
        ['When', 'Agent', 'Action', 'Decision', 'Policy'],
        d.violations.recent.map((r) => [
          dateTime(r.at, d.timezone),
          r.agent,
          r.action_type,
          r.decision === 'block' ? 'Blocked' : 'Approval required',
          r.policies.join(', ') || 'emergency control',
        ]),
        [1.3, 1.5, 1.5, 1.3, 2],
      );
    }
  }
  if (d.template !== 'cost_breakdown') {
    heading(doc, 'Policy adherence');
    paragraph(doc, adherenceSummary(d.agents));
    const rows = adherenceRows(d.agents);
    if (rows.length) {
      doc.moveDown(0.3);
      table(doc, ADHERENCE_HEAD, rows, [2.5, 1.2, 1.2, 1, 1, 1.2, 1], [1, 2, 3, 4, 5, 6]);
    }
    paragraph(doc, ADHERENCE_MEANS, MUTED, 8);
  }
  if (summary) {
    heading(doc, 'Incidents');
    table(
      doc,
      ['When', 'Agent', 'Run', 'Error'],
      d.incidents.map((r) => {
        const e = r.error as { message?: unknown } | string | null;
        const text =
          typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : e ? JSON.stringify(e) : '';
        return [dateTime(Date.parse(r.started_at), d.timezone), r.agent_name, r.id, text];
      }),
      [1.2, 1.5, 1.8, 3],
    );
  }
  if (d.template !== 'cost_breakdown') {
    const a = d.approvals;
    heading(doc, 'Approvals');
    paragraph(
      doc,
      `${int(a.requested)} requested in this period: ${int(a.approved)} approved, ${int(a.rejected)} rejected, ${int(a.expired)} expired. ${int(a.pending.length)} waiting now.`,
    );
    if (a.pending.length) {
      doc.moveDown(0.3);
      table(
        doc,
        ['Waiting since', 'Agent', 'Action', 'Waited'],
        a.pending
          .slice(0, 10)
          .map((p) => [dateTime(p.requested_at, d.timezone), p.agent, p.action_type, duration(p.waiting_ms)]),
        [1.3, 1.5, 2, 1],
      );
    }
  }
  if (d.budgets && d.template !== 'policy_violations') {
    heading(doc, 'Budgets');
    table(
      doc,
      ['Budget', 'Period', 'Spent', 'Amount', 'Used'],
      d.budgets.map((b) => [
        b.scope_name ? `${b.name} (${b.scope_name})` : b.name,
        b.period,
        usd(b.spent_usd),
        usd(b.amount_usd),
        `${Math.round(b.percent ?? (b.amount_usd ? (b.spent_usd / b.amount_usd) * 100 : 0))}%`,
      ]),
      [3, 1, 1, 1, 1],
      [2, 3, 4],
    );
  }
  doc.moveDown(1);
  paragraph(doc, `Generated by AgentOps Hub on ${dateTime(d.generatedAt, d.timezone)} (${d.timezone}).`, MUTED, 8);
  doc.end();
  return done;
}
