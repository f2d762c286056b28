/**
 * `npm run bench -- ingest`: ingestion throughput against the raw limits, measured in the same run.
 * - bare_http_rps: a bare Fastify JSON route (own process), single-event bodies, concurrency 50
 * - raw_insert_rps: rows/s of batched better-sqlite3 inserts of the same rows into the same events table
 *   (the hub's schema and indexes), 100 per transaction
 * - single_eps: events/s through the hub, one event per request (POST /v1/ingest/events, concurrency 50)
 * - batch_eps: events/s through the hub, 100 events per request
 * - rss_mb: the hub process's peak RSS under load
 * Ratios: single_ratio = single_eps / bare_http_rps, batch_ratio = batch_eps / raw_insert_rps.
 * Targets (issue 3): single_ratio ≥ 0.4, batch_ratio ≥ 0.5, rss_mb ≤ 500.
 * A second line measures the batch again with redaction on (capture `redacted`: the built-in detectors
 * and 5 org rules, issue 20): batch_eps and batch_ratio with it on, and redaction_ratio = on / off
 * (target ≥ 0.8). Off and on alternate in rounds, so drift of the machine hits both alike.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../packages/server/src/db/database.ts';
import { newId } from '../packages/server/src/db/ids.ts';
import { migrateHub } from '../packages/server/src/db/migrate.ts';
import { freePort, interleaved, load, startChild, withPeakRss } from './lib/processes.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
// Warm-up before each measured load, the same for the bare server and the hub (V8 tiers hot code up over seconds).
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? 4);
const KEY = `ahk_${'InGeStBeNcH'.repeat(4)}`;
const event = (i = 0) => ({
  run_id: `bench-run-${i % 200}`,
  agent: 'BenchBot',
  type: 'tool_called',
  timestamp: new Date().toISOString(),
  payload: { tool: 'crm_lookup', args: { email: 'someone@example.com', fields: ['plan', 'owner'] } },
});
const singleBody = JSON.stringify({ events: [event()] });
const batchBody = JSON.stringify({ events: Array.from({ length: 100 }, (_, i) => event(i)) });

// 1. Raw limit of the storage: the same rows into the hub's own events table (same schema and
// indexes, created by the hub's migrations), batched 100 per transaction, no HTTP, no validation.
async function rawInsertRps() {
  const db = openDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'bench-raw-')) });
  await migrateHub(db);
  const sqlite = db.sqlite!;
  const t = Date.now();
  sqlite
    .prepare(
      `insert into orgs values ('org_1', 'Raw', null, null, 'scale', 'default', 'UTC', 'en-US', null, '{}', ?, ?)`,
    )
    .run(t, t);
  const insert = sqlite.prepare(
    `insert into events (org_id, id, run_id, agent_id, type, ts, parent_id, duration_ms, payload, received_at, enriched)
     values (?, ?, ?, ?, ?, ?, null, null, ?, ?, 1) on conflict do nothing`,
  );
  const batch = sqlite.transaction((rows: unknown[][]) => {
    for (const r of rows) insert.run(...r);
  });
  const payload = JSON.stringify(event().payload);
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = Date.now();
  while (Date.now() < end) {
    const now = Date.now();
    batch(
      Array.from({ length: 100 }, (_, i) => [
        'org_1',
        newId('evt', now),
        `bench-run-${i % 200}`,
        'agt_1',
        'tool_called',
        now,
        payload,
        now,
      ]),
    );
    n += 100;
  }
  const rps = n / ((Date.now() - start) / 1000);
  await db.close();
  return rps;
}

const raw = await rawInsertRps();

// 2. Raw HTTP limit: a bare Fastify route in its own process.
const barePort = await freePort();
const bare = await startChild(
  'bench/lib/bare-server.ts',
  [],
  { PORT: String(barePort) },
  `http://127.0.0.1:${barePort}/healthz`,
);

// 3. The hub on the SQLite default, as `npm start` runs it.
const port = await freePort();
const hub = await startChild(
  'packages/server/src/main.ts',
  ['start'],
  {
    PORT: String(port),
    HOST: '127.0.0.1',
    HUB_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-hub-')),
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? '',
    HUB_LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    RATE_LIMIT_INGEST_PER_MINUTE: '1000000000',
    RATE_LIMIT_ORG_PER_MINUTE: '1000000000',
    HUB_INIT_ORG_NAME: 'Bench',
    HUB_INIT_USER_EMAIL: 'bench@example.test',
    HUB_INIT_USER_PASSWORD: 'bench-password-123',
    HUB_INIT_API_KEY: KEY,
    ...(process.env.BENCH_HUB_ROLE ? { HUB_ROLE: process.env.BENCH_HUB_ROLE } : {}),
  },
  `http://127.0.0.1:${port}/healthz`,
);
const url = `http://127.0.0.1:${port}/v1/ingest/events`;
const headers = { authorization: `Bearer ${KEY}` };
const bareUrl = `http://127.0.0.1:${barePort}/ingest`;
await load({ url: bareUrl, body: singleBody, seconds: WARMUP_SECONDS });
await load({ url, body: singleBody, headers, seconds: WARMUP_SECONDS });
// Single-event requests and the bare server in alternating rounds (see interleaved()).
const {
  result: { bare: bareRun, hub: single },
  peak: peak1,
} = await withPeakRss(hub, () =>
  interleaved(
    {
      bare: (seconds) => load({ url: bareUrl, body: singleBody, seconds }),
      hub: (seconds) => load({ url, body: singleBody, headers, seconds }),
    },
    { seconds: SECONDS, rounds: Number(process.env.BENCH_ROUNDS ?? 4) },
  ),
);
bare.kill();
const { result: batch, peak: peak2 } = await withPeakRss(hub, () =>
  load({ url, body: batchBody, headers, seconds: SECONDS }),
);

// Redaction on and off, alternating: the same batch body, the org's settings switched between rounds.
const RULES = [
  { name: 'customer ids', pattern: 'CUST-[0-9]{6}', action: 'hash' },
  { name: 'address', key: 'customer.address', action: 'remove' },
  { name: 'loyalty', key: 'loyalty_number', action: 'label', label: '[LOYALTY]' },
  { name: 'vat', pattern: 'VAT[A-Z]{2}[0-9]{9}', action: 'label', label: '[VAT]' },
  { name: 'notes', key: 'internal_notes', action: 'remove' },
];
const privacyUrl = `http://127.0.0.1:${port}/v1/privacy`;
async function setRedaction(on: boolean) {
  const res = await fetch(privacyUrl, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(on ? { capture: 'redacted', rules: RULES } : { capture: 'full', rules: [] }),
  });
  if (!res.ok) throw new Error(`PUT /v1/privacy: ${res.status} ${await res.text()}`);
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const perRound = Math.max(1, SECONDS / rounds);
const sums = { off: { n: 0, s: 0 }, on: { n: 0, s: 0 } };
for (let r = 0; r < rounds; r++) {
  for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
    await setRedaction(on);
    const x = await load({ url, body: batchBody, headers, seconds: perRound });
    const k = on ? 'on' : 'off';
    sums[k].n += x.rps * 100 * perRound;
    sums[k].s += perRound;
  }
}
hub.kill('SIGTERM');
if (single.non2xx || batch.non2xx)
  console.error(`warning: non-2xx answers: single ${single.non2xx}, batch ${batch.non2xx}`);

const r2 = (x: number) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    bench: 'ingest',
    dialect: process.env.BENCH_DATABASE_URL ? 'postgres' : 'sqlite',
    seconds: SECONDS,
    single_eps: Math.round(single.rps),
    batch_eps: Math.round(batch.rps * 100),
    bare_http_rps: Math.round(bareRun.rps),
    raw_insert_rps: Math.round(raw),
    single_ratio: r2(single.rps / bareRun.rps),
    batch_ratio: r2((batch.rps * 100) / raw),
    single_p99_ms: single.p99,
    batch_p99_ms: batch.p99,
    rss_mb: Math.max(peak1, peak2),
  }),
);
const offEps = sums.off.n / sums.off.s;
const onEps = sums.on.n / sums.on.s;
console.log(
  JSON.stringify({
    bench: 'ingest_redaction',
    rules: RULES.length,
    batch_eps_off: Math.round(offEps),
    batch_eps_on: Math.round(onEps),
    batch_ratio_off: r2(offEps / raw),
    batch_ratio_on: r2(onEps / raw),
    redaction_ratio: r2(onEps / offEps),
  }),
);
process.exit(0);
