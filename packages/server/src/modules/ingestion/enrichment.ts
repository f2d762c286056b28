/**
 * Enrichment: everything ingestion leaves for later. Prices each llm_call (a client's cost is trusted;
 * otherwise the price table with the org's overrides; an unknown model is flagged, never $0), adds
 * tokens and cost to the run, keeps the hourly rollups (runs, outcomes, latency sketch, tokens, cost)
 * Its state is in the rows (`events.enriched`, `runs.dirty`), so it can stop,
 * fail or lag and catch up later; ingestion never waits for it.
 *
 * Three modes. SQLite, and a PostgreSQL hub whose enrichment was not started (tests, `migrate`), enrich
 * every org (on PostgreSQL behind one advisory lock). A started PostgreSQL hub joins the cluster: orgs
 * are split into partitions by hash, each leased by one process (platform/jobs/partition-leases.ts),
 * and a pass only reads the partitions this process holds, checked again inside its transaction, so
 * per-org order is kept and N processes enrich N shares at once. A `passive` hub (HUB_ROLE=api) never
 * enriches; its `settle` waits for the processes that do. Whatever the mode, an event is priced and
 * counted only by the update that flips its `enriched` flag, so a handover cannot count a call twice.
 *
 * It is longer than 400 lines because the SQLite and PostgreSQL passes and the three modes share one
 * pricing and counting path, kept in one place so both databases count the same way.
 */
import { type LlmCallPayload, runOutcome } from '@agentops-hub/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { prepareUpdate } from '../../db/writes/sqlite.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createPartitionLeases, type PartitionLeases } from '../../platform/jobs/partition-leases.ts';
import { updateRowsPg } from './enrichment.batch.ts';
import {
  type DirtyRun,
  lockDirtyRuns,
  newestPending,
  oldestPendingAge,
  type PartitionFilter,
  pendingEvents,
  pendingUpTo,
  prepareDirtyRuns,
} from './enrichment.system.ts';
import { ADD_RUN_COST, MARK_ENRICHED, MARK_RUN_COUNTED, PRICE_LLM_CALL } from './ingestion.writes.ts';
import { createRollupDeltas } from './rollup-deltas.ts';

/**
 * Budgets count spend in the same transaction as the pricing (modules/costs/budget-ledger.ts), so
 * their totals are exact; returns how many thresholds were reached.
 */
export interface SpendLedger {
  recordSqlite(sqlite: import('better-sqlite3').Database, calls: SpentCall[]): number;
  recordPg(trx: Transaction<Database>, calls: SpentCall[]): Promise<number>;
}
export interface SpentCall {
  org: OrgId;
  agent: string;
  ts: number;
  cost: number;
}

export interface CostQuoter {
  /** Cost in nano-USD, or null when the model is not priced. */
  quote(orgId: string, usage: LlmCallPayload, at: number): Promise<number | null> | number | null;
}

interface Counted {
  agent: string;
  started: number;
  /** The run's outcome (`runOutcome`: failed split into failed, blocked, paused); older rows say failed. */
  status: string;
  latency: number | null;
}

const BATCH = 2000;
/** Least time between two passes that were not full (see `loop`); times the processes in a cluster. */
const PASS_GAP_MS = 250;
/** The safety-net poll, and its longest interval while idle. */
const POLL_MS = 500;
const IDLE_POLL_MS = 2000;

/** The stages whose lag is measured: received → priced (and its rollups), run written → rolled up. */
export type LagStage = 'priced' | 'rolled_up';
export type LagListener = (stage: LagStage, seconds: number[]) => void;

/** Per run: what this pass adds to its token and cost totals. */
type RunTotals = Map<
  string,
  { org: OrgId; run: string; inTok: number; outTok: number; cost: number; unknown: boolean }
>;

/** A run's totals as the values of ADD_RUN_COST (an unpriced call flags the run: `max` keeps the 1). */
const runCost = (r: RunTotals extends Map<string, infer V> ? V : never) => ({
  id: r.run,
  input_tokens: r.inTok,
  output_tokens: r.outTok,
  cost_nano: r.cost,
  cost_unknown: r.unknown ? 1 : 0,
});

