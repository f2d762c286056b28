/**
 * The one rewrite of stored runs another module makes: the privacy module's re-redaction of a run's
 * content columns, which must reach every stored copy, its search index included. Ingestion owns runs
 * and their search rows, so the page's read, the compare-and-set, the re-read and the reindex are here;
 * what the content becomes is the caller's `rewrite`.
 */
import { sql } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';
import { reindexRunPostgres, searchText } from './run-search.ts';

const RUN_COLUMNS = ['id', 'agent_id', 'external_ref', 'input', 'output', 'error', 'metadata', 'search_rowid'] as const;
const isNull = (v: unknown) => (v === null ? 'is' : '=');

/** A run's content columns, as a rewrite reads and returns them. */
export interface RunContent {
  input: string | null;
  output: string | null;
  error: string | null;
  metadata: string;
}

/**
 * Reads up to `limit` runs after `afterId` (keyset on id) and stores `rewrite`'s content for those it
 * changes (`null`: unchanged). Each run is written by compare-and-set on the values it was read with, and
 * its search text rebuilt, in one transaction; a run that changed in between (its output arriving) is
 * read again and rewritten from its new values, up to `retries` times, so a concurrent write is never
 * overwritten by a stale one.
 */
export async function rewriteRunContent(
  db: Exec,
  dialect: Dialect,
  orgId: OrgId,
  afterId: string,
  limit: number,
  retries: number,
  rewrite: (row: RunContent & { agent_id: string }) => RunContent | null,
) {
  const scope = orgScope(db, orgId);
  const rows = await scope
    .selectFrom('runs')
    .select(RUN_COLUMNS)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  let changed = 0;
  for (let row of rows) {
    for (let attempt = 0; ; attempt++) {
      const next = rewrite(row);
      if (!next) break;
      const was = row;
      const done = await db.transaction().execute(async (trx) => {
        const r = await scope
          .in(trx)
          .updateTable('runs')
          .set(next)
          .where('id', '=', was.id)
          .where('input', isNull(was.input), was.input)
          .where('output', isNull(was.output), was.output)
          .where('error', isNull(was.error), was.error)
          .where('metadata', '=', was.metadata)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        await reindex(trx, dialect, orgId, { ...was, ...next });
        return true;
      });
      if (done) {
        changed++;
        break;
      }
      const again = await scope.selectFrom('runs').select(RUN_COLUMNS).where('id', '=', was.id).executeTakeFirst();
      if (!again) break; // deleted meanwhile (retention, erasure): nothing left to redact
      if (attempt >= retries) throw new Error(`run ${was.id} kept changing while it was re-redacted`);
      row = again;
    }
  }
  return { scanned: rows.length, changed, lastId: rows[rows.length - 1]?.id ?? null };
}

/** The run's search text rebuilt from its rewritten columns, so the index keeps no original word. */
async function reindex(
  trx: Exec,
  dialect: Dialect,
  orgId: OrgId,
  run: { id: string; search_rowid: number | null } & Parameters<typeof searchText>[0],
) {
  if (dialect === 'postgres') return reindexRunPostgres(trx, orgId, run.id);
  // SQLite: a run without an FTS row yet is indexed by ingestion's own path; only replace an existing one.
  if (run.search_rowid === null) return;
  await sql`delete from runs_fts where rowid = ${run.search_rowid}`.execute(trx);
  await sql`insert into runs_fts (org_id, run_id, body) values (${orgId}, ${run.id}, ${searchText(run)})`.execute(trx);
  const { rows } = await sql<{ id: number }>`select last_insert_rowid() as id`.execute(trx);
  await orgScope(trx, orgId).updateTable('runs').set({ search_rowid: rows[0]!.id }).where('id', '=', run.id).execute();
}

/**
 * SQLite: merges the search index, which drops the terms of deleted FTS rows (after rewrites, so no
 * original word stays in its pages).
 */
export async function optimizeRunSearchSqlite(db: Exec) {
  await sql`insert into runs_fts(runs_fts) values ('optimize')`.execute(db);
}
