/**
 * A real cluster for the cluster test and bench/scaleout.ts: a fresh PostgreSQL database, orgs seeded
 * through the hub's own headless init, and hub processes (`node --import tsx src/main.ts start`) that
 * share it, each one a child process that can be SIGKILLed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { createHubContext } from '../src/context.ts';
import { headlessInit } from '../src/init.ts';

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`): no fixed sleeps. */
export async function eventually<T>(
  check: () => Promise<T>,
  what: string,
  timeoutMs = 60_000,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A new empty database on the test server; returns its URL and a function that drops it. */
export async function freshDatabase(prefix = 'cluster') {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: SERVER });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface ClusterOrg {
  name: string;
  orgId: string;
  apiKey: string;
}

/** Migrates the database and creates `n` orgs (one owner), each with a `full` API key. */
export async function seedOrgs(env: Record<string, string>, n: number): Promise<ClusterOrg[]> {
  const config = loadConfig({ ...env, HUB_ORGS_PER_USER: String(n + 5), HUB_LOG_LEVEL: 'silent' });
  const ctx = await createHubContext(config, { log: pino({ level: 'silent' }) });
  const orgs: ClusterOrg[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const name = `Client ${i}`;
      const apiKey = `ahk_${randomBytes(24).toString('hex')}`;
      Object.assign(config.init, {
        orgName: name,
        userEmail: 'owner@cluster.test',
        userPassword: 'a-long-password-1',
        apiKey,
      });
      await headlessInit(ctx);
      const row = await ctx.db.db.selectFrom('orgs').select('id').where('name', '=', name).executeTakeFirstOrThrow();
      orgs.push({ name, orgId: row.id, apiKey });
    }
  } finally {
    await ctx.close();
  }
  return orgs;
}

/** The environment every process of one cluster shares. */
export function clusterEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    HUB_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    HUB_LOG_LEVEL: 'warn',
    HUB_PUBLIC_URL: 'http://127.0.0.1',
    RATE_LIMIT_PER_MINUTE: '10000000',
    RATE_LIMIT_INGEST_PER_MINUTE: '10000000',
    RATE_LIMIT_ORG_PER_MINUTE: '10000000',
  };
}

export interface HubProcess {
  port: number;
  url: string;
  child: ChildProcess;
  /** Sends SIGKILL and waits for the exit. */
  kill(): Promise<void>;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/** Starts one hub process and waits until /readyz answers 200. */
export async function startHub(
  env: Record<string, string>,
  port: number,
  role: 'all' | 'api' | 'worker' = 'all',
  extra: Record<string, string> = {},
  /** Another checkout's packages/server (bench/scaleout.ts compares hub versions in one sitting). */
  dir = serverDir,
  /** Node flags before the script, for flags NODE_OPTIONS refuses (V8's GC threading, e.g. `--single-threaded-gc`). */
  nodeArgs: string[] = [],
): Promise<HubProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', 'start'], {
    cwd: dir,
    env: { ...process.env, ...env, ...extra, PORT: String(port), HOST: '127.0.0.1', HUB_ROLE: role },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`hub exited ${child.exitCode}: ${stderr}`);
      return (await fetch(`${url}/readyz`)).ok;
    },
    `hub on port ${port}`,
    120_000,
  );
  return {
    port,
    url,
    child,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One Prometheus sample of a hub's /metrics (the first line that starts with `name`). */
export async function metric(hub: HubProcess, name: string): Promise<number | null> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}
