/**
 * `npm run test:mcp-conformance -w packages/mcp-gateway`: the official MCP conformance suite
 * (`@modelcontextprotocol/conformance`, its server scenarios) against its own reference "everything" server
 * alone, then through the gateway, in one run with a real hub deciding every tool call:
 *
 * - http:  suite → gateway (Streamable HTTP) → reference server (Streamable HTTP, `--upstream-url`);
 * - stdio: suite → gateway (Streamable HTTP) → gateway on stdio (`--upstream-command`, the outer gateway is its
 *          MCP client over stdio) → reference server. The suite only speaks HTTP to a server, so the stdio leg
 *          chains two gateways: the inner one serves stdio, the outer one is a stdio upstream client.
 * - hosted: suite → a loopback proxy that adds the API key (the suite sends no credentials) → the hub's hosted
 *          endpoint (`/v1/mcp-endpoints/{id}/mcp`, the gateway inside the hub) → reference server.
 *
 * Prints each check's result side by side and the totals; exits 1 when a check the reference server passes alone
 * fails through the gateway (the reference server's own failures are its own, and stay the baseline).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '../../sdk/test/hub.ts';
import { bundleGateway, gatewayArgs, type Running, startGateway, startReferenceServer } from './processes.ts';

const suiteBin = join(
  createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json'),
  '../dist/index.js',
);

type Results = Map<string, boolean>;

/**
 * Checks whose premise does not hold for the hub's hosted endpoint, with why. The suite's DNS-rebinding check is
 * for an unauthenticated server on localhost: it sends a bare `initialize` with `Host`/`Origin: evil.example.com`
 * and expects a 4xx. The hosted endpoint answers nothing without one of the org's API keys, which a rebinding web
 * page does not have; the suite's requests reach it only through `withKey`, which adds the key. So that check is
 * made here without the proxy instead (`rebindingRefused`): the same request, no key, must get a 4xx.
 */
const NOT_FOR_HOSTED: Record<string, string> = {
  'dns-rebinding-protection/localhost-host-rebinding-rejected':
    'needs an API key, which a rebinding page does not have: checked without the key-adding proxy',
};

/** The suite's rebinding request (a bare `initialize`, evil Host and Origin), sent to the hosted endpoint itself. */
async function rebindingRefused(url: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: 'POST',
        headers: {
          host: 'evil.example.com',
          origin: 'http://evil.example.com',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'rebinding', version: '1' } },
      }),
    );
  });
}

