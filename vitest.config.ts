/**
 * One Vitest config for every workspace. Tests run against real databases (SQLite files, a real
 * PostgreSQL), and each test file makes its own database, so files run in parallel in separate
 * processes. `npm test` (scripts/test.mjs) runs this suite once per dialect via HUB_TEST_DB.
 */
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages (@agentops-hub/sdk, …/mcp-gateway) resolve to their sources through this condition in
  // their package.json `exports`: tests never need a build, nor see a stale one. The rest is Vitest's default.
  ssr: { resolve: { conditions: ['@agentops-hub/source', ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    include: ['packages/**/src/**/*.test.ts', 'packages/**/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/e2e/**'],
    // Forks, not threads: native addons (better-sqlite3) and pg pools are happiest in their own process.
    pool: 'forks',
    testTimeout: 30_000,
    // Hooks create databases and run every migration.
    hookTimeout: 60_000,
    watch: false,
  },
});
