/**
 * Charts as plain geometry (rectangles, lines, labels), laid out once and drawn twice: as inline SVG
 * in the HTML and as vector paths in the PDF, so both show the same bars.
 */
import { int, usd } from './report-format.ts';

export interface Shape {
  width: number;
  height: number;
  rects: { x: number; y: number; w: number; h: number; color: string; title?: string }[];
  lines: { x1: number; y1: number; x2: number; y2: number; color: string }[];
  /** `y` is the text baseline. */
  labels: { x: number; y: number; text: string; anchor: 'start' | 'middle' | 'end'; size: number; color: string }[];
}

export const COLORS = {
  bar: '#3b6fd8',
  ok: '#2f9e6e',
  failed: '#d64545',
  axis: '#c9cfd8',
  text: '#4a5361',
  muted: '#7b8494',
};

/** Vertical bars, one per day; the axis shows the top value and every few days' label. */
export function costPerDayChart(days: { label: string; cost_usd: number }[], width = 560, height = 200): Shape {
  const s: Shape = { width, height, rects: [], lines: [], labels: [] };
  const left = 56;
  const right = 8;
  const top = 14;
  const bottom = 26;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = Math.max(...days.map((d) => d.cost_usd), 0);
  const n = Math.max(1, days.length);
  const slot = plotW / n;
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  s.lines.push({ x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, color: COLORS.axis });
  s.lines.push({ x1: left, y1: top, x2: left + plotW, y2: top, color: '#eef1f5' });
  s.labels.push({ x: left - 6, y: top + 4, text: usd(max), anchor: 'end', size: 9, color: COLORS.muted });
  s.labels.push({ x: left - 6, y: top + plotH + 3, text: '$0', anchor: 'end', size: 9, color: COLORS.muted });
  const every = Math.max(1, Math.ceil(n / 8));
  days.forEach((d, i) => {
    const h = max > 0 ? (d.cost_usd / max) * plotH : 0;
    const x = left + i * slot + (slot - barW) / 2;
    if (h > 0)
      s.rects.push({
        x,
        y: top + plotH - Math.max(1, h),
        w: barW,
        h: Math.max(1, h),
        color: COLORS.bar,
        title: `${d.label}: ${usd(d.cost_usd)}`,
      });
    if (i % every === 0 || i === n - 1)
      s.labels.push({
        x: x + barW / 2,
        y: top + plotH + 16,
        text: d.label,
        anchor: 'middle',
        size: 9,
        color: COLORS.muted,
      });
  });
  return s;
}

/** One horizontal bar per agent: completed runs in green, failed in red, the count at the end. */
export function runsPerAgentChart(
  agents: { name: string; completed: number; failed: number; runs: number }[],
  width = 560,
): Shape {
  const rows = agents.slice(0, 12);
  const rowH = 22;
  const top = 6;
  const height = top + Math.max(1, rows.length) * rowH + 6;
  const s: Shape = { width, height, rects: [], lines: [], labels: [] };
  const left = 150;
  const right = 70;
  const plotW = width - left - right;
  const max = Math.max(...rows.map((a) => a.runs), 1);
  rows.forEach((a, i) => {
    const y = top + i * rowH;
    const name = a.name.length > 24 ? `${a.name.slice(0, 23)}…` : a.name;
    s.labels.push({ x: left - 8, y: y + 14, text: name, anchor: 'end', size: 10, color: COLORS.text });
    const other = Math.max(0, a.runs - a.completed - a.failed);
    let x = left;
    for (const [n, color] of [
      [a.completed, COLORS.ok],
      [a.failed, COLORS.failed],
      [other, COLORS.muted],
    ] as const) {
      if (n <= 0) continue;
      const w = Math.max(1, (n / max) * plotW);
      s.rects.push({ x, y: y + 4, w, h: 14, color, title: `${a.name}: ${int(n)}` });
      x += w;
    }
    s.labels.push({
      x: x + 6,
      y: y + 14,
      text: `${int(a.runs)}${a.failed ? ` (${int(a.failed)} failed)` : ''}`,
      anchor: 'start',
      size: 9,
      color: COLORS.muted,
    });
  });
  s.lines.push({ x1: left, y1: top, x2: left, y2: height - 6, color: COLORS.axis });
  return s;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The shape as an inline SVG element (no scripts, no external references). */
export function toSvg(s: Shape, title: string): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${s.width}" height="${s.height}" viewBox="0 0 ${s.width} ${s.height}" role="img" aria-label="${esc(title)}" style="max-width:100%;height:auto;font-family:Helvetica,Arial,sans-serif">`,
    `<title>${esc(title)}</title>`,
  ];
  for (const l of s.lines)
    parts.push(
      `<line x1="${l.x1.toFixed(1)}" y1="${l.y1.toFixed(1)}" x2="${l.x2.toFixed(1)}" y2="${l.y2.toFixed(1)}" stroke="${l.color}" stroke-width="1"/>`,
    );
  for (const r of s.rects)
    parts.push(
      `<rect x="${r.x.toFixed(1)}" y="${r.y.toFixed(1)}" width="${r.w.toFixed(1)}" height="${r.h.toFixed(1)}" fill="${r.color}" rx="1">${r.title ? `<title>${esc(r.title)}</title>` : ''}</rect>`,
    );
  for (const t of s.labels)
    parts.push(
      `<text x="${t.x.toFixed(1)}" y="${t.y.toFixed(1)}" font-size="${t.size}" fill="${t.color}" text-anchor="${t.anchor}">${esc(t.text)}</text>`,
    );
  parts.push('</svg>');
  return parts.join('');
}