/** Rows grouped by their org, in first-seen order: a pass writes each org's rows in one statement. */
function byOrg<R extends { org_id: OrgId }>(rows: readonly R[]): Map<OrgId, R[]> {
  const out = new Map<OrgId, R[]>();
  for (const r of rows) {
    const list = out.get(r.org_id);
    if (list) list.push(r);
    else out.set(r.org_id, [r]);
  }
  return out;
}

/** One newly priced LLM call: onto its run's totals, its rollups and the set of orgs that changed. */
function countLlmCall(
  e: { org_id: OrgId; run_id: string; agent_id: string; ts: number },
  l: { model: string; inTok: number; outTok: number; cost: number | null },
  perRun: RunTotals,
  rollups: ReturnType<typeof createRollupDeltas>,
  orgs: Set<string>,
  spent: SpentCall[],
) {
  const key = `${e.org_id}\u0000${e.run_id}`;
  const r = perRun.get(key) ?? { org: e.org_id, run: e.run_id, inTok: 0, outTok: 0, cost: 0, unknown: false };
  r.inTok += l.inTok;
  r.outTok += l.outTok;
  if (l.cost === null) r.unknown = true;
  else r.cost += l.cost;
  perRun.set(key, r);
  rollups.llmCall(e.org_id, e.agent_id, e.ts, l.model, l.inTok, l.outTok, l.cost);
  orgs.add(e.org_id);
  if (l.cost) spent.push({ org: e.org_id, agent: e.agent_id, ts: e.ts, cost: l.cost });
}

/** Moves a run's contribution to the run-level rollup from what was counted to what it is now. */
function countRun(
  r: Pick<DirtyRun, 'org_id' | 'agent_id' | 'status' | 'error' | 'started_at' | 'ended_at' | 'counted'>,
  rollups: ReturnType<typeof createRollupDeltas>,
): Counted {
  const before = r.counted ? (JSON.parse(r.counted) as Counted) : null;
  const started = Number(r.started_at);
  const latency = r.ended_at !== null && r.status !== 'running' ? Math.max(0, Number(r.ended_at) - started) : null;
  // Only a failed run's error can change its outcome, so only those are parsed.
  const status =
    r.status === 'failed' && r.error ? runOutcome({ status: r.status, error: JSON.parse(r.error) }) : r.status;
  const now: Counted = { agent: r.agent_id, started, status, latency };
  if (before) rollups.run(r.org_id, before.agent, before.started, before.status, before.latency, -1);
  rollups.run(r.org_id, now.agent, now.started, now.status, now.latency, 1);
  return now;
}

