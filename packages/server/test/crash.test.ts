/**
 * Durability: the hub is killed with SIGKILL in the middle of an ingestion load; after a restart every
 * event it acknowledged (202) is there. A 202 is only sent after the group commit's transaction.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/testing/free-port.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/test-db.ts';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
const KEY = `ahk_${'CrAsHtEsT'.repeat(5)}`;
let database: TestDatabase | undefined;
let proc: ChildProcess | undefined;
afterAll(async () => {
  proc?.kill('SIGKILL');
  await database?.drop();
});

async function startHub(port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HUB_DATA_DIR: database!.dataDir,
      ...(database!.databaseUrl ? { DATABASE_URL: database!.databaseUrl } : { DATABASE_URL: '' }),
      HUB_LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '10000000',
      HUB_INIT_ORG_NAME: 'Crash',
      HUB_INIT_USER_EMAIL: 'crash@example.test',
      HUB_INIT_USER_PASSWORD: 'crash-test-password',
      HUB_INIT_API_KEY: KEY,
    },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('hub did not start');
}

describe('crash safety', () => {
  it('keeps every acknowledged event across a SIGKILL', async () => {
    database = await createTestDatabase();
    const port = await freePort();
    proc = await startHub(port);
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const acked = new Set<string>();
    let stop = false;
    const worker = async (w: number) => {
      let i = 0;
      while (!stop) {
        const ids = Array.from({ length: 5 }, (_, k) => `w${w}-e${i}-${k}`);
        i++;
        try {
          const r = await fetch(`${base}/v1/ingest/events`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              events: ids.map((id) => ({
                event_id: id,
                run_id: `crash-run-${w}`,
                agent: 'CrashBot',
                type: 'log',
                timestamp: new Date().toISOString(),
                payload: { id },
              })),
            }),
          });
          if (r.status === 202) for (const id of ids) acked.add(id);
        } catch {
          return; // the hub is gone
        }
      }
    };
    const workers = Array.from({ length: 10 }, (_, w) => worker(w));
    // Kill mid-load once enough is acknowledged (waiting on the count, not a fixed time, so a busy
    // machine still kills it in the middle of a real load).
    const until = Date.now() + 30_000;
    await new Promise((r) => setTimeout(r, 500));
    while (acked.size <= 200 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    proc.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    expect(acked.size).toBeGreaterThan(100);

    proc = await startHub(port);
    const stored = new Set<string>();
    for (let w = 0; w < 10; w++) {
      const r = await fetch(`${base}/v1/runs/crash-run-${w}`, { headers });
      if (r.status !== 200) continue;
      for (const e of (await r.json()).events) stored.add(e.id);
    }
    const lost = [...acked].filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    proc.kill('SIGTERM');
  }, 120_000);
});
