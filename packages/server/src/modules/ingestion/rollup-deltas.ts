/**
 * Accumulates changes to the hourly rollups in memory, then applies them in one read-merge-write per
 * key (latency sketches cannot be merged in portable SQL). Callers hold the enrichment lock.
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { RollupsHourlyTable } from '../../db/schema.ts';
import { upsertRows } from '../../db/writes/postgres.ts';
import { prepareSelect, prepareUpsert } from '../../db/writes/sqlite.ts';
import type { OrgId } from '../../platform/caller.ts';
import { addToSketch, mergeSketches, type Sketch } from '../../platform/latency-sketch.ts';
import { WRITE_ROLLUP } from './ingestion.writes.ts';

export const HOUR_MS = 3_600_000;
export const hourOf = (ts: number) => Math.floor(ts / HOUR_MS) * HOUR_MS;

type Counters = Omit<RollupsHourlyTable, 'org_id' | 'agent_id' | 'hour' | 'model' | 'latency_hist'> & { hist: Sketch };

const zero = (): Counters => ({
  runs: 0,
  completed: 0,
  failed: 0,
  blocked: 0,
  paused: 0,
  latency_sum_ms: 0,
  latency_count: 0,
  llm_calls: 0,
  input_tokens: 0,
  output_tokens: 0,
  cost_nano: 0,
  unpriced_calls: 0,
  hist: {},
});

/** A stored rollup row plus a delta: the new absolute values. */
function merged(row: RollupsHourlyTable | undefined, c: Counters) {
  const hist = mergeSketches(row ? (JSON.parse(row.latency_hist) as Sketch) : {}, {});
  for (const [b, n] of Object.entries(c.hist)) {
    const v = (hist[b] ?? 0) + n;
    if (v <= 0) delete hist[b];
    else hist[b] = v;
  }
  const sum = (k: keyof Omit<Counters, 'hist'>) => Number(row?.[k] ?? 0) + c[k];
  return {
    runs: sum('runs'),
    completed: sum('completed'),
    failed: sum('failed'),
    blocked: sum('blocked'),
    paused: sum('paused'),
    latency_sum_ms: sum('latency_sum_ms'),
    latency_count: sum('latency_count'),
    latency_hist: JSON.stringify(hist),
    llm_calls: sum('llm_calls'),
    input_tokens: sum('input_tokens'),
    output_tokens: sum('output_tokens'),
    cost_nano: sum('cost_nano'),
    unpriced_calls: sum('unpriced_calls'),
  };
}

export function createRollupDeltas() {
  const deltas = new Map<string, { org: OrgId; agent: string; hour: number; model: string; c: Counters }>();
  function at(org: OrgId, agent: string, ts: number, model: string) {
    const hour = hourOf(ts);
    const key = `${org}\u0000${agent}\u0000${hour}\u0000${model}`;
    let d = deltas.get(key);
    if (!d) {
      d = { org, agent, hour, model, c: zero() };
      deltas.set(key, d);
    }
    return d.c;
  }
  return {
    /**
     * A run's contribution: +1 (sign 1) or −1 (sign −1) at its hour. `status` is its outcome: a blocked
     * or paused run counts as failed (the stored status) and in its own column too.
     */
    run(org: OrgId, agent: string, ts: number, status: string, latencyMs: number | null, sign: 1 | -1) {
      const c = at(org, agent, ts, '');
      c.runs += sign;
      if (status === 'completed') c.completed += sign;
      if (status === 'failed' || status === 'blocked' || status === 'paused') c.failed += sign;
      if (status === 'blocked') c.blocked += sign;
      if (status === 'paused') c.paused += sign;
      if (latencyMs !== null) {
        c.latency_sum_ms += sign * latencyMs;
        c.latency_count += sign;
        addToSketch(c.hist, latencyMs, sign);
      }
    },
    /**
     * An LLM call counts on its model's row and on the agent's all-models row (model ''), so the
     * dashboards read one row per agent-hour and the cost breakdown reads the model rows.
     */
    llmCall(
      org: OrgId,
      agent: string,
      ts: number,
      model: string,
      inTok: number,
      outTok: number,
      costNano: number | null,
    ) {
      for (const c of [at(org, agent, ts, model), at(org, agent, ts, '')]) {
        c.llm_calls += 1;
        c.input_tokens += inTok;
        c.output_tokens += outTok;
        if (costNano === null) c.unpriced_calls += 1;
        else c.cost_nano += costNano;
      }
    },
    get size() {
      return deltas.size;
    },
    /** SQLite: the read-merge-write with prepared statements, inside the caller's transaction. */
    applySqlite(sqlite: import('better-sqlite3').Database) {
      const read = prepareSelect<'rollups_hourly', 'agent_id' | 'hour' | 'model', RollupsHourlyTable>(
        sqlite,
        'rollups_hourly',
        WRITE_ROLLUP.key,
        '*',
      );
      const write = prepareUpsert(sqlite, WRITE_ROLLUP);
      for (const d of deltas.values()) {
        const key = { agent_id: d.agent, hour: d.hour, model: d.model };
        write(d.org, { ...key, ...merged(read(d.org, key), d.c) });
      }
    },
    /** PostgreSQL: the same, through the org's scope. */
    async apply(trx: Exec) {
      for (const d of deltas.values()) {
        const row = await orgScope(trx, d.org)
          .selectFrom('rollups_hourly')
          .selectAll()
          .where('agent_id', '=', d.agent)
          .where('hour', '=', d.hour)
          .where('model', '=', d.model)
          .executeTakeFirst();
        const key = { agent_id: d.agent, hour: d.hour, model: d.model };
        await upsertRows(trx, d.org, WRITE_ROLLUP, [{ ...key, ...merged(row, d.c) }]);
      }
    },
  };
}
