/**
 * `npm run bench -- mcp-gateway`: what the MCP gateway adds to a `tools/call` the hub allows, against the MCP
 * conformance suite's reference server called directly, in the same run.
 *
 * Also timed in the same rounds: the same reference server as a hosted endpoint of the hub (modules/mcp-endpoints:
 * the gateway inside the hub's process), `hosted_added_p50_ms`. `BENCH_ONLY=cli` or `hosted` times just one of the
 * two gateways (each extra client in a round loads every hop of the others).
 *
 * Processes, each its own as in production: the reference "everything" server (packages/mcp-gateway/test/fixtures),
 * the gateway's CLI (bundled from the sources, Streamable HTTP in front of the reference server's Streamable HTTP),
 * a real hub as `npm start` runs it (bench/lib/hub-process.ts: its own process, a fresh SQLite file, the agent's
 * key made over HTTP) that decides every call and records it, and this one, the timed MCP clients (the SDK's,
 * Streamable HTTP). An earlier version ran the hub inside this process, beside the clients it timed, which put
 * the hub's work and the clients' on one event loop and inflated the decision. The clients
 * call `test_simple_text`: one directly, one through the gateway; calls alternate one by one (which goes first
 * rotates), so both see the same machine load. Each call is timed alone (one at a time, as an agent calls a tool).
 *
 * Where the added time goes, measured in the same rounds:
 * - `hub_decision_p50_ms`: the hub's decision alone (every fourth round, `checkPolicy` from this process with the
 *   gateway's `hubFetch`, the call the gateway makes before it forwards);
 * - `relay_added_p50_ms`: the extra MCP hop alone, without a decision (every second round, an ungoverned
 *   `resources/read` of `test://static-text` through the gateway, minus the same read sent directly). Reads go
 *   through the SDK's `Protocol` in the gateway, while a `tools/call` between two Streamable HTTP ends is relayed
 *   as bytes (passthrough.ts): this is the hop of the SDK path, an upper bound for the tool call's;
 * - `policy_added_p50_ms` = added − relay_added: what asking the hub adds to a call, and
 *   `around_decision_p50_ms` = policy_added − hub_decision: the gateway's own work around the decision (the
 *   action, the run's records, the SDK's guard);
 * - `gateway_own_p50_ms` = added − hub_decision: everything the gateway adds that is not the hub's decision.
 *
 * The machine's own price of a hop, in the same rounds: `bare_round_trip_p50_ms`, one request to a bare Fastify JSON
 * route (bench/lib/bare-server.ts) in its own process, from this one over a kept-alive socket, once per round. Its
 * processes are as idle between requests as the others' are between calls (as an agent's are between tool calls), and
 * on a VM a process woken after a few idle milliseconds runs several times slower than one kept busy. The CLI gateway
 * puts one hop between client and server and one round trip to the hub before it forwards; a hosted endpoint one
 * hop: their added time is to be read against this figure.
 *
 * `cpu_ms_per_round`: the CPU time each process (hub, gateway, reference server, this one) used per timed round
 * (a call direct and one through each gateway, a bare round trip, a read each way every other round, a decision
 * every fourth), from /proc: on a 2-CPU machine the processes of the chain wait for each other's CPU, and for the
 * machine's other load, at every hop.
 *
 * `BENCH_COMPARE=/path/to/gateway.mjs` (a bundle of another version, e.g. built from the previous commit with
 * `bundleGateway`) also starts that gateway and times it in the same rounds: `compare_added_p50_ms` and
 * `added_ratio` (this one's added time over the other's) are the A/B figures of one sitting.
 *
 * Prints one JSON line: {"bench":"mcp-gateway", only, direct_p50_ms, gateway_p50_ms, added_p50_ms (= gateway − direct),
 * hosted_p50_ms, hosted_added_p50_ms, hosted_p99_ms, hosted_added_p99_ms,
 * direct_p99_ms, gateway_p99_ms, added_p99_ms, hub_decision_p50_ms, relay_added_p50_ms, policy_added_p50_ms,
 * around_decision_p50_ms, gateway_own_p50_ms, bare_round_trip_p50_ms, [compare_…], cpu_ms_per_round, calls, load1
 * (the machine's 1-minute load average at the end: the figures are latencies, so a busy machine inflates them)}.
 * Target (issue 22): added_p50_ms ≤ 1.
 * BENCH_CALLS (default 2000) calls each after BENCH_WARMUP (default 300).
 */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { hubFetch } from '../packages/mcp-gateway/src/hub-fetch.ts';