export function createEnrichment(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The raw SQLite handle for the prepared-statement pass (absent on PostgreSQL). */
  sqlite?: import('better-sqlite3').Database;
  quoter: CostQuoter;
  log: { warn(o: unknown, m?: string): void };
  /** Counts spend against budgets inside the pass's transaction. */
  ledger?: SpendLedger;
  /** Called after a pass committed new costs; `crossings` = budget thresholds it reached. */
  onEnriched?: (orgIds: Set<string>, crossings: number) => void;
  /** Cluster leases (PostgreSQL); tests shorten them. */
  leaseTtlMs?: number;
}) {
  let timer: NodeJS.Timeout | null = null;
  let mode: 'standalone' | 'cluster' | 'passive' = 'standalone';
  let leases: PartitionLeases | null = null;
  const lagListeners = new Set<LagListener>();
  const observe = (stage: LagStage, seconds: number[]) => {
    if (seconds.length) for (const l of lagListeners) l(stage, seconds);
  };
  const partitions = (): PartitionFilter =>
    mode === 'standalone' ? 'all' : mode === 'cluster' ? (leases?.held() ?? []) : [];
  let running: Promise<number> | null = null;
  let stopped = true;
  let again = false;
  let pendingKick: NodeJS.Timeout | null = null;

  async function lock(trx: Transaction<Database>) {
    if (deps.dialect !== 'postgres') return true;
    const r = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('hub:enrichment')) as ok`.execute(
      trx,
    );
    return Boolean(r.rows[0]?.ok);
  }

  interface PricedEvent {
    org_id: OrgId;
    id: string;
    run_id: string;
    agent_id: string;
    ts: number;
    received_at: number;
    /** Its org's partition (cluster mode). */
    part?: number;
    llm: { model: string; inTok: number; outTok: number; cost: number | null; source: string } | null;
  }

  /**
   * Reads and prices a batch outside any transaction: pricing may read the org's overrides, and on
   * SQLite a query on the root handle inside an open transaction would wait for itself forever.
   */
  async function priceBatch(parts: PartitionFilter): Promise<PricedEvent[]> {
    const events = await pendingEvents(deps.db, BATCH, parts);
    const out: PricedEvent[] = [];
    for (const e of events) {
      const base = {
        org_id: e.org_id,
        id: e.id,
        run_id: e.run_id,
        agent_id: e.agent_id,
        ts: e.ts,
        received_at: e.received_at,
        part: e.part,
      };
      // Rows written before non-LLM events were stored as already enriched.
      if (e.type !== 'llm_call') {
        out.push({ ...base, llm: null });
        continue;
      }
      const p = JSON.parse(e.payload) as LlmCallPayload;
      let cost: number | null;
      let source: string;
      if (typeof p.cost_usd === 'number') {
        cost = Math.round(p.cost_usd * 1e9);
        source = 'client';
      } else {
        cost = await deps.quoter.quote(e.org_id, p, base.ts);
        source = cost === null ? 'unknown_model' : 'price_table';
      }
      out.push({
        ...base,
        llm: { model: p.model, inTok: Number(p.input_tokens ?? 0), outTok: Number(p.output_tokens ?? 0), cost, source },
      });
    }
    return out;
  }

  /**
   * Applies a priced batch, one statement per org and kind of write (enrichment.batch.ts); a row
   * another enricher already took (enriched = 1) is not among those updated, so it is not counted.
   */
  async function applyEvents(
    trx: Transaction<Database>,
    priced: PricedEvent[],
    rollups: ReturnType<typeof createRollupDeltas>,
    orgs: Set<string>,
    spent: SpentCall[],
    lags: number[],
  ) {
    const perRun: RunTotals = new Map();
    const at = Date.now();
    for (const [org, events] of byOrg(priced)) {
      const plain = events.filter((e) => !e.llm).map((e) => ({ id: e.id, ts: e.ts }));
      await updateRowsPg(trx, org, MARK_ENRICHED, plain, ['ts']);
      const calls = events.filter((e) => e.llm);
      const done = await updateRowsPg(
        trx,
        org,
        PRICE_LLM_CALL,
        calls.map(({ id, ts, llm: l }) => ({
          id,
          ts,
          model: l!.model,
          input_tokens: l!.inTok,
          output_tokens: l!.outTok,
          cost_nano: l!.cost,
          cost_source: l!.source,
        })),
        ['ts'],
      );
      for (const e of calls) {
        if (!done.has(e.id)) continue;
        lags.push((at - e.received_at) / 1000);
        countLlmCall(e, e.llm!, perRun, rollups, orgs, spent);
      }
    }
    for (const [org, runs] of byOrg([...perRun.values()].map((r) => ({ ...r, org_id: r.org }))))
      await updateRowsPg(trx, org, ADD_RUN_COST, runs.map(runCost));
    return priced.length;
  }

  async function enrichRuns(
    trx: Transaction<Database>,
    rollups: ReturnType<typeof createRollupDeltas>,
    parts: PartitionFilter,
    lags: number[],
  ) {
    // Locked FOR UPDATE by this pass: no write can change their version before it commits.
    const runs = await lockDirtyRuns(trx, deps.dialect, BATCH, parts);
    const at = Date.now();
    for (const [org, ofOrg] of byOrg(runs)) {
      const counted = ofOrg.map((r) => {
        lags.push((at - r.updated_at) / 1000);
        return { id: r.id, counted: JSON.stringify(countRun(r, rollups)), version: r.version };
      });
      await updateRowsPg(trx, org, MARK_RUN_COUNTED, counted);
    }
    return runs.length;
  }

  /** One pass: returns how many rows it handled (0 when caught up or another process holds the lock). */
  /**
   * SQLite: the same pass with cached prepared statements, synchronous inside one transaction while
   * Kysely's single connection is held (about ten times the statements per second of the query builder).
   */
  const sqlitePass = deps.sqlite ? createSqlitePass(deps.sqlite) : null;
  function createSqlitePass(sqlite: import('better-sqlite3').Database) {
    const setLlm = prepareUpdate(sqlite, PRICE_LLM_CALL);
    const setPlain = prepareUpdate(sqlite, MARK_ENRICHED);
    const addToRun = prepareUpdate(sqlite, ADD_RUN_COST);
    const dirtyRuns = prepareDirtyRuns(sqlite);
    const markCounted = prepareUpdate(sqlite, MARK_RUN_COUNTED);
    return sqlite.transaction((priced: PricedEvent[], orgs: Set<string>, crossings: { n: number }, lags: number[]) => {
      const at = Date.now();
      const rollups = createRollupDeltas();
      const perRun: RunTotals = new Map();
      const spent: SpentCall[] = [];
      for (const e of priced) {
        const l = e.llm;
        if (!l) {
          setPlain(e.org_id, { id: e.id });
          continue;
        }
        const usage = { id: e.id, model: l.model, input_tokens: l.inTok, output_tokens: l.outTok };
        if (setLlm(e.org_id, { ...usage, cost_nano: l.cost, cost_source: l.source }).changes === 0) continue;
        lags.push((at - e.received_at) / 1000);
        countLlmCall(e, l, perRun, rollups, orgs, spent);
      }
      if (deps.ledger && spent.length) crossings.n = deps.ledger.recordSqlite(sqlite, spent);
      for (const r of perRun.values()) addToRun(r.org, runCost(r));
      const runs = dirtyRuns(BATCH);
      for (const r of runs) {
        const now = countRun(r, rollups);
        markCounted(r.org_id, { id: r.id, counted: JSON.stringify(now), version: r.version });
      }
      rollups.applySqlite(sqlite);
      return priced.length + runs.length;
    });
  }

  /** Wall time spent in passes that handled rows: across processes, more than elapsed time means overlap. */
  let busyMs = 0;
  async function runOnce(): Promise<number> {
    const t0 = performance.now();
    const n = await pass();
    if (n > 0) busyMs += performance.now() - t0;
    noteIdle(n);
    return n;
  }

  async function pass(): Promise<number> {
    if (mode === 'passive') return 0;
    const parts = partitions();
    if (parts !== 'all' && parts.length === 0) return 0;
    const orgs = new Set<string>();
    const crossings = { n: 0 };
    const priced = await priceBatch(parts);
    const pricedLags: number[] = [];
    const runLags: number[] = [];
    if (sqlitePass) {
      const n = await deps.db.connection().execute(async () => sqlitePass(priced, orgs, crossings, pricedLags));
      observe('priced', pricedLags);
      observe('rolled_up', pricedLags);
      if (orgs.size) deps.onEnriched?.(orgs, crossings.n);
      return n;
    }
    const n = await deps.db.transaction().execute(async (trx) => {
      let held = parts;
      if (held === 'all') {
        if (!(await lock(trx))) return 0;
      } else {
        // The leases still held, locked FOR SHARE until commit: none can move to another process mid-pass.
        const fenced = new Set(await leases!.fence(trx));
        held = held.filter((p) => fenced.has(p));
        if (held.length === 0) return 0;
      }
      // A lease that ran out since the read: its orgs are left to their new holder.
      const mine = held === 'all' ? priced : priced.filter((e) => (held as number[]).includes(e.part ?? -1));
      const rollups = createRollupDeltas();
      const spent: SpentCall[] = [];
      const e = await applyEvents(trx, mine, rollups, orgs, spent, pricedLags);
      if (deps.ledger && spent.length) crossings.n = await deps.ledger.recordPg(trx, spent);
      const r = await enrichRuns(trx, rollups, held, runLags);
      await rollups.apply(trx);
      return e + r;
    });
    observe('priced', pricedLags);
    observe('rolled_up', pricedLags.concat(runLags));
    if (orgs.size) deps.onEnriched?.(orgs, crossings.n);
    return n;
  }

  /**
   * Cluster and passive modes: waits (at most until `until`) for the processes that hold the other
   * partitions to enrich what was pending when it was called.
   */
  async function waitForOthers(until: number) {
    const newest = await newestPending(deps.db);
    if (newest === null) return;
    while (Date.now() < until && (await pendingUpTo(deps.db, newest))) {
      await new Promise((r) => setTimeout(r, 25));
      if (mode === 'cluster') await runOnce();
    }
  }

  /**
   * Passes until caught up. A pass that took a full batch is followed at once (a backlog); one that
   * took less waits PASS_GAP_MS first, so rows gather into one bigger pass and ingestion, which shares
   * the CPUs, is not interrupted by a pass per few rows. Each pass has a fixed cost (a read, a fence, the
   * rollup and budget writes), and a process that looped on small passes spent as much CPU per event in
   * a cluster of three as twice that of one process. In a cluster the gap grows with the number of
   * processes (`passGap`): each one sees 1/N of the rows, so the cluster as a whole makes as many passes
   * per second, of the same size, as one process would.
   */
  async function loop() {
    try {
      while (!stopped) {
        again = false;
        const n = await runOnce();
        if (n >= BATCH) continue;
        if (n === 0 && !again) break;
        await new Promise((r) => setTimeout(r, passGap()));
      }
    } catch (e) {
      deps.log.warn({ err: e }, 'enrichment pass failed; will retry');
    }
    return 0;
  }

  const passGap = () => PASS_GAP_MS * (mode === 'cluster' && leases ? leases.members() : 1);
  let lastKick = 0;
  /** Asks for a pass soon; under load passes are spaced so enrichment takes big batches. */
  function kick() {
    if (stopped) return;
    const now = Date.now();
    if (now - lastKick < passGap() && !running) {
      if (!pendingKick)
        pendingKick = setTimeout(() => {
          pendingKick = null;
          kick();
        }, passGap());
      return;
    }
    lastKick = now;
    if (running) {
      again = true;
      return;
    }
    running = loop().finally(() => {
      running = null;
    });
  }

  /**
   * The safety net: a pass every POLL_MS however the rows came (in a cluster, rows of this process's
   * partitions are mostly ingested by the others, which cannot kick it). While passes find nothing the
   * interval doubles up to IDLE_POLL_MS, so an idle cluster costs the same few reads per second whatever
   * its size; the first pass that finds rows brings it back.
   */
  let pollMs = POLL_MS;
  function poll() {
    timer = setTimeout(() => {
      if (stopped) return;
      kick();
      poll();
    }, pollMs);
    timer.unref();
  }
  const noteIdle = (n: number) => {
    pollMs = n > 0 ? POLL_MS : Math.min(IDLE_POLL_MS, pollMs * 2);
  };

  return {
    runOnce,
    /**
     * Waits, at most `maxMs`, until what was committed before the call is priced: cost and budget reads
     * then include calls ingested a moment ago. Cheap when caught up (one indexed read).
     */
    async settle(maxMs = 2000) {
      const until = Date.now() + maxMs;
      if (running) await running;
      while (Date.now() < until && (await runOnce()) > 0) {}
      if (mode !== 'standalone') await waitForOthers(until);
    },
    /** Enrich until caught up (tests, and the benchmark's enrichment lag figure). */
    async catchUp() {
      while ((await runOnce()) > 0) {}
      if (mode !== 'standalone') await waitForOthers(Date.now() + 60_000);
    },
    kick,
    /** HUB_ROLE=api: this process never enriches; reads that settle wait for the processes that do. */
    passive() {
      mode = 'passive';
    },
    /** Partitions this process leases (cluster mode), `all` otherwise. */
    partitions,
    /** Seconds this process spent in enrichment passes that handled rows. */
    busySeconds: () => busyMs / 1000,
    /** Seconds, per stage, of the rows each committed pass handled (Prometheus, observability.ts). */
    onLag(listener: LagListener) {
      lagListeners.add(listener);
    },
    /** Age in seconds of the oldest event this process has to enrich and has not yet (0 when caught up). */
    async backlogSeconds() {
      if (mode === 'passive') return 0;
      return (await oldestPendingAge(deps.db, partitions(), Date.now())) / 1000;
    },
    start() {
      if (mode === 'passive') return;
      stopped = false;
      if (deps.dialect === 'postgres' && !leases) {
        mode = 'cluster';
        leases = createPartitionLeases({
          db: deps.db,
          log: deps.log,
          ttlMs: deps.leaseTtlMs,
          // New partitions may hold a backlog: look at once.
          onChange: () => kick(),
        });
        leases.start();
        void leases.beat().catch((err: unknown) => deps.log.warn({ err }, 'partition lease heartbeat failed'));
      }
      // New rows also kick it directly after each ingestion commit of this process.
      poll();
      kick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (pendingKick) clearTimeout(pendingKick);
      timer = null;
      await running;
      await leases?.stop();
      leases = null;
      if (mode === 'cluster') mode = 'standalone';
    },
  };
}
export type Enrichment = ReturnType<typeof createEnrichment>;
