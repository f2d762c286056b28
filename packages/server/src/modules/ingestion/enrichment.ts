/**
 * Enrichment: everything ingestion leaves for later. Prices each llm_call (a client's cost is trusted;
 * otherwise the price table with the org's overrides; an unknown model is flagged, never $0), adds
 * tokens and cost to the run, keeps the hourly rollups (runs, outcomes, latency sketch, tokens, cost)
 * and the run search index. Its state is in the rows (`events.enriched`, `runs.dirty`), so it can stop,
 * fail or lag and catch up later; ingestion never waits for it. One enricher at a time across processes
 * (an advisory lock on PostgreSQL; SQLite has one process).
 */
import type { LlmCallPayload } from '@agentops-hub/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { createRollupDeltas } from './rollup-deltas.ts';
import { searchText, writeSearchIndex } from './run-search.ts';

export interface CostQuoter {
  /** Cost in nano-USD, or null when the model is not priced. */
  quote(orgId: string, usage: LlmCallPayload, at: number): Promise<number | null> | number | null;
}

interface Counted {
  agent: string;
  started: number;
  status: string;
  latency: number | null;
}

const BATCH = 1000;

export function createEnrichment(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  quoter: CostQuoter;
  log: { warn(o: unknown, m?: string): void };
  /** Called after enrichment changed costs (budgets will listen). */
  onEnriched?: (orgIds: Set<string>) => void;
}) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let stopped = true;
  let again = false;

  async function lock(trx: Transaction<Database>) {
    if (deps.dialect !== 'postgres') return true;
    const r = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('hub:enrichment')) as ok`.execute(
      trx,
    );
    return Boolean(r.rows[0]?.ok);
  }

  async function enrichEvents(
    trx: Transaction<Database>,
    rollups: ReturnType<typeof createRollupDeltas>,
    orgs: Set<string>,
  ) {
    const events = await trx
      .selectFrom('events')
      .select(['org_id', 'id', 'run_id', 'agent_id', 'type', 'ts', 'payload'])
      .where('enriched', '=', 0)
      .orderBy('received_at')
      .limit(BATCH)
      .execute();
    const perRun = new Map<
      string,
      { org: string; run: string; inTok: number; outTok: number; cost: number; unknown: boolean }
    >();
    for (const e of events) {
      if (e.type !== 'llm_call') {
        await trx
          .updateTable('events')
          .set({ enriched: 1 })
          .where('org_id', '=', e.org_id)
          .where('id', '=', e.id)
          .execute();
        continue;
      }
      const p = JSON.parse(e.payload) as LlmCallPayload;
      const ts = Number(e.ts);
      let cost: number | null;
      let source: string;
      if (typeof p.cost_usd === 'number') {
        cost = Math.round(p.cost_usd * 1e9);
        source = 'client';
      } else {
        cost = await deps.quoter.quote(e.org_id, p, ts);
        source = cost === null ? 'unknown_model' : 'price_table';
      }
      const inTok = Number(p.input_tokens ?? 0);
      const outTok = Number(p.output_tokens ?? 0);
      await trx
        .updateTable('events')
        .set({
          enriched: 1,
          model: p.model,
          input_tokens: inTok,
          output_tokens: outTok,
          cost_nano: cost,
          cost_source: source,
        })
        .where('org_id', '=', e.org_id)
        .where('id', '=', e.id)
        .execute();
      const key = `${e.org_id}\u0000${e.run_id}`;
      const r = perRun.get(key) ?? { org: e.org_id, run: e.run_id, inTok: 0, outTok: 0, cost: 0, unknown: false };
      r.inTok += inTok;
      r.outTok += outTok;
      if (cost === null) r.unknown = true;
      else r.cost += cost;
      perRun.set(key, r);
      rollups.llmCall(e.org_id, e.agent_id, ts, p.model, inTok, outTok, cost);
      orgs.add(e.org_id);
    }
    for (const r of perRun.values()) {
      await trx
        .updateTable('runs')
        .set({
          input_tokens: sql`input_tokens + ${r.inTok}`,
          output_tokens: sql`output_tokens + ${r.outTok}`,
          cost_nano: sql`cost_nano + ${r.cost}`,
          ...(r.unknown ? { cost_unknown: 1 } : {}),
        })
        .where('org_id', '=', r.org)
        .where('id', '=', r.run)
        .execute();
    }
    return events.length;
  }

  async function enrichRuns(trx: Transaction<Database>, rollups: ReturnType<typeof createRollupDeltas>) {
    let q = trx.selectFrom('runs').selectAll().where('dirty', '=', 1).orderBy('updated_at').limit(BATCH);
    if (deps.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const runs = await q.execute();
    for (const r of runs) {
      const before = r.counted ? (JSON.parse(r.counted) as Counted) : null;
      const started = Number(r.started_at);
      const latency = r.ended_at !== null && r.status !== 'running' ? Math.max(0, Number(r.ended_at) - started) : null;
      const now: Counted = { agent: r.agent_id, started, status: r.status, latency };
      if (before) rollups.run(r.org_id, before.agent, before.started, before.status, before.latency, -1);
      rollups.run(r.org_id, now.agent, now.started, now.status, now.latency, 1);
      await writeSearchIndex(trx, deps.dialect, r.org_id, r.id, searchText(r));
      await trx
        .updateTable('runs')
        .set({ dirty: 0, counted: JSON.stringify(now) })
        .where('org_id', '=', r.org_id)
        .where('id', '=', r.id)
        .where('version', '=', Number(r.version))
        .execute();
    }
    return runs.length;
  }

  /** One pass: returns how many rows it handled (0 when caught up or another process holds the lock). */
  async function runOnce(): Promise<number> {
    const orgs = new Set<string>();
    const n = await deps.db.transaction().execute(async (trx) => {
      if (!(await lock(trx))) return 0;
      const rollups = createRollupDeltas();
      const e = await enrichEvents(trx, rollups, orgs);
      const r = await enrichRuns(trx, rollups);
      await rollups.apply(trx);
      return e + r;
    });
    if (orgs.size) deps.onEnriched?.(orgs);
    return n;
  }

  async function loop() {
    try {
      while (!stopped) {
        again = false;
        const n = await runOnce();
        if (n === 0 && !again) break;
      }
    } catch (e) {
      deps.log.warn({ err: e }, 'enrichment pass failed; will retry');
    }
    return 0;
  }

  function kick() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = loop().finally(() => {
      running = null;
    });
  }

  return {
    runOnce,
    /** Enrich until caught up (tests, and the benchmark's enrichment lag figure). */
    async catchUp() {
      while ((await runOnce()) > 0) {}
    },
    kick,
    start() {
      stopped = false;
      // A safety net: new rows also kick it directly after each ingestion commit.
      timer = setInterval(kick, 500);
      timer.unref();
      kick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
export type Enrichment = ReturnType<typeof createEnrichment>;
