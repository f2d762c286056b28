/**
 * Query plans the hot reads depend on. An index that exists but that the planner does not pick is a scan
 * waiting for enough data: these tests ask the database itself.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

describe('the replay timeline of a run', () => {
  it('finds child runs through the parent index', async () => {
    const { db, dialect, sqlite } = t.hub.ctx.db;
    if (dialect === 'sqlite') {
      const plan = sqlite!
        .prepare('explain query plan select id from runs where org_id = ? and parent_run_id = ?')
        .all('org_x', 'run_x') as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain('USING INDEX runs_parent (org_id=? AND parent_run_id=?)');
      return;
    }
    const r = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes where tablename = 'runs' and indexname = 'runs_parent'`.execute(db);
    expect(r.rows[0]?.indexdef).toMatch(/\(org_id, parent_run_id\) WHERE \(parent_run_id IS NOT NULL\)/);
  });

  it('reads its decisions from the run index, not by walking the org’s decisions in time order', async () => {
    const { db, dialect, sqlite } = t.hub.ctx.db;
    if (dialect === 'sqlite') {
      const plan = sqlite!
        .prepare(
          'explain query plan select * from decisions where org_id = ? and run_id = ? order by created_at limit 1000',
        )
        .all('org_x', 'run_x') as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain('USING INDEX decisions_run (org_id=? AND run_id=?)');
      // Only decisions that name a run are indexed.
      const def = sqlite!.prepare("select sql from sqlite_master where name = 'decisions_run'").get() as {
        sql: string;
      };
      expect(def.sql).toMatch(/where "run_id" is not null/i);
      return;
    }
    // PostgreSQL plans by statistics, so an empty table proves nothing: check the index itself.
    const r = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes where tablename = 'decisions' and indexname = 'decisions_run'`.execute(db);
    expect(r.rows[0]?.indexdef).toMatch(/\(org_id, run_id, created_at\) WHERE \(run_id IS NOT NULL\)/);
  });
});