/** Runs every active server scenario against `url`; the result of each check, by `scenario/check`. */
async function runSuite(url: string): Promise<Results> {
  const out = await mkdtemp(join(tmpdir(), 'mcp-conformance-'));
  try {
    const child = spawn(process.execPath, [suiteBin, 'server', '--url', url, '-o', out], {
      cwd: out,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (b) => (log += b));
    child.stderr.on('data', (b) => (log += b));
    // The suite exits 1 when a check fails: the checks themselves are the result.
    await new Promise((r) => child.once('exit', r));
    const results: Results = new Map();
    for (const dir of await readdir(out)) {
      const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(dir)?.[1] ?? dir;
      const checks = JSON.parse(await readFile(join(out, dir, 'checks.json'), 'utf8')) as {
        id: string;
        status: string;
      }[];
      for (const c of checks) results.set(`${scenario}/${c.id}`, c.status === 'SUCCESS');
    }
    if (results.size === 0) throw new Error(`the conformance suite produced no results for ${url}:\n${log}`);
    return results;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const count = (r: Results) => {
  const passed = [...r.values()].filter(Boolean).length;
  return { passed, failed: r.size - passed };
};

/**
 * A loopback proxy to `target` that adds `Authorization: Bearer <key>`: the suite cannot send credentials, and
 * a hosted endpoint needs an API key. Bodies and answers (event streams too) go through as they come.
 */
async function withKey(target: string, key: string) {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const headers = { ...req.headers, host: to.host, authorization: `Bearer ${key}` };
    const up = request(to, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function main() {
  const started = Date.now();
  // The reference server is on loopback: the hosted endpoint reaches it because the operator allows it.
  const hub = await startHub({ HUB_EGRESS_ALLOW: '127.0.0.1,localhost,::1' });
  const bundle = await bundleGateway();
  const running: Running[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    const key = { url: hub.url, key: hub.ingestKey };
    const reference = await startReferenceServer();
    running.push(reference);
    const agent = ['--agent', 'ConformanceBot'];
    const http = await startGateway(key, [...agent, '--upstream-url', reference.url]);
    running.push(http);
    // The inner gateway gets the hub key as a flag: a gateway hands its upstream command no AGENTOPS_API_KEY.
    const inner = [
      process.execPath,
      ...gatewayArgs([...agent, '--quiet', '--api-key', hub.ingestKey, '--upstream-url', reference.url]),
    ];
    const stdio = await startGateway(key, [...agent, '--upstream-command', inner.map((w) => `'${w}'`).join(' ')]);
    running.push(stdio);
    const endpoint = await hub.api('POST', '/v1/mcp-endpoints', {
      name: 'Conformance',
      agent: 'ConformanceBot',
      upstream_url: reference.url,
    });
    if (endpoint.status !== 201)
      throw new Error(`hosted endpoint: ${endpoint.status} ${JSON.stringify(endpoint.body)}`);
    const hosted = await withKey(`${hub.url}${endpoint.body.mcp_path}`, hub.ingestKey);
    stops.push(hosted.stop);

    const timed = async (url: string) => {
      const t0 = Date.now();
      const r = await runSuite(url);
      return { r, s: ((Date.now() - t0) / 1000).toFixed(1) };
    };
    const ready = ((Date.now() - started) / 1000).toFixed(1);
    const a = await timed(reference.url);
    const [h, s, o] = await Promise.all([timed(http.url), timed(stdio.url), timed(hosted.url)]);
    const [alone, viaHttp, viaStdio, viaHosted] = [a.r, h.r, s.r, o.r];

    const mark = (r: Results, k: string) => (r.get(k) === undefined ? '-' : r.get(k) ? 'pass' : 'FAIL');
    const rows = [...alone.keys()].sort();
    const width = Math.max(...rows.map((k) => k.length));
    process.stdout.write(`${'check'.padEnd(width)}  alone  http   stdio  hosted\n`);
    for (const k of rows)
      process.stdout.write(
        `${k.padEnd(width)}  ${mark(alone, k).padEnd(5)}  ${mark(viaHttp, k).padEnd(5)}  ${mark(viaStdio, k).padEnd(5)}  ${mark(viaHosted, k)}\n`,
      );
    const total = (label: string, r: Results) => {
      const { passed, failed } = count(r);
      return `${label}: ${passed} passed, ${failed} failed`;
    };
    process.stdout.write(
      `\n${total('reference server alone', alone)} | ${total('through the gateway (http)', viaHttp)} | ${total('through the gateway (stdio)', viaStdio)} | ${total('through the hub (hosted)', viaHosted)}\n`,
    );

    const lost = (r: Results) => rows.filter((k) => alone.get(k) && !r.get(k));
    const regressions = [
      ...lost(viaHttp).map((k) => `http: ${k}`),
      ...lost(viaStdio).map((k) => `stdio: ${k}`),
      ...lost(viaHosted)
        .filter((k) => !NOT_FOR_HOSTED[k])
        .map((k) => `hosted: ${k}`),
    ];
    for (const [k, why] of Object.entries(NOT_FOR_HOSTED)) process.stdout.write(`hosted, ${k}: ${why}\n`);
    const rebinding = await rebindingRefused(`${hub.url}${endpoint.body.mcp_path}`);
    process.stdout.write(`hosted: the suite's rebinding request without a key → HTTP ${rebinding}\n`);
    if (rebinding < 400 || rebinding >= 500) regressions.push(`hosted: a keyless rebinding request got ${rebinding}`);
    // The gateway decided the tool calls: the hub has the suite's sessions as runs with their tool calls.
    const runs = (await hub.api('GET', '/v1/runs?agent=ConformanceBot&limit=100')).body?.data ?? [];
    process.stdout.write(`hub: ${runs.length} runs of ConformanceBot recorded\n`);
    if (runs.length === 0) regressions.push('hub: no run recorded for the gateway sessions');
    process.stdout.write(
      `(${((Date.now() - started) / 1000).toFixed(1)} s: ready ${ready} s, alone ${a.s} s, http ${h.s} s, stdio ${s.s} s, hosted ${o.s} s)\n`,
    );
    if (regressions.length > 0) {
      process.stdout.write(`\nPassed alone but not through the gateway:\n  ${regressions.join('\n  ')}\n`);
      process.exitCode = 1;
    }
  } finally {
    for (const stop of stops) await stop();
    for (const r of running.reverse()) await r.stop();
    await hub.close();
    await rm(bundle, { recursive: true, force: true });
  }
}

await main();
