/** Helpers shared by benchmarks: free ports, child hubs, RSS sampling, autocannon runs. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * CPU placement. On a machine with two or more CPUs the server under test (the bare server or the hub)
 * runs on CPU 0 and this process, the load generator, on the others: they never compete for one CPU, and
 * the raw limit and the hub are measured under the same placement. Left to the scheduler, the same run
 * measured the hub anywhere between 5,500 and 11,000 requests/s on a 2-CPU machine, as the two processes
 * landed on the same or on different CPUs. BENCH_PIN=off turns this off (or when taskset is missing).
 */
const PIN = (() => {
  const cpus = availableParallelism();
  if (process.env.BENCH_PIN === 'off' || cpus < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', `1-${cpus - 1}`, String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // no taskset (util-linux) or not allowed: leave placement to the scheduler
  }
})();

export { freePort } from '../../packages/server/src/testing/free-port.ts';

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
  const argv = [...nodeArgs, '--import', 'tsx', script, ...args];
  const [command, commandArgs] = PIN ? ['taskset', ['-c', '0', process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitHealthy(healthUrl);
  return child;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used so far, in µs (Linux /proc); null where unreadable. */
export function cpuMicros(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return null;
  }
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

/**
 * Drives `opts.url` with autocannon for `opts.seconds` from a fresh load-generator process (load-child.mjs),
 * placed on the CPUs the server under test is not on. Only 2xx answers count in `rps`: a 429 or an error
 * is fast and would flatter the figure.
 */
export async function load(opts: {
  url: string;
  body: string;
  headers?: Record<string, string>;
  connections?: number;
  seconds: number;
  /** The server's pid: its CPU time per answered request is returned as `cpuUs`. */
  serverPid?: number;
}) {
  const script = join(ROOT, 'bench/lib/load-child.mjs');
  const cpuBefore = opts.serverPid === undefined ? null : cpuMicros(opts.serverPid);
  const child = spawn(process.execPath, [script, JSON.stringify(opts)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const r = JSON.parse(out) as { ok: number; non2xx: number; p99: number; errors: number };
  const cpuAfter = opts.serverPid === undefined ? null : cpuMicros(opts.serverPid);
  // Steadier than the rate on a shared VM: the rate moves with the machine's speed from second to second.
  const cpuUs = cpuBefore !== null && cpuAfter !== null && r.ok > 0 ? (cpuAfter - cpuBefore) / r.ok : undefined;
  return { rps: r.ok / opts.seconds, non2xx: r.non2xx, p99: r.p99, errors: r.errors, cpuUs };
}

export type LoadResult = Awaited<ReturnType<typeof load>>;

/**
 * Measures several targets in alternating rounds (A B A B …) rather than one after the other, so a
 * slower or faster spell of a shared machine falls on all of them alike; on a 2-CPU VM the same bare
 * server measured anywhere from 12,000 to 25,000 requests/s from one minute to the next. Returns per
 * target the mean rate, the median of the rounds' p99 and the summed non-2xx answers.
 * @example
 * const { bare, hub } = await interleaved({ bare: (s) => load({ url: bareUrl, body, seconds: s }),
 *   hub: (s) => load({ url: hubUrl, body, headers, seconds: s }) }, { seconds: 8, rounds: 4 });
 */
export async function interleaved<K extends string>(
  targets: Record<K, (seconds: number) => Promise<LoadResult>>,
  opts: { seconds: number; rounds: number },
): Promise<Record<K, LoadResult>> {
  const names = Object.keys(targets) as K[];
  const runs = new Map<K, LoadResult[]>(names.map((n) => [n, []]));
  const each = opts.seconds / opts.rounds;
  for (let r = 0; r < opts.rounds; r++)
    for (const n of names) {
      const res = await targets[n](each);
      runs.get(n)!.push(res);
      process.stderr.write(`round ${r + 1}/${opts.rounds} ${n}: ${Math.round(res.rps)}/s, p99 ${res.p99} ms\n`);
    }
  const out = {} as Record<K, LoadResult>;
  for (const n of names) {
    const rs = runs.get(n)!;
    const p99s = rs.map((x) => x.p99).sort((a, b) => a - b);
    out[n] = {
      rps: rs.reduce((a, x) => a + x.rps, 0) / rs.length,
      p99: p99s[Math.floor(p99s.length / 2)],
      non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
      errors: rs.reduce((a, x) => a + x.errors, 0),
      cpuUs: rs.every((x) => x.cpuUs !== undefined) ? rs.reduce((a, x) => a + x.cpuUs!, 0) / rs.length : undefined,
    };
  }
  return out;
}
