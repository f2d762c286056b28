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
import type { CostGroupBy, CostRow, CostsQuery, CostsResponse } from '@agentops-hub/contracts';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { invalid } from '../../platform/errors.ts';
import { HOUR_MS } from '../ingestion/rollup-deltas.ts';
import { type CalendarUnit, parseInstant, periodKey } from './calendar.ts';

const DAY_MS = 24 * HOUR_MS;
const NANO = 1e9;
/** Nano-USD to USD; integer sums, one division at the end, so no float drift accumulates. */
export const usd = (nano: number) => Math.round(nano) / NANO;

interface Sums {
  cost: number;
  input: number;
  output: number;
  calls: number;
  runs: number;
  unpriced: number;
}
const zero = (): Sums => ({ cost: 0, input: 0, output: 0, calls: 0, runs: 0, unpriced: 0 });

export function createCostService(deps: {
  db: Kysely<Database>;
  clock: () => number;
  /** Waits (bounded) for calls already ingested to be priced, so a report right after ingestion includes them. */
  settle?: () => Promise<void>;
}) {
  const { db } = deps;

  async function orgTimezone(orgId: OrgId) {
    const org = await db.selectFrom('orgs').select('timezone').where('id', '=', orgId).executeTakeFirst();
    return org?.timezone ?? 'UTC';
  }

  function range(q: Pick<CostsQuery, 'from' | 'to'>, timezone: string) {
    const end = q.to ? parseInstant(q.to, timezone) : deps.clock();
    const start = q.from ? parseInstant(q.from, timezone) : end - 30 * DAY_MS;
    if (!Number.isFinite(start)) throw invalid('from', 'not a date');
    if (!Number.isFinite(end)) throw invalid('to', 'not a date');
    if (start >= end) throw invalid('from', 'must be before `to`');
    if (end - start > 400 * DAY_MS) throw invalid('from', 'a range of at most 400 days');
    return { start: Math.floor(start / HOUR_MS) * HOUR_MS, end };
  }

  /** The rollup rows of the range, summed per grouping column (and per hour for calendar groupings). */
  async function sums(orgId: OrgId, groupBy: CostGroupBy, start: number, end: number, q: CostsQuery) {
    const byModel = groupBy === 'model';
    // Agents join in only where a team is needed (its team); the agent's current team is what counts.
    const needsTeam = Boolean(q.team_id) || groupBy === 'team';
    let query = db
      .selectFrom('rollups_hourly as r')
      .leftJoin('agents as a', (j) =>
        needsTeam ? j.onRef('a.org_id', '=', 'r.org_id').onRef('a.id', '=', 'r.agent_id') : j.on(sql.lit(false)),
      )
      .select((eb) => [
        eb.fn.sum<number>('r.cost_nano').as('cost'),
        eb.fn.sum<number>('r.input_tokens').as('input'),
        eb.fn.sum<number>('r.output_tokens').as('output'),
        eb.fn.sum<number>('r.llm_calls').as('calls'),
        eb.fn.sum<number>('r.runs').as('runs'),
        eb.fn.sum<number>('r.unpriced_calls').as('unpriced'),
      ])
      .where('r.org_id', '=', orgId)
      .where('r.model', byModel ? '!=' : '=', '')
      .where('r.hour', '>=', start)
      .where('r.hour', '<', end);
    if (q.agent_id) query = query.where('r.agent_id', '=', q.agent_id);
    if (q.team_id) query = query.where('a.team_id', '=', q.team_id);
    const n = (v: unknown) => Number(v ?? 0);
    const toSums = (r: {
      cost: unknown;
      input: unknown;
      output: unknown;
      calls: unknown;
      runs: unknown;
      unpriced: unknown;
    }) => ({
      cost: n(r.cost),
      input: n(r.input),
      output: n(r.output),
      calls: n(r.calls),
      runs: byModel ? 0 : n(r.runs),
      unpriced: n(r.unpriced),
    });
    if (groupBy === 'agent')
      return (await query.select('r.agent_id as k').groupBy('r.agent_id').execute()).map((r) => ({
        k: r.k,
        s: toSums(r),
      }));
    if (groupBy === 'model')
      return (await query.select('r.model as k').groupBy('r.model').execute()).map((r) => ({ k: r.k, s: toSums(r) }));
    if (groupBy === 'team')
      return (await query.select('a.team_id as k').groupBy('a.team_id').execute()).map((r) => ({
        k: r.k ?? '',
        s: toSums(r),
      }));
    return (await query.select('r.hour as k').groupBy('r.hour').execute()).map((r) => ({
      k: String(r.k),
      s: toSums(r),
    }));
  }

  async function namesOf(orgId: OrgId, groupBy: CostGroupBy, keys: string[]) {
    if (!keys.length) return new Map<string, string>();
    if (groupBy === 'agent') {
      const rows = await db
        .selectFrom('agents')
        .select(['id', 'name'])
        .where('org_id', '=', orgId)
        .where('id', 'in', keys)
        .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    }
    if (groupBy === 'team') {
      const ids = keys.filter(Boolean);
      const rows = ids.length
        ? await db
            .selectFrom('teams')
            .select(['id', 'name'])
            .where('org_id', '=', orgId)
            .where('id', 'in', ids)
            .execute()
        : [];
      return new Map([...rows.map((r) => [r.id, r.name] as [string, string]), ['', 'No team']]);
    }
    return new Map(keys.map((k) => [k, k]));
  }

  return {
    async query(orgId: OrgId, q: CostsQuery): Promise<CostsResponse> {
      await deps.settle?.();
      const timezone = await orgTimezone(orgId);
      const { start, end } = range(q, timezone);
      const groupBy = q.group_by ?? 'agent';
      let rows = await sums(orgId, groupBy, start, end, q);
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
      const names = await namesOf(
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
