/**
 * A mergeable latency histogram for p95 from rollups: log-scale buckets 15% wide, stored sparse as
 * {bucket: count}. Merging hourly sketches is adding counts, so a month's p95 costs the same as an hour's.
 * In the platform because ingestion writes sketches and stats reads them through ingestion's door: in
 * either module it would make the two import each other.
 */
const BASE = 1.15;
const LOG_BASE = Math.log(BASE);

export type Sketch = Record<string, number>;

export const bucketOf = (ms: number) => (ms <= 1 ? 0 : Math.ceil(Math.log(ms) / LOG_BASE));
const upperBound = (bucket: number) => (bucket <= 0 ? 1 : BASE ** bucket);

export function addToSketch(s: Sketch, ms: number, delta = 1): Sketch {
  const b = String(bucketOf(ms));
  const next = (s[b] ?? 0) + delta;
  if (next <= 0) delete s[b];
  else s[b] = next;
  return s;
}

export function mergeSketches(target: Sketch, other: Sketch): Sketch {
  for (const [b, n] of Object.entries(other)) target[b] = (target[b] ?? 0) + n;
  return target;
}

/** The q-quantile (0..1), as the upper bound of its bucket (within 15%), or null when empty. */
export function quantile(s: Sketch, q: number): number | null {
  const entries = Object.entries(s)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((t, [, n]) => t + n, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const [b, n] of entries) {
    seen += n;
    if (seen >= rank) return Math.round(upperBound(b));
  }
  return Math.round(upperBound(entries[entries.length - 1]![0]));
}
