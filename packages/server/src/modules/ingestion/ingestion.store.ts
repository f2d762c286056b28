/**
 * The ingestion write path (SQL only). Ops from many requests are written in one transaction by the
 * group commit; every row carries its org, and every key is (org_id, id). SQLite's writer is here;
 * PostgreSQL's, one statement for a batch of many orgs, is ingestion-batch.system.ts.
 */
import type { Insertable } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { EventsTable, RunsTable } from '../../db/schema.ts';
import { prepareUpdate, prepareUpsert } from '../../db/writes/sqlite.ts';
import { mergeRows } from '../../db/writes/write-description.ts';
import type { OrgId } from '../../platform/caller.ts';
import { END_RUN, INSERT_EVENT, INSERT_PLACEHOLDER_RUN, UPSERT_RUN } from './ingestion.writes.ts';
import { createSqliteSearchIndexer } from './run-search.ts';

/** A run as ingestion writes it; its org is an `OrgId`, so it came from authentication. */
export type RunRow = Omit<
  Insertable<RunsTable>,
  | 'org_id'
  | 'counted'
  | 'version'
  | 'dirty'
  | 'input_tokens'
  | 'output_tokens'
  | 'cost_nano'
  | 'cost_unknown'
  | 'usage_cost_nano'
  | 'search_rowid'
> & { org_id: OrgId };
/** An event as ingestion writes it; `enriched` is 0 only for what enrichment must price (`needsEnrichment`). */
export type EventRow = Omit<
  EventsTable,
  'org_id' | 'model' | 'input_tokens' | 'output_tokens' | 'cost_nano' | 'cost_source'
> & { org_id: OrgId };

export type WriteOp =
  /** A run reported as a whole (or its start/end): upsert, later reports win field by field. */
  | { kind: 'run'; row: RunRow }
  /** A run known only from its events: created once, never overwrites a reported run. */
  | { kind: 'placeholder'; row: RunRow }
  /** run_completed / run_failed events end the run. */
  | { kind: 'terminal'; orgId: OrgId; runId: string; status: 'completed' | 'failed'; endedAt: number; at: number }
  | { kind: 'event'; row: EventRow };

export const hasSearchText = (r: RunRow) => Boolean(r.external_ref || r.input || r.output || r.error);

/** Only LLM calls need pricing; every other event is final as written. */
export const needsEnrichment = (type: string) => type === 'llm_call';

/** A batch's ops by kind; the same run reported twice is merged (ingestion-batch.system.ts, SQLite's writer). */
export function groupOps(ops: WriteOp[]) {
  // Same run reported twice in one batch: merge in arrival order so the later report wins.
  const runs = new Map<string, RunRow>();
  const placeholders = new Map<string, RunRow>();
  const events: EventRow[] = [];
  const terminals: Extract<WriteOp, { kind: 'terminal' }>[] = [];
  for (const op of ops) {
    if (op.kind === 'run') {
      const key = `${op.row.org_id}\u0000${op.row.id}`;
      const prev = runs.get(key);
      runs.set(key, prev ? mergeRows(UPSERT_RUN, prev, op.row) : op.row);
    } else if (op.kind === 'placeholder') {
      const key = `${op.row.org_id}\u0000${op.row.id}`;
      const prev = placeholders.get(key);
      if (!prev || op.row.started_at < prev.started_at) placeholders.set(key, op.row);
    } else if (op.kind === 'terminal') terminals.push(op);
    else events.push(op.row);
  }
  return { runs: [...runs.values()], placeholders: [...placeholders.values()], events, terminals };
}

/**
 * The SQLite write path: statements generated from the write descriptions (ingestion.writes.ts) and
 * prepared once on the raw better-sqlite3 handle, run while the caller holds Kysely's single connection
 * (so no other query can interleave) — several times faster than building a multi-row insert per batch.
 */
export function createSqliteBatchWriter(sqlite: import('better-sqlite3').Database) {
  const upsertRun = prepareUpsert(sqlite, UPSERT_RUN);
  const insertPlaceholder = prepareUpsert(sqlite, INSERT_PLACEHOLDER_RUN);
  const endRun = prepareUpdate(sqlite, END_RUN);
  const insertEvent = prepareUpsert(sqlite, INSERT_EVENT);
  const reindex = createSqliteSearchIndexer(sqlite);
  return sqlite.transaction((ops: WriteOp[]) => {
    const g = groupOps(ops);
    for (const r of g.runs) {
      upsertRun(r.org_id, r);
      if (hasSearchText(r)) reindex(r.org_id, r.id);
    }
    for (const r of g.placeholders) insertPlaceholder(r.org_id, r);
    for (const t of g.terminals)
      endRun(t.orgId, { id: t.runId, status: t.status, ended_at: t.endedAt, updated_at: t.at });
    for (const e of g.events) insertEvent(e.org_id, e);
  });
}

/** Which of these runs exist, and whose agent they belong to (events that name no agent). */
export async function existingRunAgents(db: Exec, orgId: OrgId, runIds: string[]) {
  if (runIds.length === 0) return new Map<string, string>();
  const rows = await orgScope(db, orgId)
    .selectFrom('runs')
    .select(['id', 'agent_id'])
    .where('id', 'in', runIds)
    .execute();
  return new Map(rows.map((r) => [r.id, r.agent_id]));
}
