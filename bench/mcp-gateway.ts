/**
 * `npm run bench -- mcp-gateway`: what the MCP gateway adds to a `tools/call` the hub allows, against the MCP
 * conformance suite's reference server called directly, in the same run.
 *
 * Processes: the reference "everything" server (packages/mcp-gateway/test/fixtures), the gateway's CLI
 * (bundled from the sources, Streamable HTTP in front of the reference server's Streamable HTTP), and a real hub
 * (in this process, on SQLite) that decides every call and records it. Two MCP clients (the SDK's, Streamable
 * HTTP) call `test_simple_text`: one directly, one through the gateway; calls alternate one by one, so both see
 * the same machine load. Each call is timed alone (one at a time, as an agent calls a tool).
 *
 * Every fourth round the bench also asks the hub for the same decision itself (`checkPolicy`, the SDK's call,
 * with the gateway's `hubFetch`):
 * `hub_decision_p50_ms` is the hub's share of what the gateway adds, the rest is the extra MCP hop.
 *
 * Prints one JSON line: {"bench":"mcp-gateway", direct_p50_ms, gateway_p50_ms, added_p50_ms (= gateway − direct),
 * direct_p99_ms, gateway_p99_ms, added_p99_ms, hub_decision_p50_ms, calls, load1 (the machine's 1-minute load
 * average at the end: the figures are latencies, so a busy machine inflates them)}. Target (issue 22):
 * added_p50_ms ≤ 1.
 * BENCH_CALLS (default 2000) calls each after BENCH_WARMUP (default 300).
 */
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { hubFetch } from '../packages/mcp-gateway/src/hub-fetch.ts';
import { annotationsOf } from '../packages/mcp-gateway/src/policy.ts';
import { bundleGateway, startGateway, startReferenceServer } from '../packages/mcp-gateway/test/processes.ts';
import { createAgentOps } from '../packages/sdk/src/index.ts';
import { startHub } from '../packages/sdk/test/hub.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
const ms = (x: number) => Math.round(x * 1000) / 1000;

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function timed(client: Client): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.isError) throw new Error(`the call failed: ${JSON.stringify(r)}`);
  return t;
}

const hub = await startHub();
const bundle = await bundleGateway();
const reference = await startReferenceServer();
const gateway = await startGateway({ url: hub.url, key: hub.ingestKey }, [
  '--agent',
  'BenchBot',
  '--upstream-url',
  reference.url,
]);
try {
  let direct = await connect(reference.url);
  let via = await connect(gateway.url);
  // The hub's share: the same decision the gateway asks for, from this process with the same SDK.
  const ops = createAgentOps({
    hubUrl: hub.url,
    apiKey: hub.ingestKey,
    agent: 'BenchBot',
    logger: false,
    fetch: hubFetch,
  });
  const decision = async () => {
    const t0 = process.hrtime.bigint();
    const r = await ops.checkPolicy({ type: 'test_simple_text', annotations: annotationsOf(undefined) });
    if (r.decision !== 'ALLOW') throw new Error(`the hub did not allow: ${JSON.stringify(r)}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const d: number[] = [];
  const g: number[] = [];
  const h: number[] = [];
  for (let i = 0; i < WARMUP + CALLS; i++) {
    if (i > 0 && i % 1000 === 0) {
      // New sessions now and then: the SDK's client transport keeps an abort listener per request on one signal
      // (Node warns past 1,500). Both sides alike; the session setup itself is not timed.
      for (const c of [direct, via]) await c.close();
      [direct, via] = [await connect(reference.url), await connect(gateway.url)];
    }
    if (i % 4 === 0) h.push(await decision());
    // Which one goes first alternates too, so neither always runs right after the other.
    if (i % 2) {
      d.push(await timed(direct));
      g.push(await timed(via));
    } else {
      g.push(await timed(via));
      d.push(await timed(direct));
    }
  }
  const dm = d.slice(WARMUP);
  const gm = g.slice(WARMUP);
  const hm = h.slice(WARMUP / 4);
  await ops.shutdown();
  const runs = (await hub.api('GET', '/v1/runs?agent=BenchBot')).body?.data ?? [];
  if (runs.length === 0) throw new Error('the hub recorded no run of the gateway session');
  const out = {
    bench: 'mcp-gateway',
    direct_p50_ms: ms(quantile(dm, 0.5)),
    gateway_p50_ms: ms(quantile(gm, 0.5)),
    added_p50_ms: ms(quantile(gm, 0.5) - quantile(dm, 0.5)),
    direct_p99_ms: ms(quantile(dm, 0.99)),
    gateway_p99_ms: ms(quantile(gm, 0.99)),
    added_p99_ms: ms(quantile(gm, 0.99) - quantile(dm, 0.99)),
    hub_decision_p50_ms: ms(quantile(hm, 0.5)),
    calls: CALLS,
    load1: Math.round(loadavg()[0]! * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await direct.close();
  await via.close();
} finally {
  await gateway.stop();
  await reference.stop();
  await hub.close();
  await rm(bundle, { recursive: true, force: true });
}
