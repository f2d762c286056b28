/**
 * The ingestion write path (SQL only). Ops from many requests are written in one transaction by the
 * group commit; every row carries its org, and every key is (org_id, id).
 */
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { Database, EventsTable, RunsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createSqliteSearchIndexer, reindexRunPostgres } from './run-search.ts';

export type RunRow = Omit<
  Insertable<RunsTable>,
  'counted' | 'version' | 'dirty' | 'input_tokens' | 'output_tokens' | 'cost_nano' | 'cost_unknown' | 'usage_cost_nano'
>;
export type EventRow = Omit<
  EventsTable,
  'model' | 'input_tokens' | 'output_tokens' | 'cost_nano' | 'cost_source' | 'enriched'
>;

export type WriteOp =
  /** A run reported as a whole (or its start/end): upsert, later reports win field by field. */
  | { kind: 'run'; row: RunRow }
  /** A run known only from its events: created once, never overwrites a reported run. */
  | { kind: 'placeholder'; row: RunRow }
  /** run_completed / run_failed events end the run. */
  | { kind: 'terminal'; orgId: OrgId; runId: string; status: 'completed' | 'failed'; endedAt: number; at: number }
  | { kind: 'event'; row: EventRow };

const CHUNK = 400;
function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const hasSearchText = (r: RunRow) => Boolean(r.external_ref || r.input || r.output || r.error);

/** Only LLM calls need pricing; every other event is final as written. */
export const needsEnrichment = (type: string) => type === 'llm_call';

function groupOps(ops: WriteOp[]) {
  // Same run reported twice in one batch: merge in arrival order so the later report wins.
  const runs = new Map<string, RunRow>();
  const placeholders = new Map<string, RunRow>();
  const events: EventRow[] = [];
  const terminals: Extract<WriteOp, { kind: 'terminal' }>[] = [];
  for (const op of ops) {
    if (op.kind === 'run') {
      const key = `${op.row.org_id}\u0000${op.row.id}`;
      const prev = runs.get(key);
      runs.set(key, prev ? mergeRun(prev, op.row) : op.row);
    } else if (op.kind === 'placeholder') {
      const key = `${op.row.org_id}\u0000${op.row.id}`;
      const prev = placeholders.get(key);
      if (!prev || op.row.started_at < prev.started_at) placeholders.set(key, op.row);
    } else if (op.kind === 'terminal') terminals.push(op);
    else events.push(op.row);
  }
  return { runs: [...runs.values()], placeholders: [...placeholders.values()], events, terminals };
}

const RUN_COLUMNS = [
  'org_id',
  'id',
  'agent_id',
  'parent_run_id',
  'status',
  'started_at',
  'ended_at',
  'environment',
  'external_ref',
  'input',
  'output',
  'error',
  'metadata',
  'tags',
  'created_at',
  'updated_at',
] as const;
const RUN_UPSERT_SET = `agent_id = excluded.agent_id, status = excluded.status, started_at = excluded.started_at,
  ended_at = coalesce(excluded.ended_at, runs.ended_at), environment = excluded.environment,
  parent_run_id = coalesce(excluded.parent_run_id, runs.parent_run_id),
  external_ref = coalesce(excluded.external_ref, runs.external_ref), input = coalesce(excluded.input, runs.input),
  output = coalesce(excluded.output, runs.output), error = coalesce(excluded.error, runs.error),
  metadata = case when excluded.metadata = '{}' then runs.metadata else excluded.metadata end,
  tags = excluded.tags, updated_at = excluded.updated_at, version = runs.version + 1, dirty = 1`;

/**
 * The SQLite write path: cached prepared statements on the raw better-sqlite3 handle, run while the
 * caller holds Kysely's single connection (so no other query can interleave) — several times faster
 * than building a multi-row insert per batch.
 */
export function createSqliteBatchWriter(sqlite: import('better-sqlite3').Database) {
  const cols = RUN_COLUMNS.join(', ');
  const marks = RUN_COLUMNS.map(() => '?').join(', ');
  const upsertRun = sqlite.prepare(
    `insert into runs (${cols}) values (${marks}) on conflict (org_id, id) do update set ${RUN_UPSERT_SET}`,
  );
  const insertPlaceholder = sqlite.prepare(
    `insert into runs (${cols}) values (${marks}) on conflict (org_id, id) do nothing`,
  );
  const endRun = sqlite.prepare(
    `update runs set status = ?, ended_at = coalesce(ended_at, ?), updated_at = ?, version = version + 1, dirty = 1
     where org_id = ? and id = ? and status != 'failed'`,
  );
  const insertEvent = sqlite.prepare(
    `insert into events (org_id, id, run_id, agent_id, type, ts, parent_id, duration_ms, payload, received_at, enriched)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (org_id, id) do nothing`,
  );
  const runValues = (r: RunRow) => RUN_COLUMNS.map((c) => r[c] ?? null);
  const reindex = createSqliteSearchIndexer(sqlite);
  const write = sqlite.transaction((ops: WriteOp[]) => {
    const g = groupOps(ops);
    for (const r of g.runs) {
      upsertRun.run(runValues(r));
      if (hasSearchText(r)) reindex(r.org_id, r.id);
    }
    for (const r of g.placeholders) insertPlaceholder.run(runValues(r));
    for (const t of g.terminals) endRun.run(t.status, t.endedAt, t.at, t.orgId, t.runId);
    for (const e of g.events)
      insertEvent.run(
        e.org_id,
        e.id,
        e.run_id,
        e.agent_id,
        e.type,
        e.ts,
        e.parent_id,
        e.duration_ms,
        e.payload,
        e.received_at,
        needsEnrichment(e.type) ? 0 : 1,
      );
  });
  return write;
}