import { annotationsOf } from '../packages/mcp-gateway/src/policy.ts';
import { bundleGateway, startGateway, startReferenceServer } from '../packages/mcp-gateway/test/processes.ts';
import { createAgentOps } from '../packages/sdk/src/index.ts';
import { freePort } from '../packages/server/src/testing/free-port.ts';
import { startHubProcess } from './lib/hub-process.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, 100 ticks a second); 0 where unreadable. */
function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
const ms = (x: number) => Math.round(x * 1000) / 1000;

async function connect(url: string, key?: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const requestInit = key ? { headers: { authorization: `Bearer ${key}` } } : undefined;
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit }));
  return client;
}

async function timed(client: Client): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await client.callTool({ name: 'test_simple_text', arguments: {} });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.isError) throw new Error(`the call failed: ${JSON.stringify(r)}`);
  return t;
}

const COMPARE = process.env.BENCH_COMPARE;
/** `cli` or `hosted`: time only that gateway (besides the direct calls); unset, both. */
const ONLY = process.env.BENCH_ONLY as 'cli' | 'hosted' | undefined;

async function read(client: Client): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await client.readResource({ uri: 'test://static-text' });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.contents.length !== 1) throw new Error(`the read failed: ${JSON.stringify(r)}`);
  return t;
}

/** The bare route (bench/lib/bare-server.ts) in its own process, unpinned like the others; resolves once it answers. */
async function startBare() {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lib/bare-server.ts')], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const healthy = () =>
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  const deadline = Date.now() + 60_000;
  while (!(await healthy())) {
    if (Date.now() > deadline) throw new Error('the bare server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** One POST, timed until its answer has been read, in ms. */
  const roundTrip = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/ingest',
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
        },
      );
      req.on('error', reject);
      req.end('{"events":[]}');
    });
  return {
    child,
    roundTrip,
    stop: () => {
      agent.destroy();
      child.kill();
    },
  };
}

