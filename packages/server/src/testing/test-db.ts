/**
 * A fresh real database for one test file: a SQLite file in a temp dir, or a new PostgreSQL database
 * when HUB_TEST_DB=postgres (on TEST_DATABASE_URL's server). No mocks: the suite runs on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const testDialect = (): 'sqlite' | 'postgres' =>
  process.env.HUB_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

export interface TestDatabase {
  dataDir: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-test-'));
  if (testDialect() === 'sqlite') {
    return { dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const server = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const name = `hubtest_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(server.toString());
  url.pathname = `/${name}`;
  return {
    dataDir,
    databaseUrl: url.toString(),
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: server.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * An org row written straight to the table, for tests of a store or a migration that run without the
 * hub (no sign-up, no owner): the columns every version of `orgs` requires, each with a plain value.
 */
export function bareOrgRow(id: string, name = id) {
  return {
    id,
    name,
    plan: 'team',
    region: 'eu',
    timezone: 'UTC',
    locale: 'en',
    settings: '{}',
    created_at: 1,
    updated_at: 1,
  };
}
