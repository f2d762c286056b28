/**
 * Number and date wording shared by the HTML, the PDF, emails and webhooks, so every channel says the
 * same figure the same way ("$1.25", "80%", "2 days").
 */
import { DateTime } from 'luxon';

/** $1,234.56; small amounts keep two significant digits ($0.0042) instead of rounding to $0.00. */
export function usd(v: number): string {
  if (!Number.isFinite(v) || v === 0) return '$0.00';
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  if (a < 0.01) return `${sign}$${a.toPrecision(2)}`;
  return `${sign}$${a.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A 0..1 ratio as a percentage: whole when exact (80%), else one decimal (83.3%). */
export function pct(ratio: number): string {
  const p = ratio * 100;
  const r = Math.round(p * 10) / 10;
  return `${Number.isInteger(r) ? r.toFixed(0) : r.toFixed(1)}%`;
}

/** A signed change in percent: "+40%", "-12.5%". */
export function change(pctValue: number): string {
  const r = Math.round(pctValue * 10) / 10;
  const text = Number.isInteger(r) ? r.toFixed(0) : r.toFixed(1);
  return `${r > 0 ? '+' : ''}${text}%`;
}

export const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** "3 hours", "2 days": how long something has waited. */
export function duration(ms: number): string {
  const h = ms / 3_600_000;
  if (h < 1) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (h < 48) return `${Math.round(h)} hour${Math.round(h) === 1 ? '' : 's'}`;
  const d = Math.round(h / 24);
  return `${d} days`;
}

export function latency(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "Nov 18, 2026 08:00 – Nov 25, 2026 08:00 (Europe/Paris)", in the report's zone. */
export function periodText(from: number, to: number, timezone: string): string {
  const f = (t: number) => DateTime.fromMillis(t, { zone: timezone }).toFormat('LLL d, yyyy HH:mm');
  return `${f(from)} - ${f(to)} (${timezone})`;
}

export function dateTime(t: number, timezone: string): string {
  return DateTime.fromMillis(t, { zone: timezone }).toFormat('LLL d, HH:mm');
}
