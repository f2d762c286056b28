/**
 * @module redact-pages
 * One bounded page of the re-redaction job per call, for each table that holds content: runs (input,
 * output, error, metadata, and their search index), events (payload), decisions (action, context) and
 * approvals (action). A page reads up to `PAGE` rows after the cursor (keyset, so a page costs the same
 * at the end of a big table as at its start) and rewrites the rows whose content changes.
 *
 * Each row is rewritten by compare-and-set on the values it was read with: a row that ingestion changed
 * in between (a run's output arriving) is read again and redacted from its new values, so a concurrent
 * write is never overwritten by a stale one. Events, decisions and approvals are rewritten through their
 * owners' doors (ingestion's, policies' and approvals' `rewrite…` functions, given the new content). Runs
 * and their search index belong to ingestion and are still rewritten here: the one place another module
 * rewrites them, because a re-redaction must reach every stored copy of the content (docs/ARCHITECTURE.md
 * names it).
 */
import { sql } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';
import { rewriteApprovalActions } from '../approvals/index.ts';
import { reindexRunPostgres, rewriteEventPayloads, searchText } from '../ingestion/index.ts';
import { rewriteDecisionContent } from '../policies/index.ts';
import type { Redactor } from './redactor.ts';
import {
  redactActionJson,
  redactContextJson,
  redactJsonColumn,
  redactMetadata,
  redactPayload,
} from './stored-content.ts';

export const PAGE = 200;
/** Times a row changed under us is read again before the page gives up on it (and fails the attempt). */
const RETRIES = 3;

export type Cursor = { id: string; ts?: number } | null;
export interface PageResult {
  /** Where the next page starts; null when the table is done. */
  next: Cursor;
  scanned: number;
  changed: number;
}

const RUN_COLUMNS = ['id', 'agent_id', 'external_ref', 'input', 'output', 'error', 'metadata', 'search_rowid'] as const;
const isNull = (v: unknown) => (v === null ? 'is' : '=');

/** Runs: content columns, then the run's search index (SQLite FTS row, PostgreSQL tsvector). */
export async function runsPage(db: Exec, dialect: Dialect, orgId: OrgId, red: Redactor, after: Cursor) {
  const scope = orgScope(db, orgId);
  const rows = await scope
    .selectFrom('runs')
    .select(RUN_COLUMNS)
    .where('id', '>', after?.id ?? '')
    .orderBy('id')
    .limit(PAGE)
    .execute();
  let changed = 0;
  for (let row of rows) {
    for (let attempt = 0; ; attempt++) {
      const next = {
        input: redactJsonColumn(red, row.agent_id, row.input),
        output: redactJsonColumn(red, row.agent_id, row.output),
        error: redactJsonColumn(red, row.agent_id, row.error),
        metadata: redactMetadata(red, row.agent_id, row.metadata),
      };
      if (
        next.input === row.input &&
        next.output === row.output &&
        next.error === row.error &&
        next.metadata === row.metadata
      )
        break;
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
      if (attempt >= RETRIES) throw new Error(`run ${was.id} kept changing while it was re-redacted`);
      row = again;
    }
  }
  return result(rows, changed, (r) => ({ id: r.id }));
}

/** The run's search text rebuilt from its redacted columns, so the index keeps no original word. */
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

/** Events: the payload (ingestion door; keyset on (id, ts), compare-and-set on the payload read). */
export async function eventsPage(db: Exec, orgId: OrgId, red: Redactor, after: Cursor): Promise<PageResult> {
  const from = after === null ? null : { id: after.id, ts: after.ts ?? 0 };
  const page = await rewriteEventPayloads(db, orgId, from, PAGE, RETRIES, (row) => {
    const payload = redactPayload(red, row.agent_id, row.payload);
    return payload === row.payload ? null : payload;
  });
  return { next: page.scanned < PAGE ? null : page.last, scanned: page.scanned, changed: page.changed };
}

/** Decisions: the action and the caller's context, as the agent's capture level keeps them (policies door). */
export async function decisionsPage(db: Exec, orgId: OrgId, red: Redactor, after: Cursor): Promise<PageResult> {
  const page = await rewriteDecisionContent(db, orgId, after?.id ?? '', PAGE, (row) => {
    const action = redactActionJson(red, row.agent_id, row.action);
    const context = redactContextJson(red, row.agent_id, row.context);
    return action === row.action && context === row.context ? null : { action, context };
  });
  return pageResult(page);
}

/** Approvals: the action approvers are shown (approvals door). */
export async function approvalsPage(db: Exec, orgId: OrgId, red: Redactor, after: Cursor): Promise<PageResult> {
  const page = await rewriteApprovalActions(db, orgId, after?.id ?? '', PAGE, (row) => {
    const action = redactActionJson(red, row.agent_id, row.action);
    return action === row.action ? null : action;
  });
  return pageResult(page);
}

/** A page rewritten through its owner's door, as a `PageResult`. */
function pageResult(p: { scanned: number; changed: number; lastId: string | null }): PageResult {
  return {
    next: p.scanned < PAGE || p.lastId === null ? null : { id: p.lastId },
    scanned: p.scanned,
    changed: p.changed,
  };
}

function result<R>(rows: R[], changed: number, key: (r: R) => Cursor): PageResult {
  return { next: rows.length < PAGE ? null : key(rows[rows.length - 1]!), scanned: rows.length, changed };
}
