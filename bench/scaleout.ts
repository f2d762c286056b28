/**
 * `npm run bench -- scaleout`: priced LLM calls ingested round-robin into N = 1, 2, 3 hub processes
 * (`HUB_ROLE=all`, real child processes) sharing one fresh PostgreSQL database and Redis.
 *
 * It is honest about the machine: in the same run it measures the raw limits (the same load generator
 * against a bare HTTP endpoint, and PostgreSQL alone taking the same rows one commit per request), the
 * machine's load average, and per N where the CPU went (hubs, PostgreSQL backends of the bench database,
 * the load generator) per acknowledged event. On a 2-CPU machine throughput cannot triple: three hubs,
 * PostgreSQL and the load generator share two CPUs, so what N = 3 must show is that every process
 * enriches its share of the orgs at once (enrichment is not serialized) and that the cluster does not
 * spend more CPU per event than one process does (no loss of ingestion throughput).
 *
 * Per N: acknowledged events/s (during BENCH_SECONDS of load), priced events/s (from the first request
 * until every event is priced), the p95 of the ingest → priced lag (merged from every process's
 * /metrics), events each process priced and its CPU seconds, `enrich_overlap` (the processes' summed
 * time in enrichment passes over the time to catch up: above 1, passes of different processes ran at
 * once), events per PostgreSQL commit, and CPU µs per acknowledged event. Rounds alternate the order of
 * N (1, 2, 3, then 3, 2, 1) so a slow spell of a shared machine does not land on one N only.
 *
 * Prints one JSON line per measured run on stderr and one summary line on stdout:
 * {"bench":"scaleout", load1_start, load1_end, cpus, rounds, hub_node_options, loadgen_bare_events_per_s, pg_insert_events_per_s,
 *  n1: {...}, n2: {...}, n3: {...}, acked_ratio_2, acked_ratio_3, priced_ratio_2, priced_ratio_3}.
 *
 * BENCH_SECONDS (default 10), BENCH_WARMUP (4 s of load per process before each measurement), BENCH_ROUNDS (2),
 * BENCH_N (1,2,3), BENCH_ORGS (12), BENCH_CONCURRENCY (12), BENCH_EVENTS_PER_REQUEST (5), BENCH_SERVER_DIR (another checkout's packages/server, for an A/B
 * against older hub code in one sitting), BENCH_HUB_NODE_OPTIONS (NODE_OPTIONS for every hub of every N,
 * e.g. V8 flags to try; printed as `hub_node_options`; default none), BENCH_HUB_NODE_ARGS (flags on every hub's
 * command line, space-separated, for those NODE_OPTIONS refuses such as `--single-threaded-gc`; printed as
 * `hub_node_args`), BENCH_ON_LOAD (a shell command started as each measured load starts, with N in its
 * environment, to profile that window only).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
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
const SERVER_DIR = process.env.BENCH_SERVER_DIR;
const HUB_NODE_OPTIONS = process.env.BENCH_HUB_NODE_OPTIONS ?? '';
const HUB_NODE_ARGS = (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 4);
const IDLE_SECONDS = 3;
const ON_LOAD = process.env.BENCH_ON_LOAD;
const BASE_PORT = 44_000 + (process.pid % 300) * 4;
const ROOT = join(import.meta.dirname, '..');

const CLOCK_TICKS = 100; // USER_HZ on Linux
/** CPU seconds (user + system) a process has used, from /proc (Linux); 0 once it is gone. */
function cpuSeconds(pid: number, thread?: number): number {
  try {
    const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8')
      .split(') ')[1]!
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
  } catch {
    return 0;
  }
}

/**
 * Context switches of a process's main thread (the event loop) from /proc (Linux): voluntary ones are
 * the times it went to sleep with nothing to do and had to be woken, involuntary ones the times the
 * scheduler took the CPU from it. Fewer events per wake-up mean more of the machine's fixed price of
 * a wake-up per event. {0, 0} once it is gone.
 */
