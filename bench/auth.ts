/**
 * `npm run bench -- auth`: the cost of API-key authentication on the hot path (every ingest and
 * evaluate call pays it). Measures, in the same run and on the same machine:
 * - bare: a bare Fastify server answering `{}` (the raw HTTP limit),
 * - hub: the hub answering an authenticated `GET /v1/me` with an API key (hash + cached lookup +
 *   permission check + rate limit + problem/security plumbing),
 * - lookup_uncached_us: one cold key lookup straight from the database.
 * Prints one JSON line: {"bench":"auth", rps_bare, rps_hub, ratio, p99_ms_bare, p99_ms_hub, lookup_uncached_us}.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { buildHub } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { headlessInit } from '../packages/server/src/init.ts';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;
const KEY = `ahk_${'bEnChKeY'.repeat(6)}`;

async function load(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  if (r.non2xx > 0) throw new Error(`${url}: ${r.non2xx} non-2xx answers`);
  return { rps: Math.round(r.requests.average), p99: r.latency.p99 };
}

const bare = Fastify();
bare.get('/ping', async () => ({}));
await bare.listen({ port: 0, host: '127.0.0.1' });
const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/ping`;

const config = loadConfig({
  HUB_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-auth-')),
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  HUB_LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_MINUTE: '100000000',
  RATE_LIMIT_ORG_PER_MINUTE: '1000000000',
  HUB_INIT_ORG_NAME: 'Bench',
  HUB_INIT_USER_EMAIL: 'bench@example.test',
  HUB_INIT_USER_PASSWORD: 'bench-password-123',
  HUB_INIT_API_KEY: KEY,
});
const hub = await buildHub(config, { logger: false });
await headlessInit(hub.ctx);
await hub.app.listen({ port: 0, host: '127.0.0.1' });
const hubUrl = `http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}/v1/me`;

// Cold lookups: a fresh service each time would also re-hash; measure the DB read the cache saves.
const { createApiKeyStore } = await import('../packages/server/src/platform/api-keys/api-keys.store.ts');
const { hashApiKey } = await import('../packages/server/src/platform/api-keys/api-key-format.ts');
const store = createApiKeyStore(hub.ctx.db.db);
const N = 2000;
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) await store.findByHash(hashApiKey(KEY));
const lookupUs = Number(process.hrtime.bigint() - t0) / 1000 / N;

await load(bareUrl); // warm-up
const b = await load(bareUrl);
await load(hubUrl, { authorization: `Bearer ${KEY}` });
const h = await load(hubUrl, { authorization: `Bearer ${KEY}` });

console.log(
  JSON.stringify({
    bench: 'auth',
    dialect: hub.ctx.db.dialect,
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    rps_bare: b.rps,
    rps_hub: h.rps,
    ratio: Number((h.rps / b.rps).toFixed(3)),
    p99_ms_bare: b.p99,
    p99_ms_hub: h.p99,
    lookup_uncached_us: Number(lookupUs.toFixed(1)),
  }),
);
await hub.close();
await bare.close();
process.exit(0);