// The reference server is on loopback: the operator allows it, as for an internal MCP server.
const hub = await startHubProcess({ HUB_EGRESS_ALLOW: '127.0.0.1,localhost,::1' });
const bundle = await bundleGateway();
const reference = await startReferenceServer();
const bare = await startBare();
const hubKey = { url: hub.url, key: hub.ingestKey };
const flags = ['--agent', 'BenchBot', '--upstream-url', reference.url];
const gateway = await startGateway(hubKey, flags);
const other = COMPARE ? await startGateway(hubKey, flags, {}, COMPARE) : undefined;
// The same reference server as a hosted endpoint of the hub (modules/mcp-endpoints): the gateway in the hub's process.
const hosted = await hub.api('POST', '/v1/mcp-endpoints', {
  name: 'Bench',
  agent: 'BenchBot',
  upstream_url: reference.url,
});
if (hosted.status !== 201) throw new Error(`could not register the hosted endpoint: ${JSON.stringify(hosted.body)}`);
// Timed in the same rounds: direct, then (BENCH_ONLY unset) both gateways, or only the CLI's or the hosted one
// (each extra client adds its load to every other's rounds on this machine), then the compared build.
const targets: { name: 'direct' | 'cli' | 'hosted' | 'compare'; url: string; key?: string }[] = [
  { name: 'direct', url: reference.url },
  ...(ONLY !== 'hosted' ? [{ name: 'cli' as const, url: gateway.url }] : []),
  ...(ONLY !== 'cli'
    ? [{ name: 'hosted' as const, url: `${hub.url}${hosted.body.mcp_path}`, key: hub.ingestKey }]
    : []),
  ...(other ? [{ name: 'compare' as const, url: other.url }] : []),
];
const urls = targets.map((t) => t.url);
const at = (name: string) => targets.findIndex((t) => t.name === name);
const connectAll = () => Promise.all(targets.map((t) => connect(t.url, t.key)));
try {
  let clients = await connectAll();
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
  const calls: number[][] = urls.map(() => []);
  const reads: number[][] = [[], []];
  const h: number[] = [];
  const bareTrips: number[] = [];
  const pids = { hub: hub.child.pid, gateway: gateway.child.pid, reference: reference.child.pid, bench: process.pid };
  let cpuAtStart: Record<string, number> = {};
  for (let i = 0; i < WARMUP + CALLS; i++) {
    if (i === WARMUP) cpuAtStart = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
    if (i > 0 && i % 1000 === 0) {
      // New sessions now and then: the SDK's client transport keeps an abort listener per request on one signal
      // (Node warns past 1,500). All sides alike; the session setup itself is not timed.
      for (const c of clients) await c.close();
      clients = await connectAll();
    }
    if (i % 4 === 0) h.push(await decision());
    bareTrips.push(await bare.roundTrip());
    // Which one goes first rotates too, so none always runs right after another.
    for (let k = 0; k < clients.length; k++) {
      const j = (i + k) % clients.length;
      calls[j]!.push(await timed(clients[j]!));
    }
    if (i % 2 === 0 && at('cli') > 0) {
      const first = (i / 2) % 2;
      const readers = [clients[0]!, clients[at('cli')]!];
      reads[first]!.push(await read(readers[first]!));
      reads[1 - first]!.push(await read(readers[1 - first]!));
    }
  }
  // CPU each process used per timed round (one call each way, a bare trip, half a read each way, a quarter decision).
  const cpuPerRound = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, ms((cpuMs(pid) - cpuAtStart[k]!) / CALLS)]),
  );
  const p = (xs: number[], q: number, skip: number) => quantile(xs.slice(skip), q);
  const [dm, gm, hm, om] = ['direct', 'cli', 'hosted', 'compare'].map((n) => (at(n) >= 0 ? calls[at(n)] : undefined));
  const direct = p(dm!, 0.5, WARMUP);
  const hubDecision = p(h, 0.5, WARMUP / 4);
  await ops.shutdown();
  const runs = (await hub.api('GET', '/v1/runs?agent=BenchBot')).body?.data ?? [];
  if (runs.length === 0) throw new Error('the hub recorded no run of the gateway session');
  const added = gm ? p(gm, 0.5, WARMUP) - direct : Number.NaN;
  const relay = gm ? p(reads[1]!, 0.5, WARMUP / 2) - p(reads[0]!, 0.5, WARMUP / 2) : Number.NaN;
  const cli = gm
    ? {
        gateway_p50_ms: ms(p(gm, 0.5, WARMUP)),
        added_p50_ms: ms(added),
        gateway_p99_ms: ms(p(gm, 0.99, WARMUP)),
        added_p99_ms: ms(p(gm, 0.99, WARMUP) - p(dm!, 0.99, WARMUP)),
        relay_added_p50_ms: ms(relay),
        policy_added_p50_ms: ms(added - relay),
        around_decision_p50_ms: ms(added - relay - hubDecision),
        gateway_own_p50_ms: ms(added - hubDecision),
      }
    : {};
  const hostedOut = hm
    ? {
        hosted_p50_ms: ms(p(hm, 0.5, WARMUP)),
        hosted_added_p50_ms: ms(p(hm, 0.5, WARMUP) - direct),
        hosted_p99_ms: ms(p(hm, 0.99, WARMUP)),
        hosted_added_p99_ms: ms(p(hm, 0.99, WARMUP) - p(dm!, 0.99, WARMUP)),
      }
    : {};
  const compared = om
    ? {
        compare_gateway_p50_ms: ms(p(om, 0.5, WARMUP)),
        compare_added_p50_ms: ms(p(om, 0.5, WARMUP) - direct),
        added_ratio: Math.round((added / (p(om, 0.5, WARMUP) - direct)) * 100) / 100,
      }
    : {};
  const out = {
    bench: 'mcp-gateway',
    only: ONLY ?? 'both',
    direct_p50_ms: ms(direct),
    direct_p99_ms: ms(p(dm!, 0.99, WARMUP)),
    ...cli,
    ...hostedOut,
    hub_decision_p50_ms: ms(hubDecision),
    bare_round_trip_p50_ms: ms(p(bareTrips, 0.5, WARMUP)),
    ...compared,
    cpu_ms_per_round: cpuPerRound,
    calls: CALLS,
    load1: Math.round(loadavg()[0]! * 10) / 10,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  for (const c of clients) await c.close();
} finally {
  await other?.stop();
  await gateway.stop();
  await reference.stop();
  bare.stop();
  await hub.close();
  await rm(bundle, { recursive: true, force: true });
}
