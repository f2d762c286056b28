/** Small display helpers: money, numbers, dates and durations, the same everywhere in the console. */

const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/**
 * Money as people read totals: always cents ("$1,234.50", "$0.01"). A non-zero amount under half a
 * cent reads "<$0.01" rather than "$0.00", so a run that cost something never looks free. Where the
 * exact value matters, render `<Money>` (components/Money.tsx): it adds the exact value as a tooltip.
 * @example usd(0.000042) // "<$0.01"
 */
export function usd(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n !== 0 && Math.abs(n) < 0.005) return n < 0 ? '>-$0.01' : '<$0.01';
  return cents.format(n);
}

/**
 * The cost of one model call, where sub-cent amounts are the point: up to six decimals, trailing
 * zeros dropped, never fewer than two ("$0.000042", "$0.0125", "$1.50").
 * @example usdCall(0.0000421) // "$0.000042"
 */
export function usdCall(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0 || Math.abs(n) >= 0.01) return cents.format(n);
  const fixed = Math.abs(n).toFixed(6).replace(/0+$/, '');
  return `${n < 0 ? '-' : ''}$${fixed.endsWith('.') ? `${fixed}00` : fixed}`;
}

/** The exact amount, as stored (for tooltips): every significant digit, no rounding to cents. */
export function usdExact(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const s = Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 12 });
  return `${n < 0 ? '-' : ''}$${s} USD`;
}

/** A share of a whole (0..1) as a whole percentage, or "—" when there is no whole. */
export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '—' : `${Math.round(ratio * 100)}%`;
}

export function num(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : new Intl.NumberFormat('en-US').format(n);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function ago(iso: string | null | undefined): string {
  if (!iso) return '—';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function json(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

/** Time ranges the pickers offer, as `from` ISO strings relative to now. */
export const RANGES = [
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
] as const;

export function rangeFrom(value: string): string {
  const r = RANGES.find((x) => x.value === value) ?? RANGES[1];
  return new Date(Date.now() - r.ms).toISOString();
}

/** Day start (local) of a `YYYY-MM-DD` date as ISO, or its end when `end` is set: for `from`/`to` filters. */
export function dayIso(day: string | null | undefined, end = false): string | undefined {
  if (!day) return undefined;
  const [y, m, d] = day.slice(0, 10).split('-').map(Number);
  const at = end ? new Date(y!, m! - 1, d!, 23, 59, 59, 999) : new Date(y!, m! - 1, d!);
  return at.toISOString();
}

/** A size in bytes, KB or MB. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