async function upsertRuns(trx: Transaction<Database> | Kysely<Database>, part: RunRow[]) {
  await trx
    .insertInto('runs')
    .values(part.map((r) => ({ ...r, version: 1, dirty: 1 })))
    .onConflict((oc) =>
      oc.columns(['org_id', 'id']).doUpdateSet((eb) => ({
        agent_id: eb.ref('excluded.agent_id'),
        status: eb.ref('excluded.status'),
        started_at: eb.ref('excluded.started_at'),
        ended_at: sql`coalesce(excluded.ended_at, runs.ended_at)`,
        environment: eb.ref('excluded.environment'),
        parent_run_id: sql`coalesce(excluded.parent_run_id, runs.parent_run_id)`,
        external_ref: sql`coalesce(excluded.external_ref, runs.external_ref)`,
        input: sql`coalesce(excluded.input, runs.input)`,
        output: sql`coalesce(excluded.output, runs.output)`,
        error: sql`coalesce(excluded.error, runs.error)`,
        metadata: sql`case when excluded.metadata = '{}' then runs.metadata else excluded.metadata end`,
        tags: eb.ref('excluded.tags'),
        updated_at: eb.ref('excluded.updated_at'),
        version: sql`runs.version + 1`,
        dirty: 1,
      })),
    )
    .execute();
}

export async function writeBatch(trx: Transaction<Database> | Kysely<Database>, ops: WriteOp[]) {
  const { runs, placeholders, events, terminals } = groupOps(ops);
  for (const part of chunks(runs)) {
    await upsertRuns(trx, part);
  }
  // Searchable as soon as the 202 is sent (PostgreSQL: tsvector in the same transaction).
  for (const r of runs) if (hasSearchText(r)) await reindexRunPostgres(trx, r.org_id, r.id);
  for (const part of chunks(placeholders)) {
    await trx
      .insertInto('runs')
      .values(part.map((r) => ({ ...r, version: 1, dirty: 1 })))
      .onConflict((oc) => oc.columns(['org_id', 'id']).doNothing())
      .execute();
  }
  for (const t of terminals) {
    await trx
      .updateTable('runs')
      .set({
        status: t.status,
        ended_at: sql`coalesce(ended_at, ${t.endedAt})`,
        updated_at: t.at,
        version: sql`version + 1`,
        dirty: 1,
      })
      .where('org_id', '=', t.orgId)
      .where('id', '=', t.runId)
      // A failure is final: a late run_completed does not turn a failed run green.
      .where('status', '!=', 'failed')
      .execute();
  }
  for (const part of chunks(events)) {
    await trx
      .insertInto('events')
      .values(part.map((e) => ({ ...e, enriched: needsEnrichment(e.type) ? 0 : 1 })))
      // PostgreSQL partitions events by ts, so its key is (org_id, id, ts): a retry (same timestamp) is
      // still a no-op, but an event_id re-sent with a different timestamp is stored twice (see
      // db/partitions.ts); SQLite's (org_id, id) key keeps the first in every case.
      .onConflict((oc) => oc.columns(['org_id', 'id', 'ts']).doNothing())
      .execute();
  }
}

function mergeRun(a: RunRow, b: RunRow): RunRow {
  const pick = <K extends keyof RunRow>(k: K) => (b[k] ?? a[k]) as RunRow[K];
  return {
    ...b,
    ended_at: pick('ended_at'),
    parent_run_id: pick('parent_run_id'),
    external_ref: pick('external_ref'),
    input: pick('input'),
    output: pick('output'),
    error: pick('error'),
    metadata: b.metadata === '{}' ? a.metadata : b.metadata,
  };
}

/** Which of these runs exist, and whose agent they belong to (events that name no agent). */
export async function existingRunAgents(db: Kysely<Database>, orgId: OrgId, runIds: string[]) {
  if (runIds.length === 0) return new Map<string, string>();
  const rows = await db
    .selectFrom('runs')
    .select(['id', 'agent_id'])
    .where('org_id', '=', orgId)
    .where('id', 'in', runIds)
    .execute();
  return new Map(rows.map((r) => [r.id, r.agent_id]));
}
