/**
 * Cost analytics, read from the hourly rollups only (never raw events), so a query costs hours × agents
 * whatever the event volume. Agent, team and calendar groupings read the all-models rows (model ''),
 * the model grouping reads the per-model rows. Days, weeks and months are the org's calendar.
 *
 * Ranges are whole hours: `from` is rounded down to its hour (an hour is the rollups' grain). In a time
 * zone with a half-hour offset a local day therefore starts on the hour before its midnight.
 *
 * @example
 * await costs.query(orgId, { group_by: 'team', from: '2026-11-01', to: '2026-12-01' });
 * // → { data: [{ key: 'team_…', name: 'Sales', cost_usd: 1.2, … }], total_usd: 1.2, … }
 */
import type { CostRow, CostsQuery, CostsResponse } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { invalid } from '../../platform/errors.ts';
import { HOUR_MS } from '../ingestion/index.ts';
import { type CalendarUnit, parseInstant, periodKey } from './calendar.ts';
import { createCostStore, type Sums } from './costs.store.ts';

const DAY_MS = 24 * HOUR_MS;
const NANO = 1e9;
/** Nano-USD to USD; integer sums, one division at the end, so no float drift accumulates. */
export const usd = (nano: number) => Math.round(nano) / NANO;

const zero = (): Sums => ({ cost: 0, input: 0, output: 0, calls: 0, runs: 0, unpriced: 0 });

export function createCostService(deps: {
  db: Kysely<Database>;
  clock: () => number;
  /** Waits (bounded) for calls already ingested to be priced, so a report right after ingestion includes them. */
  settle?: () => Promise<void>;
}) {
  const store = createCostStore(deps.db);

  function range(q: Pick<CostsQuery, 'from' | 'to'>, timezone: string) {
    const end = q.to ? parseInstant(q.to, timezone) : deps.clock();
    const start = q.from ? parseInstant(q.from, timezone) : end - 30 * DAY_MS;
    if (!Number.isFinite(start)) throw invalid('from', 'not a date');
    if (!Number.isFinite(end)) throw invalid('to', 'not a date');
    if (start >= end) throw invalid('from', 'must be before `to`');
    if (end - start > 400 * DAY_MS) throw invalid('from', 'a range of at most 400 days');
    return { start: Math.floor(start / HOUR_MS) * HOUR_MS, end };
  }

  return {
    async query(orgId: OrgId, q: CostsQuery): Promise<CostsResponse> {
      await deps.settle?.();
      const timezone = await store.orgTimezone(orgId);
      const { start, end } = range(q, timezone);
      const groupBy = q.group_by ?? 'agent';
      let rows = await store.sums(orgId, groupBy, start, end, q);
      if (groupBy === 'day' || groupBy === 'week' || groupBy === 'month') {
        // Hours fold into the org's calendar in code: SQL date functions differ between the two dialects.
        const buckets = new Map<string, Sums>();
        for (const r of rows) {
          const key = periodKey(Number(r.k), groupBy as CalendarUnit, timezone);
          const b = buckets.get(key) ?? zero();
          for (const f of Object.keys(b) as (keyof Sums)[]) b[f] += r.s[f];
          buckets.set(key, b);
        }
        rows = [...buckets.entries()].map(([k, s]) => ({ k, s }));
      }
      const names = await store.namesOf(
        orgId,
        groupBy,
        rows.map((r) => r.k),
      );
      const totalNano = rows.reduce((t, r) => t + r.s.cost, 0);
      const data: CostRow[] = rows.map((r) => ({
        key: r.k,
        name: names.get(r.k) ?? r.k,
        cost_usd: usd(r.s.cost),
        input_tokens: r.s.input,
        output_tokens: r.s.output,
        llm_calls: r.s.calls,
        runs: r.s.runs,
        unpriced_calls: r.s.unpriced,
        share: totalNano > 0 ? Math.round((r.s.cost / totalNano) * 10_000) / 10_000 : 0,
      }));
      // Calendar groupings read in time order; the others most expensive first.
      if (groupBy === 'day' || groupBy === 'week' || groupBy === 'month')
        data.sort((a, b) => a.key.localeCompare(b.key));
      else data.sort((a, b) => b.cost_usd - a.cost_usd || b.runs - a.runs || a.name.localeCompare(b.name));
      return {
        group_by: groupBy,
        from: new Date(start).toISOString(),
        to: new Date(end).toISOString(),
        timezone,
        data,
        total_usd: usd(totalNano),
        unpriced_calls: rows.reduce((t, r) => t + r.s.unpriced, 0),
      };
    },
  };
}

export type CostService = ReturnType<typeof createCostService>;
