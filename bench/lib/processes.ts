/** Helpers shared by benchmarks: free ports, child hubs, RSS sampling, autocannon runs. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export async function waitHealthy(url: string, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy`);
}

/**
 * Starts `node --import tsx <script> …args` with env; resolves once `healthUrl` answers.
 * BENCH_NODE_ARGS adds node flags to the child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile
 * the hub under load (NODE_OPTIONS refuses --cpu-prof).
 */
export async function startChild(script: string, args: string[], env: Record<string, string>, healthUrl: string) {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitHealthy(healthUrl);
  return child;
}

/** Resident set size of a process in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** Samples a child's RSS every 100 ms while `fn` runs; returns fn's result and the peak. */
export async function withPeakRss<T>(child: ChildProcess, fn: () => Promise<T>) {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(child.pid!));
  }, 100);
  try {
    const result = await fn();
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

export async function load(opts: {
  url: string;
  body: string;
  headers?: Record<string, string>;
  connections?: number;
  seconds: number;
}) {
  const r = await autocannon({
    url: opts.url,
    method: 'POST',
    body: opts.body,
    headers: { 'content-type': 'application/json', ...opts.headers },
    connections: opts.connections ?? 50,
    duration: opts.seconds,
  });
  // Only successful answers count: a 429 or an error is fast and would flatter the figure.
  const ok = (r as unknown as { '2xx': number })['2xx'];
  return { rps: ok / opts.seconds, non2xx: r.non2xx, p99: r.latency.p99, errors: r.errors };
}
