/**
 * A hub as deployed, for benchmarks that time a client of it: `npm start`'s entry (packages/server/src/main.ts
 * start) in its own process, on a fresh SQLite file in a temporary directory, its first org and owner key made
 * from HUB_INIT_* at boot, and an `ingest` key (what an agent is given) created over HTTP. Unlike
 * bench/lib/processes.ts, nothing is pinned to a CPU: the scheduler places the processes, as in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../packages/server/src/testing/free-port.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface HubProcess {
  url: string;
  child: ChildProcess;
  /** Scope `full`: the bench's own setup and reads. */
  adminKey: string;
  /** Scope `ingest`: what the agent (the gateway) is given. */
  ingestKey: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Starts the hub and resolves once `/healthz` answers and the ingest key exists. */
/** `env`: more settings for the hub (e.g. HUB_EGRESS_ALLOW for an upstream on loopback). */
export async function startHubProcess(env: NodeJS.ProcessEnv = {}): Promise<HubProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-hub-'));
  const port = await freePort();
  const adminKey = `ahk_${randomBytes(24).toString('hex')}`;
  // HUB_NODE_ARGS adds node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the hub in a bench.
  const nodeArgs = (process.env.HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'packages/server/src/main.ts', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HUB_DATA_DIR: dir,
      DATABASE_URL: '',
      HUB_LOG_LEVEL: 'warn',
      // A bench makes thousands of calls a minute from one key; the default limits are for people.
      RATE_LIMIT_PER_MINUTE: '1000000000',
      RATE_LIMIT_INGEST_PER_MINUTE: '1000000000',
      RATE_LIMIT_ORG_PER_MINUTE: '1000000000',
      HUB_INIT_ORG_NAME: 'GatewayBench',
      HUB_INIT_USER_EMAIL: 'gateway-bench@example.test',
      HUB_INIT_USER_PASSWORD: 'gateway-bench-password',
      HUB_INIT_API_KEY: adminKey,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const api: HubProcess['api'] = async (method, path, body) => {
    const r = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  try {
    const end = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the hub exited (${child.exitCode}) before it was healthy`);
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > end) throw new Error('the hub was not healthy in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const k = await api('POST', '/v1/api-keys', { name: 'gateway', scopes: ['ingest'] });
    if (k.status !== 201) throw new Error(`ingest key: HTTP ${k.status} ${JSON.stringify(k.body)}`);
    return { url, child, adminKey, ingestKey: k.body.key, api, close };
  } catch (e) {
    await close();
    throw e;
  }
}