function switches(pid: number) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { voluntary: field('voluntary_ctxt_switches'), involuntary: field('nonvoluntary_ctxt_switches') };
  } catch {
    return { voluntary: 0, involuntary: 0 };
  }
}

/** This process's own CPU seconds: the load generator's cost. */
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * The PostgreSQL side of one database: CPU seconds of its backends (the server is shared with other
 * work, so only the backends connected to the bench database are counted) and its commit count.
 */
async function pgSide(client: pg.Client, dbName: string, cpuByPid: Map<number, number>) {
  const r = await client.query('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
    dbName,
  ]);
  // A backend's CPU is kept at its last reading: one that closed mid-run keeps what it had used.
  for (const row of r.rows) cpuByPid.set(row.pid, cpuSeconds(row.pid) || (cpuByPid.get(row.pid) ?? 0));
  const c = await client.query('select xact_commit::bigint as n from pg_stat_database where datname = $1', [dbName]);
  return { cpu: [...cpuByPid.values()].reduce((a, b) => a + b, 0), commits: Number(c.rows[0].n) };
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
type Scraped = Awaited<ReturnType<typeof scrape>>;

/** What a process's counters and histogram gained between two scrapes. */
function minus(after: Scraped, before: Scraped): Scraped {
  return {
    priced: after.priced - before.priced,
    busySeconds: after.busySeconds - before.busySeconds,
    buckets: new Map([...after.buckets].map(([le, n]) => [le, n - (before.buckets.get(le) ?? 0)])),
  };
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

/**
 * The load generator: CONCURRENCY loops, each POSTing one request at a time round-robin over `urls`
 * (keep-alive node:http, cheaper than fetch, so more of the machine is left to the servers). Returns
 * the events acknowledged with 202 and the seconds it ran.
 */
async function drive(urls: string[], auth: (k: number) => string, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = (url: string, key: string, payload: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const start = Date.now();
  const end = start + seconds * 1000;
  let acked = 0;
  let i = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const k = i++;
        if ((await post(urls[k % urls.length]!, auth(k), body(k))) === 202) acked += PER_REQUEST;
      }
    }),
  );
  agent.destroy();
  return { acked, seconds: (Date.now() - start) / 1000 };
}

/** Raw limit 1: the same load generator against a bare endpoint (bench/lib/bare-server.ts, own process). */
async function bareEventsPerSecond() {
  const port = BASE_PORT + 3;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/bare-server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  try {
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 'bare server');
    const url = `http://127.0.0.1:${port}/ingest`;
    await drive([url], () => 'x', 1); // warm-up
    const r = await drive([url], () => 'x', SECONDS / 2);
    return Math.round(r.acked / r.seconds);
  } finally {
    child.kill();
  }
}

/**
 * Raw limit 2: PostgreSQL alone taking the same rows into the hub's events table (its schema and
 * indexes), PER_REQUEST events per statement, one commit per request, CONCURRENCY connections.
 */
