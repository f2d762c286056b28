/**
 * One description, two dialects: the SQL generated for SQLite's prepared statements and the Kysely
 * queries generated for PostgreSQL must store the same rows. On SQLite both paths run against the same
 * database (the Kysely path works there too) and are compared row for row; on PostgreSQL the Kysely path
 * is held to the same expected rows. The in-memory merge (`mergeRows`) is held to them as well.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  END_RUN,
  INSERT_EVENT,
  MARK_RUN_COUNTED,
  UPSERT_RUN,
  WRITE_ROLLUP,
} from '../../modules/ingestion/ingestion.writes.ts';
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';
import { orgScope } from '../org-scope.ts';
import { updateRow, upsertRows } from './postgres.ts';
import { prepareUpdate, prepareUpsert, updateSql, upsertSql } from './sqlite.ts';
import { mergeRows } from './write-description.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

/** A run report: every column the upsert takes from a row. */
type Report = Record<(typeof UPSERT_RUN.columns)[number], string | number | null>;
const first: Report = {
  id: 'run_merge',
  agent_id: 'agt_1',
  parent_run_id: 'run_parent',
  status: 'running',
  started_at: 1000,
  ended_at: null,
  environment: 'production',
  external_ref: 'ticket-1',
  input: '{"q":"hello"}',
  output: null,
  error: null,
  metadata: '{"plan":"pro"}',
  tags: '["a"]',
  created_at: 1000,
  updated_at: 1000,
};
// A later report that leaves fields out: the stored parent, reference, input and metadata stay.
const later: Report = {
  ...first,
  agent_id: 'agt_2',
  parent_run_id: null,
  status: 'completed',
  started_at: 1001,
  ended_at: 2000,
  external_ref: null,
  input: null,
  output: '{"a":"hi"}',
  metadata: '{}',
  tags: '["b"]',
  created_at: 1500,
  updated_at: 2000,
};
const merged = {
  ...later,
  parent_run_id: 'run_parent',
  external_ref: 'ticket-1',
  input: '{"q":"hello"}',
  metadata: '{"plan":"pro"}',
  created_at: 1000,
};

/** The two ways to run a description: SQLite's prepared statements, and the Kysely queries. */
type Path = 'prepared' | 'kysely';
function writer(path: Path) {
  const { db, sqlite } = t.hub.ctx.db;
  if (path === 'prepared') {
    const upsert = prepareUpsert(sqlite!, UPSERT_RUN);
    const end = prepareUpdate(sqlite!, END_RUN);
    const counted = prepareUpdate(sqlite!, MARK_RUN_COUNTED);
    return {
      upsert: async (org: OrgId, row: Report) => void upsert(org, row),
      end: async (org: OrgId, v: Record<string, unknown>) => void end(org, v),
      counted: async (org: OrgId, v: Record<string, unknown>) => counted(org, v).changes,
    };
  }
  return {
    upsert: async (org: OrgId, row: Report) => void (await upsertRows(db, org, UPSERT_RUN, [row])),
    end: async (org: OrgId, v: Record<string, unknown>) => void (await updateRow(db, org, END_RUN, v)),
    counted: async (org: OrgId, v: Record<string, unknown>) =>
      Number((await updateRow(db, org, MARK_RUN_COUNTED, v)).numUpdatedRows),
  };
}

async function storedRun(org: OrgId) {
  const row = await orgScope(t.hub.ctx.db.db, org)
    .selectFrom('runs')
    .selectAll()
    .where('id', '=', 'run_merge')
    .executeTakeFirstOrThrow();
  const { search_rowid: _, ...rest } = row;
  return { ...rest, started_at: Number(row.started_at), version: Number(row.version) };
}

/** Upsert twice, end it as failed, try to complete it, then count it at a stale and at the current version. */
async function scenario(path: Path) {
  const org = trustedOrgId((await t.seedOrg()).org.id);
  const w = writer(path);
  await w.upsert(org, first);
  await w.upsert(org, later);
  const afterUpsert = await storedRun(org);
  await w.end(org, { id: first.id, status: 'failed', ended_at: 3000, updated_at: 3000 });
  await w.end(org, { id: first.id, status: 'completed', ended_at: 4000, updated_at: 4000 });
  const afterEnd = await storedRun(org);
  const stale = await w.counted(org, { id: first.id, counted: '{"stale":true}', version: 1 });
  const current = await w.counted(org, { id: first.id, counted: '{"n":1}', version: afterEnd.version });
  const { org_id: _, ...final } = await storedRun(org);
  return { afterUpsert, afterEnd, stale, current, final };
}

describe('the run upsert, generated for both dialects', () => {
  it('merges a later report field by field, ends a run once, and keeps a failure final', async () => {
    const paths: Path[] = t.hub.ctx.db.dialect === 'sqlite' ? ['prepared', 'kysely'] : ['kysely'];
    const results = [];
    for (const path of paths) {
      const r = await scenario(path);
      expect(r.afterUpsert).toMatchObject({ ...merged, version: 2, dirty: 1 });
      // ended_at was set by the report (2000): ending keeps it; the late run_completed changes nothing.
      expect(r.afterEnd).toMatchObject({ status: 'failed', ended_at: 2000, updated_at: 3000, version: 3, dirty: 1 });
      expect([r.stale, r.current]).toEqual([0, 1]);
      expect(r.final).toMatchObject({ dirty: 0, counted: '{"n":1}' });
      results.push(r.final);
    }
    // SQLite: the prepared statement and the Kysely query stored the very same row.
    if (results.length === 2) expect(results[0]).toEqual(results[1]);
  });

  it('merges two reports in one batch as the database merges them', () => {
    expect(mergeRows(UPSERT_RUN, first, later)).toEqual(merged);
  });
});

describe('the generated SQL', () => {
  it('puts the org in front of every key and writes each merge rule once', () => {
    expect(updateSql(END_RUN)).toBe(
      "update runs set status = ?, ended_at = coalesce(ended_at, ?), updated_at = ?, version = version + 1, dirty = 1 where org_id = ? and id = ? and status != 'failed'",
    );
    const upsert = upsertSql(UPSERT_RUN);
    expect(upsert).toMatch(
      /^insert into runs \(org_id, id, agent_id, .*, version, dirty\) values \(\?, \?, .*, 1, 1\)/,
    );
    expect(upsert).toContain('on conflict (org_id, id) do update set agent_id = excluded.agent_id');
    expect(upsert).toContain(
      "metadata = case when excluded.metadata = '{}' then runs.metadata else excluded.metadata end",
    );
    expect(upsert).toContain('version = runs.version + 1, dirty = 1');
    expect(upsertSql(INSERT_EVENT)).toMatch(/on conflict \(org_id, id\) do nothing$/);
    expect(upsertSql(WRITE_ROLLUP)).toContain(
      'on conflict (org_id, agent_id, hour, model) do update set runs = excluded.runs',
    );
  });
});
