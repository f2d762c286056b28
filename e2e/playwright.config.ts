/**
 * Browser tests of the console: Playwright drives Debian's Chromium (`/usr/bin/chromium`, installed with
 * apt; never a downloaded browser) against a real hub started here on a free port, with a fresh SQLite
 * data directory. Screenshots of every main page go to test-results/.
 *
 *   npm run test:e2e                  (CHROMIUM_PATH=… to use another Chromium build)
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

// The config is evaluated again in each worker: keep the first choice so all agree on the hub.
process.env.E2E_HUB_PORT ??= String(await freePort());
process.env.E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'agentops-e2e-'));
// Each run its own artifacts folder: two runs in one checkout must not delete each other's traces.
process.env.E2E_RUN_ID ??= new Date().toISOString().replace(/[:.]/g, '-');
const port = Number(process.env.E2E_HUB_PORT);
const dataDir = process.env.E2E_DATA_DIR;
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: join(root, 'test-results', 'playwright', process.env.E2E_RUN_ID),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1440, height: 900 },
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: 'node --import tsx packages/server/src/main.ts start',
    cwd: root,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 90_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      HUB_DATA_DIR: dataDir,
      HUB_PUBLIC_URL: baseURL,
      HUB_LOG_LEVEL: 'warn',
      // The journeys sign up and in a few times within a minute.
      RATE_LIMIT_AUTH_PER_MINUTE: '1000',
      // The webhook journey delivers to a receiver on loopback, which the egress guard refuses unless allowed.
      HUB_EGRESS_ALLOW: '127.0.0.1',
      DATABASE_URL: '',
    },
  },
});