async function pgInsertEventsPerSecond(url: string, orgId: string) {
  const clients = await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const payload = JSON.stringify({ model: 'gpt-4o', input_tokens: 1000, output_tokens: 200 });
  let n = 0;
  let seq = 0;
  const start = Date.now();
  const end = start + (SECONDS / 2) * 1000;
  try {
    await Promise.all(
      clients.map(async (c) => {
        while (Date.now() < end) {
          const now = Date.now();
          const values: unknown[] = [];
          const rows: string[] = [];
          for (let k = 0; k < PER_REQUEST; k++) {
            const b = values.length;
            values.push(orgId, `raw_${seq++}`, 'run_raw', 'agt_raw', now, payload);
            rows.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, 'llm_call', $${b + 5}, $${b + 6}, $${b + 5}, 0)`);
          }
          await c.query(
            `insert into events (org_id, id, run_id, agent_id, type, ts, payload, received_at, enriched) values ${rows.join(', ')}`,
            values,
          );
          n += PER_REQUEST;
        }
      }),
    );
    return Math.round(n / ((Date.now() - start) / 1000));
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** Waits until no event is left to price. */
const caughtUp = (client: pg.Client) =>
  eventually(
    async () => (await client.query('select 1 from events where enriched = 0 limit 1')).rowCount === 0,
    'enrichment to catch up',
    600_000,
  );

async function runFor(n: number) {
  const db = await freshDatabase('scaleout');
  const dbName = new URL(db.url).pathname.slice(1);
  const env = clusterEnv(db.url);
  const orgs: ClusterOrg[] = await seedOrgs(env, ORGS);
  const hubs: HubProcess[] = [];
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    for (let i = 0; i < n; i++)
      hubs.push(
        await startHub(
          env,
          BASE_PORT + i,
          'all',
          { HUB_LOG_LEVEL: 'error', ...(HUB_NODE_OPTIONS ? { NODE_OPTIONS: HUB_NODE_OPTIONS } : {}) },
          SERVER_DIR,
          HUB_NODE_ARGS,
        ),
      );
    // Wait for the partitions to be shared, so the figures are not of a cluster still forming.
    await eventually(async () => {
      const r = await client.query(
        'select count(distinct owner)::int as n from enrichment_leases where owner is not null',
      );
      return r.rows[0].n === n;
    }, 'partitions to be shared');
    // Warm-up, not measured: every process compiles its hot paths and loads its lazy modules (about a
    // second of CPU each, which with three processes and a short run was a tenth of the figure), then
    // enrichment catches up, so each N is measured in its steady state.
    const urls = hubs.map((h) => `${h.url}/v1/ingest/run`);
    const auth = (k: number) => orgs[k % orgs.length]!.apiKey;
    // The warm-up lasts WARMUP seconds per process, so each process of N serves about as many requests
    // before the measurement as the one process of N = 1 does: V8 optimizes a function after enough
    // calls, not after enough time. With a fixed warm-up, a CPU profile of the measured 10 s at N = 3
    // showed V8's optimizing compiler taking 12% of the machine, against 5% at N = 1.
    if (WARMUP > 0) {
      await drive(urls, auth, WARMUP * n);
      await caughtUp(client);
    }
    // Each process's idle CPU rate (timers, polls, heartbeats), so the CPU the events cost can be told
    // from the CPU a process spends per second anyway, which on a starved machine stretches over more time.
    const idle0 = hubs.map((h) => cpuSeconds(h.child.pid!));
    const idleStart = Date.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleRate = hubs.map((h, k) => (cpuSeconds(h.child.pid!) - idle0[k]!) / ((Date.now() - idleStart) / 1000));
    const scraped0 = await Promise.all(hubs.map(scrape));
    const pgCpu = new Map<number, number>();
    const pg0 = await pgSide(client, dbName, pgCpu);
    const cpu0 = hubs.map((h) => cpuSeconds(h.child.pid!));
    // The event loop's thread alone (its task id is the process id); the rest is V8's helper threads
    // (garbage collection, compilation) and libuv's pool.
    const mainThread0 = hubs.map((h) => cpuSeconds(h.child.pid!, h.child.pid!));
    const self0 = selfCpu();
    const switches0 = hubs.map((h) => switches(h.child.pid!));
    const selfSwitches0 = switches(process.pid);
    const start = Date.now();
    // A profiler for the measured window only, e.g. BENCH_ON_LOAD='perf record -a -g -o /tmp/n$N.data -- sleep 8'.
    if (ON_LOAD) spawn(ON_LOAD, { shell: true, stdio: 'ignore', env: { ...process.env, N: String(n) } });
    const r = await drive(urls, auth, SECONDS);
    const ingestCpu = hubs.map((h, k) => cpuSeconds(h.child.pid!) - cpu0[k]!);
    const mainThreadCpu = hubs.reduce((a, h, k) => a + cpuSeconds(h.child.pid!, h.child.pid!) - mainThread0[k]!, 0);
    const hubSwitches = hubs.map((h, k) => {
      const s = switches(h.child.pid!);
      return {
        voluntary: s.voluntary - switches0[k]!.voluntary,
        involuntary: s.involuntary - switches0[k]!.involuntary,
      };
    });
    const selfSwitches = switches(process.pid);
    const pg1 = await pgSide(client, dbName, pgCpu);
    const clientCpu = selfCpu() - self0;
    await caughtUp(client);
    const toCatchUp = (Date.now() - start) / 1000;
    const pg2 = await pgSide(client, dbName, pgCpu);
    const cpu = hubs.map((h, k) => cpuSeconds(h.child.pid!) - cpu0[k]!);
    // The counters since the warm-up.
    const scraped = (await Promise.all(hubs.map(scrape))).map((s, k) => minus(s, scraped0[k]!));
    const perEvent = (s: number) => Math.round((s * 1e6) / Math.max(1, r.acked));
    const per100 = (count: number) => Math.round((count * 1000) / Math.max(1, r.acked)) / 10;
    // Ingestion and enrichment of the events, through catch-up, less the processes' idle rate.
    const work = cpu.reduce((a, c, k) => a + c - idleRate[k]! * toCatchUp, 0);
    const hubIngestCpu = ingestCpu.reduce((a, b) => a + b, 0);
    return {
      n,
      acked_events_per_s: Math.round(r.acked / r.seconds),
      priced_events_per_s: Math.round(r.acked / toCatchUp),
      lag_p95_s: p95(scraped.map((s) => s.buckets)),
      priced_per_process: scraped.map((s) => s.priced),
      enrich_busy_s_per_process: scraped.map((s) => Math.round(s.busySeconds * 10) / 10),
      // Sum of the processes' time in passes over the wall time to catch up: above 1, passes overlapped.
      enrich_overlap: Math.round((scraped.reduce((a, s) => a + s.busySeconds, 0) / toCatchUp) * 100) / 100,
      cpu_s_per_process: cpu.map((c) => Math.round(c * 10) / 10),
      idle_cpu_pct_per_process: idleRate.map((x) => Math.round(x * 1000) / 10),
      // The steadiest figure on a shared machine: hub CPU per event to ingest it and to enrich it.
      hub_work_us_per_event: perEvent(work),
      // Group commit: events per PostgreSQL transaction while loaded (every transaction of the database).
      events_per_commit: Math.round((r.acked / Math.max(1, pg1.commits - pg0.commits)) * 10) / 10,
      // Where the CPU went during the load, per acknowledged event, and how busy the machine was.
      cpu_us_per_event: {
        hubs: perEvent(hubIngestCpu),
        hubs_event_loop_thread: perEvent(mainThreadCpu),
        // Through catch-up: PostgreSQL's share of enrichment included.
        postgres: perEvent(pg2.cpu - pg0.cpu),
        load_generator: perEvent(clientCpu),
      },
      // Per 100 acknowledged events, while loaded: how often the hubs' event loops slept and were woken
      // (voluntary) or were preempted (involuntary), and the same for the load generator as a control.
      switches_per_100_events: {
        hubs_voluntary: per100(hubSwitches.reduce((a, s) => a + s.voluntary, 0)),
        hubs_involuntary: per100(hubSwitches.reduce((a, s) => a + s.involuntary, 0)),
        load_generator_voluntary: per100(selfSwitches.voluntary - selfSwitches0.voluntary),
        load_generator_involuntary: per100(selfSwitches.involuntary - selfSwitches0.involuntary),
      },
      machine_busy: Math.round(((hubIngestCpu + pg1.cpu - pg0.cpu + clientCpu) / (r.seconds * CPUS)) * 100) / 100,
    };
  } finally {
    for (const h of hubs) await h.stop();
    await client.end();
    await db.drop();
  }
}

const CPUS = availableParallelism();
const load1Start = loadavg()[0]!;
// The raw limits, measured before the hubs and again after them (the machine drifts); the mean is kept.
async function rawLimits() {
  const db = await freshDatabase('scaleout_raw');
  try {
    const [org] = await seedOrgs(clusterEnv(db.url), 1);
    return { bare: await bareEventsPerSecond(), pg: await pgInsertEventsPerSecond(db.url, org!.orgId) };
  } finally {
    await db.drop();
  }
}
const raw0 = await rawLimits();

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const NS = (process.env.BENCH_N ?? '1,2,3').split(',').map(Number);
const results: Awaited<ReturnType<typeof runFor>>[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const n of round % 2 ? [...NS].reverse() : NS) {
    const r = await runFor(n);
    results.push(r);
    process.stderr.write(`${JSON.stringify({ bench: 'scaleout', round: round + 1, ...r })}\n`);
  }
}
const raw1 = await rawLimits();

const of = (n: number) => results.filter((r) => r.n === n);
const mean = (n: number, f: (r: (typeof results)[number]) => number) =>
  of(n).reduce((a, r) => a + f(r), 0) / of(n).length;
const round2 = (x: number) => Math.round(x * 100) / 100;
const summary: Record<string, unknown> = {
  bench: 'scaleout',
  cpus: CPUS,
  load1_start: round2(load1Start),
  load1_end: round2(loadavg()[0]!),
  rounds: ROUNDS,
  hub_node_options: HUB_NODE_OPTIONS,
  hub_node_args: HUB_NODE_ARGS.join(' '),
  loadgen_bare_events_per_s: Math.round((raw0.bare + raw1.bare) / 2),
  pg_insert_events_per_s: Math.round((raw0.pg + raw1.pg) / 2),
};
for (const n of NS) {
  const last = of(n).at(-1)!;
  summary[`n${n}`] = {
    acked_events_per_s: Math.round(mean(n, (r) => r.acked_events_per_s)),
    priced_events_per_s: Math.round(mean(n, (r) => r.priced_events_per_s)),
    lag_p95_s: last.lag_p95_s,
    priced_per_process: last.priced_per_process,
    processes_that_priced: Math.min(...of(n).map((r) => r.priced_per_process.filter((p) => p > 0).length)),
    enrich_overlap: round2(mean(n, (r) => r.enrich_overlap)),
    events_per_commit: round2(mean(n, (r) => r.events_per_commit)),
    hub_work_us_per_event: Math.round(mean(n, (r) => r.hub_work_us_per_event)),
    // What these costs allow on this machine's CPUs with nothing else running: an estimate, not a measure.
    cpu_bound_events_per_s: Math.round(
      (CPUS * 1e6) /
        mean(n, (r) => r.hub_work_us_per_event + r.cpu_us_per_event.postgres + r.cpu_us_per_event.load_generator),
    ),
    cpu_us_per_event: {
      hubs: Math.round(mean(n, (r) => r.cpu_us_per_event.hubs)),
      hubs_event_loop_thread: Math.round(mean(n, (r) => r.cpu_us_per_event.hubs_event_loop_thread)),
      postgres: Math.round(mean(n, (r) => r.cpu_us_per_event.postgres)),
      load_generator: Math.round(mean(n, (r) => r.cpu_us_per_event.load_generator)),
    },
    switches_per_100_events: Object.fromEntries(
      Object.keys(last.switches_per_100_events).map((k) => [
        k,
        round2(mean(n, (r) => r.switches_per_100_events[k as keyof typeof last.switches_per_100_events])),
      ]),
    ),
    machine_busy: round2(mean(n, (r) => r.machine_busy)),
  };
}
for (const n of NS.filter((x) => x !== 1 && NS.includes(1))) {
  summary[`acked_ratio_${n}`] = round2(mean(n, (r) => r.acked_events_per_s) / mean(1, (r) => r.acked_events_per_s));
  summary[`priced_ratio_${n}`] = round2(mean(n, (r) => r.priced_events_per_s) / mean(1, (r) => r.priced_events_per_s));
}
console.log(JSON.stringify(summary));
process.exit(0);
