/**
 * `npm run bench -- sdk`: what the SDK costs the agent, measured against a raw baseline in the same run.
 * - raw_us: per event, the agent's own work without the SDK: building the tool-call record and keeping it
 *   (an array push)
 * - sdk_us: per event, the same loop recording it with `recordToolCall` (inside a run, so the run id is found
 *   through AsyncLocalStorage, as in real use)
 * - added_us = sdk_us − raw_us: what the SDK adds on the agent's call. Target (issue 7): ≤ 5 µs.
 * - flush_us: per event, the later work of sending (building the wire events, JSON serialization and the
 *   request: off the agent's call but on the same thread), with a fetch that answers at once so only the SDK's
 *   side is counted
 * Events are recorded in chunks of 100 with an await between chunks, as an agent records between model and
 * tool calls; the SDK's timer and batch flushes run in those gaps (their time is not in sdk_us, it is flush_us).
 * - bundle_gzip_bytes: the browser build (esbuild, minified, gzip -9). Target: ≤ 15 KB (15360 bytes).
 * Each figure is the median of BENCH_ROUNDS (default 7) rounds of BENCH_EVENTS (default 100,000) events.
 * Prints one JSON line: {"bench":"sdk", ...}.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { createAgentOps } from '../packages/sdk/src/index.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => Number(process.hrtime.bigint()) / 1000; // µs

/** A fetch at the process edge: reads the body like a socket would, answers 202 at once. */
const instantFetch: typeof fetch = async (_url, init) => {
  if (typeof init?.body !== 'string') throw new Error('expected a JSON body');
  return new Response('{"accepted":0,"rejected":[]}', { status: 202 });
};

/** Agents record between awaits: events come in chunks, and the SDK sends between them, as in real use. */
const CHUNK = 100;
const tick = () => new Promise<void>((r) => setImmediate(r));
const payload = (i: number) => ({ tool: 'crm_lookup', args: { email: 'someone@example.com', i } });

async function rawRound(): Promise<number> {
  let kept: unknown[] = [];
  let total = 0;
  let count = 0;
  for (let c = 0; c < EVENTS; c += CHUNK) {
    const t0 = now();
    for (let i = c; i < c + CHUNK; i++) kept.push(payload(i));
    total += now() - t0;
    count += kept.length;
    kept = [];
    await tick();
  }
  if (count !== EVENTS) throw new Error('baseline lost events');
  return total / EVENTS;
}

const client = (extra: Parameters<typeof createAgentOps>[0] = {}) =>
  createAgentOps({
    hubUrl: 'http://sdk-bench.invalid',
    apiKey: 'ahk_bench',
    agent: 'BenchBot',
    fetch: instantFetch,
    logger: false,
    flushOnExit: false,
    controlsRefreshMs: 0,
    ...extra,
  });

/** µs per `recordToolCall` inside a run, with the SDK's own timer and batch flushes running between chunks. */
async function sdkRound(): Promise<number> {
  const ops = client();
  let total = 0;
  await ops.run('bench', async () => {
    for (let c = 0; c < EVENTS; c += CHUNK) {
      const t0 = now();
      for (let i = c; i < c + CHUNK; i++) ops.recordToolCall(payload(i));
      total += now() - t0;
      await tick();
    }
  });
  await ops.flush();
  const s = ops.stats();
  if (s.dropped || s.queued || s.sent < EVENTS) throw new Error(`lost events: ${JSON.stringify(s)}`);
  await ops.shutdown(100);
  return total / EVENTS;
}

/** µs per event of sending (serialization and the request), measured on one large buffer. */
async function flushRound(): Promise<number> {
  const ops = client({ maxQueueSize: EVENTS + 10, batchSize: 1000, flushIntervalMs: 60_000 });
  const run = ops.recordRunStart({ name: 'bench' });
  for (let i = 0; i < EVENTS; i++) run.recordToolCall(payload(i));
  const queued = ops.stats().queued;
  const t0 = now();
  await ops.flush();
  const us = (now() - t0) / queued;
  await ops.shutdown(100);
  return us;
}

async function bundleBytes(): Promise<{ min: number; gzip: number }> {
  const out = await build({
    entryPoints: [new URL('../packages/sdk/src/browser.ts', import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const code = out.outputFiles[0].contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

// Warm-up: let the JIT settle on every loop before measuring.
await rawRound();
await sdkRound();
await flushRound();

const raw: number[] = [];
const sdk: number[] = [];
const flush: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  raw.push(await rawRound());
  sdk.push(await sdkRound());
  flush.push(await flushRound());
}
const bundle = await bundleBytes();
const round = (x: number) => Math.round(x * 1000) / 1000;
const rawUs = median(raw);
const sdkUs = median(sdk);
console.log(
  JSON.stringify({
    bench: 'sdk',
    events: EVENTS,
    rounds: ROUNDS,
    raw_us: round(rawUs),
    sdk_us: round(sdkUs),
    added_us: round(sdkUs - rawUs),
    target_added_us: 5,
    flush_us: round(median(flush)),
    bundle_min_bytes: bundle.min,
    bundle_gzip_bytes: bundle.gzip,
    target_bundle_gzip_bytes: 15 * 1024,
  }),
);
