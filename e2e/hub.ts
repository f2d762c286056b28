/**
 * What the browser journeys share: a hub of their own (a fresh data directory on the embedded SQLite,
 * started as `npm start` starts it, on a free port) and the axe-core check every page passes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a hub with a fresh data directory (`agentops-e2e-<name>-…`) and `env` on top of the journeys'
 * defaults (no PostgreSQL, no SMTP, quiet logs, a loose sign-in rate limit); resolves once it answers.
 */
export async function startHub(
  name: string,
  env: Record<string, string> = {},
): Promise<{ base: string; stop: () => void }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const hub: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/main.ts', 'start'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HUB_DATA_DIR: mkdtempSync(join(tmpdir(), `agentops-e2e-${name}-`)),
      HUB_PUBLIC_URL: base,
      HUB_LOG_LEVEL: 'warn',
      RATE_LIMIT_AUTH_PER_MINUTE: '1000',
      DATABASE_URL: '',
      SMTP_URL: '',
      ...env,
    },
  });
  const deadline = Date.now() + 100_000;
  for (;;) {
    const up = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline || hub.exitCode !== null) throw new Error('the hub did not start');
    await new Promise((r) => setTimeout(r, 500));
  }
  return { base, stop: () => hub.kill('SIGTERM') };
}

/** No serious or critical axe-core violation on what the page shows now (or within `within`). */
export async function accessible(page: Page, where: string, within?: string) {
  const axe = new AxeBuilder({ page });
  if (within) axe.include(within);
  const { violations } = await axe.analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  // Soft: every page's violations are reported, not only the first page's.
  expect
    .soft(
      bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`),
      `axe on ${where}`,
    )
    .toEqual([]);
}
