/**
 * Totals of a time window from the hourly rollups, for monitors (alert rules): runs, failures, cost and
 * a merged latency sketch over the whole hours the window touches. Reads one row per agent-hour (the
 * model '' rows), so its cost grows with agents × hours in the window, never with the number of events.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { mergeSketches, type Sketch } from '../../platform/latency-sketch.ts';
import { windowLatencies, windowSums } from '../ingestion/index.ts';

// Not imported from ingestion: ingestion's rollup code imports this module's door (an import cycle).
const HOUR_MS = 3_600_000;

export interface WindowTotals {
  runs: number;
  completed: number;
  /** Runs that failed on their own: a run stopped by a policy or a pause is `blocked` or `paused`, not here. */
  failed: number;
  blocked: number;
  paused: number;
  costNano: number;
  latency: Sketch;
}

/** The first hour a window `[from, to]` touches: rollup rows are keyed by the start of their hour. */
export const hourFloor = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;

/**
 * Sums the rollups of `agentIds` (all the org's agents when null) for the hours that overlap `[from, to]`.
 * An empty `agentIds` list is an empty scope (a team with no agents), not the whole org. The sums are
 * one aggregate in the database; the latency sketches (JSON, merged here) are read only when asked for,
 * and only from rows that have latencies.
 */
export async function windowTotals(
  db: Kysely<Database>,
  orgId: OrgId,
  agentIds: readonly string[] | null,
  from: number,
  to: number,
  opts: { latency?: boolean } = {},
): Promise<WindowTotals> {
  const out: WindowTotals = { runs: 0, completed: 0, failed: 0, blocked: 0, paused: 0, costNano: 0, latency: {} };
  if (agentIds && agentIds.length === 0) return out;
  const from0 = hourFloor(from);
  const sums = await windowSums(db, orgId, agentIds, from0, to);
  out.runs = Number(sums?.runs ?? 0);
  out.completed = Number(sums?.completed ?? 0);
  out.blocked = Number(sums?.blocked ?? 0);
  out.paused = Number(sums?.paused ?? 0);
  // The rollups' `failed` includes the runs stopped on purpose (migration 017): a kill switch is not a
  // failure spike for the failure-rate and failed-run monitors.
  out.failed = Number(sums?.failed ?? 0) - out.blocked - out.paused;
  out.costNano = Number(sums?.cost_nano ?? 0);
  if (opts.latency)
    for (const r of await windowLatencies(db, orgId, agentIds, from0, to))
      mergeSketches(out.latency, JSON.parse(r.latency_hist) as Sketch);
  return out;
}
