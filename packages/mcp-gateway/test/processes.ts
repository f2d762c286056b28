/**
 * Real processes for the conformance run (test/conformance.ts) and the bench (bench/mcp-gateway.ts): the
 * conformance suite's reference "everything" server and the gateway's bin, both on the sources through tsx, on
 * free loopback ports. Each resolves once the process says it listens, and kills it (by its pid) on `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const gatewayDir = join(fileURLToPath(new URL('.', import.meta.url)), '..');
export const root = join(gatewayDir, '../..');
/** Runs a TypeScript entry of this repository on its sources (no build needed). */
export const TSX = ['--conditions=@agentops-hub/source', '--import', 'tsx'];
export const BIN = join(gatewayDir, 'bin/agentops-mcp-gateway.mjs');

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Running {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `node args…` and waits until its stdout or stderr matches `ready` (its output is kept for errors). */
function start(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, url: string, what: string): Promise<Running> {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not start in 60 s:\n${out}`)), 60_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(e);
    };
    const onData = (b: Buffer) => {
      out = (out + b.toString()).slice(-20_000);
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({
          url,
          child,
          stop: () =>
            new Promise<void>((r) => {
              if (child.exitCode !== null || child.signalCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`${what} exited (${code}) before it was ready:\n${out}`)));
  });
}

/** The conformance suite's reference server (test/fixtures/everything-server.ts) on a free port. */
export async function startReferenceServer(): Promise<Running> {
  const port = await freePort();
  return start(
    ['--import', 'tsx', join(gatewayDir, 'test/fixtures/everything-server.ts')],
    { ...process.env, PORT: String(port) },
    /Test Server running/,
    `http://localhost:${port}/mcp`,
    'the reference server',
  );
}

/** The args of the gateway's bin on the sources: `node …gatewayArgs(flags)`. */
export let gatewayArgs = (flags: string[]) => [...TSX, BIN, ...flags];

/**
 * Bundles the gateway's CLI from the sources (the SDKs included) into one file in a temporary directory, and
 * makes `gatewayArgs` run it: a gateway fronting a command starts one upstream process per session, and a
 * bundle starts in ~0.1 s where tsx compiles the sources again in each (~1.5 s).
 */
export async function bundleGateway(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-'));
  const entry = join(dir, 'gateway.mjs');
  await build({
    stdin: { contents: "import { main } from './src/cli.ts'; await main();", resolveDir: gatewayDir, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@agentops-hub/source'],
    outfile: entry,
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  gatewayArgs = (flags) => [entry, ...flags];
  return dir;
}

/**
 * The gateway's bin serving Streamable HTTP on a free port, with the given upstream flags. `entry`: another bundle
 * of the gateway to run instead (the bench's A/B comparison, `BENCH_COMPARE`).
 */
export async function startGateway(
  hub: { url: string; key: string },
  flags: string[],
  env: NodeJS.ProcessEnv = {},
  entry?: string,
): Promise<Running> {
  const port = await freePort();
  const args = ['--transport', 'http', '--port', String(port), ...flags];
  return start(
    // GATEWAY_NODE_ARGS adds node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it in the bench.
    [
      ...(process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ...(entry ? [entry, ...args] : gatewayArgs(args)),
    ],
    { ...process.env, AGENTOPS_HUB_URL: hub.url, AGENTOPS_API_KEY: hub.key, ...env },
    /serving MCP over Streamable HTTP/,
    `http://localhost:${port}/mcp`,
    'the gateway',
  );
}
