/**
 * `npm run bench -- scaleout`: priced LLM calls ingested round-robin into N = 1, 2, 3 hub processes
 * (`HUB_ROLE=all`, real child processes) sharing one fresh PostgreSQL database and Redis. Per N it
 * prints acknowledged events/s (during BENCH_SECONDS of load), enrichment throughput (events priced per
 * second from the first request until every event is priced), the p95 of the ingest → priced lag
 * (merged from every process's /metrics histogram), and per process the events it priced and its CPU
 * seconds and its wall time in enrichment passes (`enrich_overlap` = their sum over the time to catch
 * up: above 1 means passes of different processes ran at the same time); then the ratios to N = 1. On a 2-CPU machine throughput cannot triple; what it
 * shows is that every process enriches its share of the orgs (enrichment is no longer serialized) and
 * that ingestion does not lose throughput from N = 1 to N = 3.
 * BENCH_SECONDS (default 10), BENCH_ROUNDS (2), BENCH_N (1,2,3), BENCH_ORGS (12), BENCH_CONCURRENCY (12),
 * BENCH_EVENTS_PER_REQUEST (5).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import {
  type ClusterOrg,
  clusterEnv,
  eventually,
  freshDatabase,
  type HubProcess,
  seedOrgs,
  startHub,
} from '../packages/server/test/cluster-hubs.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ORGS = Number(process.env.BENCH_ORGS ?? 12);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 12);
const PER_REQUEST = Number(process.env.BENCH_EVENTS_PER_REQUEST ?? 5);
const BASE_PORT = 44_000 + (process.pid % 300) * 4;

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** The buckets of `hub_enrichment_lag_seconds{stage="priced"}` and the priced-rows counter of one process. */
async function scrape(hub: HubProcess) {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const buckets = new Map<number, number>();
  let priced = 0;
  let busySeconds = 0;
  for (const line of text.split('\n')) {
    const b = /^hub_enrichment_lag_seconds_bucket\{le="([^"]+)",stage="priced"\} (\S+)/.exec(line);
    if (b) buckets.set(b[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(b[1]), Number(b[2]));
    const c = /^hub_enrichment_rows_total\{stage="priced"\} (\S+)/.exec(line);
    if (c) priced = Number(c[1]);
    const busy = /^hub_enrichment_busy_seconds_total (\S+)/.exec(line);
    if (busy) busySeconds = Number(busy[1]);
  }
  return { buckets, priced, busySeconds };
}

/** p95 upper bound from merged cumulative histogram buckets. */
function p95(all: Map<number, number>[]) {
  const merged = new Map<number, number>();
  for (const m of all) for (const [le, n] of m) merged.set(le, (merged.get(le) ?? 0) + n);
  const les = [...merged.keys()].sort((a, b) => a - b);
  const total = merged.get(Number.POSITIVE_INFINITY) ?? 0;
  return les.find((le) => merged.get(le)! >= total * 0.95) ?? null;
}

function body(i: number) {
  const now = Date.now();
  return JSON.stringify({
    agent: `Bot${i % 4}`,
    status: 'completed',
    started_at: new Date(now - 1000).toISOString(),
    ended_at: new Date(now).toISOString(),
    events: Array.from({ length: PER_REQUEST }, () => ({
      type: 'llm_call',
      timestamp: new Date(now).toISOString(),
      payload: { model: 'gpt-4o', input_tokens: 1000, output_tokens: 200 },
    })),
  });
}

async function runFor(n: number) {
  const db = await freshDatabase('scaleout');
  const env = clusterEnv(db.url);
  const orgs: ClusterOrg[] = await seedOrgs(env, ORGS);
  const hubs: HubProcess[] = [];
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    for (let i = 0; i < n; i++) hubs.push(await startHub(env, BASE_PORT + i, 'all', { HUB_LOG_LEVEL: 'error' }));
    // Wait for the partitions to be shared, so the figures are not of a cluster still forming.
    await eventually(async () => {
      const r = await client.query(
        'select count(distinct owner)::int as n from enrichment_leases where owner is not null',
      );
      return r.rows[0].n === n;
    }, 'partitions to be shared');
    const cpu0 = hubs.map((h) => cpuSeconds(h.child.pid!));
    const start = Date.now();
    const end = start + SECONDS * 1000;
    let acked = 0;
    let i = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < end) {
          const k = i++;
          const org = orgs[k % orgs.length]!;
          const r = await fetch(`${hubs[k % hubs.length]!.url}/v1/ingest/run`, {
            method: 'POST',
            headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
            body: body(k),
          });
          await r.arrayBuffer();
          if (r.status === 202) acked += PER_REQUEST;
        }
      }),
    );
    const ingestSeconds = (Date.now() - start) / 1000;
    await eventually(
      async () => (await client.query('select 1 from events where enriched = 0 limit 1')).rowCount === 0,
      'enrichment to catch up',
      600_000,
    );
    const caughtUp = (Date.now() - start) / 1000;
    const cpu = hubs.map((h, k) => cpuSeconds(h.child.pid!) - cpu0[k]!);
    const scraped = await Promise.all(hubs.map(scrape));
    return {
      n,
      acked_events_per_s: Math.round(acked / ingestSeconds),
      priced_events_per_s: Math.round(acked / caughtUp),
      lag_p95_s: p95(scraped.map((s) => s.buckets)),
      priced_per_process: scraped.map((s) => s.priced),
      enrich_busy_s_per_process: scraped.map((s) => Math.round(s.busySeconds * 10) / 10),
      // Sum of the processes' time in passes over the wall time to catch up: above 1, passes overlapped.
      enrich_overlap: Math.round((scraped.reduce((a, s) => a + s.busySeconds, 0) / caughtUp) * 100) / 100,
      cpu_s_per_process: cpu.map((c) => Math.round(c * 10) / 10),
    };
  } finally {
    for (const h of hubs) await h.stop();
    await client.end();
    await db.drop();
  }
}

// Rounds alternate the order (1, 2, 3, then 3, 2, 1, …) so a slow spell of a shared machine does not
// land on one N only; the ratios use each N's mean over the rounds.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const NS = (process.env.BENCH_N ?? '1,2,3').split(',').map(Number);
const results: Awaited<ReturnType<typeof runFor>>[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const n of round % 2 ? [...NS].reverse() : NS) {
    const r = await runFor(n);
    results.push(r);
    console.log(JSON.stringify({ bench: 'scaleout', round: round + 1, ...r }));
  }
}
const mean = (n: number, f: (r: (typeof results)[number]) => number) => {
  const of = results.filter((r) => r.n === n);
  return of.reduce((a, r) => a + f(r), 0) / of.length;
};
const round2 = (x: number) => Math.round(x * 100) / 100;
for (const n of NS)
  console.log(
    JSON.stringify({
      bench: 'scaleout',
      n,
      mean_acked_events_per_s: Math.round(mean(n, (r) => r.acked_events_per_s)),
      mean_priced_events_per_s: Math.round(mean(n, (r) => r.priced_events_per_s)),
      acked_ratio: round2(mean(n, (r) => r.acked_events_per_s) / mean(1, (r) => r.acked_events_per_s)),
      priced_ratio: round2(mean(n, (r) => r.priced_events_per_s) / mean(1, (r) => r.priced_events_per_s)),
      mean_enrich_overlap: round2(mean(n, (r) => r.enrich_overlap)),
      processes_that_priced: Math.min(
        ...results.filter((r) => r.n === n).map((r) => r.priced_per_process.filter((p) => p > 0).length),
      ),
    }),
  );
process.exit(0);
