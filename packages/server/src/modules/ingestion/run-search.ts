/**
 * Run text search over external reference, input, output and error: FTS5 on SQLite, a tsvector with a
 * GIN index on PostgreSQL. The user's `q` is plain words, never query syntax: each word becomes a
 * quoted term, so nothing a user types can break or widen the query.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';

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

/** Text of a run as stored (after the upsert merged it), for indexing. */
const TEXT_OF_RUN = 'select external_ref, input, output, error from runs where org_id = ? and id = ?';

/**
 * SQLite: prepared statements that re-index runs inside the ingestion transaction, so a run is
 * searchable the moment its 202 is sent. The FTS row is found again by the rowid kept on the run
 * (FTS5 cannot index org_id/run_id, so deleting by them would scan the whole index).
 */
export function createSqliteSearchIndexer(sqlite: import('better-sqlite3').Database) {
  const read = sqlite.prepare(`${TEXT_OF_RUN.replace('select ', 'select search_rowid, ')}`);
  const del = sqlite.prepare('delete from runs_fts where rowid = ?');
  const ins = sqlite.prepare('insert into runs_fts (org_id, run_id, body) values (?, ?, ?)');
  const link = sqlite.prepare('update runs set search_rowid = ? where org_id = ? and id = ?');
  return (orgId: string, runId: string) => {
    const row = read.get(orgId, runId) as
      | (Parameters<typeof searchText>[0] & { search_rowid: number | null })
      | undefined;
    if (!row) return;
    if (row.search_rowid !== null) del.run(row.search_rowid);
    const { lastInsertRowid } = ins.run(orgId, runId, searchText(row));
    link.run(lastInsertRowid, orgId, runId);
  };
}

/**
 * PostgreSQL: the same inside the Kysely transaction. Its parser keeps emails, URLs and hyphenated
 * words whole ("pineapple@example.com"), so the text is indexed twice: as written, and split at every
 * non-word character.
 */
export async function reindexRunPostgres(trx: Transaction<Database> | Kysely<Database>, orgId: string, runId: string) {
  const row = await trx
    .selectFrom('runs')
    .select(['external_ref', 'input', 'output', 'error'])
    .where('org_id', '=', orgId)
    .where('id', '=', runId)
    .executeTakeFirst();
  if (!row) return;
  const text = searchText(row);
  const both = `${text}\n${text.replace(/[^\p{L}\p{N}]+/gu, ' ')}`;
  await sql`update runs set search = to_tsvector('simple', ${both}) where org_id = ${orgId} and id = ${runId}`.execute(
    trx,
  );
}

/** Words of `q` (letters, digits, and the joiners of references like ticket-4711). */
export function searchTerms(q: string): string[] {
  return (q.match(/[\p{L}\p{N}][\p{L}\p{N}_.@-]*/gu) ?? []).slice(0, 20);
}

/** Run ids of `orgId` matching every word of `q`, newest first. */
export async function searchRunIds(db: Kysely<Database>, dialect: Dialect, orgId: string, q: string, limit: number) {
  const terms = searchTerms(q);
  if (terms.length === 0) return [];
  if (dialect === 'sqlite') {
    const match = terms.map((t) => `"${t.replace(/"/g, '""')}"`).join(' ');
    const rows = await sql<{
      run_id: string;
    }>`select run_id from runs_fts where runs_fts match ${match} and org_id = ${orgId} limit ${limit}`.execute(db);
    return rows.rows.map((r) => r.run_id);
  }
  const rows = await sql<{
    id: string;
  }>`select id from runs where org_id = ${orgId} and search @@ plainto_tsquery('simple', ${terms.join(' ')}) order by started_at desc limit ${limit}`.execute(
    db,
  );
  return rows.rows.map((r) => r.id);
}
