/**
 * A rejected promise nothing handles does not take the hub down (Node's default would end the process, and with
 * it every org's requests and sessions): a real hub process, as `npm start` runs it, gets one; it goes on
 * answering, logs the error and counts it on /metrics.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/testing/free-port.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/test-db.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const MAIN = join(HERE, '../src/main.ts');
const REJECT_ON_SIGNAL = join(HERE, 'fixtures/reject-on-signal.mjs');

let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

describe('an unhandled rejection', () => {
  it('is logged and counted, and the hub goes on serving', async () => {
    database = await createTestDatabase();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', REJECT_ON_SIGNAL, MAIN, 'start'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        HUB_DATA_DIR: database.dataDir,
        ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : { DATABASE_URL: '' }),
        HUB_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (
          await fetch(`${base}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the hub did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGUSR2');
      // The log line says the rejection happened; then the process must still be there and answering.
      while (!output.includes('nothing handled it') && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      expect(output).toContain('a failure nobody awaited');
      await new Promise((r) => setTimeout(r, 300));
      expect(child.exitCode).toBeNull();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^hub_unhandled_rejections_total 1$/m);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});
