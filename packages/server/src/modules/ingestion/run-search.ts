/**
 * Run text search over external reference, input, output and error: FTS5 on SQLite, a tsvector with a
 * GIN index on PostgreSQL. The user's `q` is plain words, never query syntax: each word becomes a
 * quoted term, so nothing a user types can break or widen the query.
 */
import { sql } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import { prepareSelect, prepareUpdate } from '../../db/writes/sqlite.ts';
import type { OrgId } from '../../platform/caller.ts';
import { LINK_SEARCH_ROW } from './ingestion.writes.ts';

/** The text a run is found by: JSON values flattened to words. */
export function searchText(r: {
  external_ref: string | null;
  input: string | null;
  output: string | null;
  error: string | null;
}) {
  const flat = (json: string | null) => {
    if (!json) return '';
    const out: string[] = [];
    const walk = (v: unknown) => {
      if (v === null || v === undefined) return;
      if (typeof v === 'object') for (const x of Object.values(v as object)) walk(x);
      else out.push(String(v));
    };
    try {
      walk(JSON.parse(json));
    } catch {
      out.push(json);
    }
    return out.join(' ');
  };
  return [r.external_ref ?? '', flat(r.input), flat(r.output), flat(r.error)].join('\n').slice(0, 100_000);
}

/**
 * SQLite: prepared statements that re-index runs inside the ingestion transaction, so a run is
 * searchable the moment its 202 is sent. The FTS row is found again by the rowid kept on the run
 * (FTS5 cannot index org_id/run_id, so deleting by them would scan the whole index).
 */
export function createSqliteSearchIndexer(sqlite: import('better-sqlite3').Database) {
  // The text of the run as stored (after the upsert merged it).
  const read = prepareSelect<'runs', 'id', Parameters<typeof searchText>[0] & { search_rowid: number | null }>(
    sqlite,
    'runs',
    ['id'],
    ['search_rowid', 'external_ref', 'input', 'output', 'error'],
  );
  const del = sqlite.prepare('delete from runs_fts where rowid = ?');
  const ins = sqlite.prepare('insert into runs_fts (org_id, run_id, body) values (?, ?, ?)');
  const link = prepareUpdate(sqlite, LINK_SEARCH_ROW);
  return (orgId: OrgId, runId: string) => {
    const row = read(orgId, { id: runId });
    if (!row) return;
    if (row.search_rowid !== null) del.run(row.search_rowid);
    const { lastInsertRowid } = ins.run(orgId, runId, searchText(row));
    link(orgId, { id: runId, search_rowid: lastInsertRowid });
  };
}

/**
 * PostgreSQL: the same inside the Kysely transaction. Its parser keeps emails, URLs and hyphenated
 * words whole ("pineapple@example.com"), so the text is indexed twice: as written, and split at every
 * non-word character.
 */
export async function reindexRunPostgres(trx: Exec, orgId: OrgId, runId: string) {
  const scope = orgScope(trx, orgId);
  const row = await scope
    .selectFrom('runs')
    .select(['external_ref', 'input', 'output', 'error'])
    .where('id', '=', runId)
    .executeTakeFirst();
  if (!row) return;
  const text = searchText(row);
  const both = `${text}\n${text.replace(/[^\p{L}\p{N}]+/gu, ' ')}`;
  // `search` is PostgreSQL's own column (a tsvector), not in the shared schema type.
  await scope
    .updateTable('runs')
    .set(sql.ref('search') as never, sql`to_tsvector('simple', ${both})` as never)
    .where('id', '=', runId)
    .execute();
}

/** Words of `q` (letters, digits, and the joiners of references like ticket-4711). */
export function searchTerms(q: string): string[] {
  return (q.match(/[\p{L}\p{N}][\p{L}\p{N}_.@-]*/gu) ?? []).slice(0, 20);
}

/**
 * Run ids of `orgId` matching every word of `q`, newest first (PostgreSQL; SQLite's FTS5 has no order).
 * SQLite: the FTS rows matching, joined to the org's runs by the FTS rowid each run keeps (`search_rowid`).
 */
export async function searchRunIds(db: Exec, dialect: Dialect, orgId: OrgId, q: string, limit: number) {
  const terms = searchTerms(q);
  if (terms.length === 0) return [];
  const scope = orgScope(db, orgId);
  if (dialect === 'sqlite') {
    const match = terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' ');
    const rows = await scope
      .selectFrom('runs')
      .select('id')
      // The pair (run id, FTS rowid) ties a match to this run, not to a same-id run of another org, and
      // lets SQLite look the runs up by primary key (org_id, id) instead of scanning the org's runs.
      .where(sql<boolean>`(id, search_rowid) in (select run_id, rowid from runs_fts where runs_fts match ${match})`)
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }
  const rows = await scope
    .selectFrom('runs')
    .select('id')
    .where(sql<boolean>`search @@ plainto_tsquery('simple', ${terms.join(' ')})`)
    .orderBy('started_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
