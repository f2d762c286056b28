/**
 * The PostgreSQL write of one group-commit batch (ingestion.service.ts), in as few round trips as the
 * batch allows: usually one statement for the whole batch, whatever the number of orgs in it.
 *
 * Why: the batch used to be a transaction with one statement per org and kind (BEGIN, runs and events
 * of each org, COMMIT), about ten round trips for four requests. On this hub's 2-CPU bench machine each
 * round trip cost more hub CPU than building the rows (a loopback socket write, ~130 µs at N = 1 and
 * more under load), and with the load split across hub processes each batch held fewer requests, so the
 * fixed statements cost more per event (bench/scaleout.ts: 197 µs of hub CPU per event at N = 1, 350
 * at N = 3). Now the rows of each kind go in one `INSERT … SELECT … FROM json_to_recordset($1)` for
 * every org of the batch (one parameter: no per-value encoding, and no query tree to build), and the
 * kinds are data-modifying CTEs of a single statement, which is atomic without BEGIN/COMMIT.
 *
 * Why a system path (it writes across orgs): the group commit gathers requests of many orgs on purpose.
 * Nothing here reads or filters by org; every row's `org_id` is the `OrgId` the authenticated caller's
 * op carries (ingestion.service.ts builds them), and keys and conflicts always include it. What needs a
 * second statement (a run ended by an event, a run's search text) runs after it in one transaction,
 * through `orgScope` as before.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Exec } from '../../db/org-scope.ts';
import { updateRow } from '../../db/writes/postgres.ts';
import { literalSql, type Merge, mergeSql, type UpsertDescription } from '../../db/writes/write-description.ts';
import { groupOps, hasSearchText, type WriteOp } from './ingestion.store.ts';
import { END_RUN, INSERT_EVENT, INSERT_PLACEHOLDER_RUN, UPSERT_RUN } from './ingestion.writes.ts';
import { reindexRunPostgres } from './run-search.ts';

/** PostgreSQL types of the written columns that are not text (json_to_recordset needs every type). */
const TYPES: Record<string, string> = {
  ts: 'bigint',
  duration_ms: 'bigint',
  received_at: 'bigint',
  enriched: 'integer',
  started_at: 'bigint',
  ended_at: 'bigint',
  created_at: 'bigint',
  updated_at: 'bigint',
};

/**
 * `insert into T (…) select … from json_to_recordset(` + the rows as JSON + `) … on conflict …`, made
 * once per description: the SQL around the one parameter, with the description's merge rules (the same
 * SQL as db/writes/postgres.ts's `upsertRows`).
 */
function insertFromJson(d: UpsertDescription<any>): (rows: readonly object[]) => RawBuilder<unknown> {
  const columns = ['org_id', ...(d.columns as readonly string[])];
  const inserted = Object.entries(d.inserted ?? {}) as [string, number | string][];
  const defs = columns.map((c) => `${c} ${TYPES[c] ?? 'text'}`).join(', ');
  const conflict = ['org_id', ...(d.key as readonly string[]), ...(d.partitionedBy ? [d.partitionedBy] : [])];
  const onConflict =
    d.onConflict === 'nothing'
      ? 'do nothing'
      : `do update set ${(Object.entries(d.onConflict) as [string, Merge][])
          .map(([c, rule]) => `${c} = ${mergeSql(d.table, c, rule)}`)
          .join(', ')}`;
  const before = sql.raw(
    `insert into ${d.table} (${[...columns, ...inserted.map(([c]) => c)].join(', ')}) select ${[
      ...columns,
      ...inserted.map(([, v]) => literalSql(v)),
    ].join(', ')} from json_to_recordset(`,
  );
  const after = sql.raw(`::json) as t(${defs}) on conflict (${conflict.join(', ')}) ${onConflict}`);
  // Only the description's columns go into the JSON, missing ones as null (as upsertRows writes them).
  // A lone surrogate (any client string may hold one) becomes U+FFFD, as the driver's UTF-8 encoding of
  // a parameter made it before: JSON.stringify writes it as `\ud800`, which PostgreSQL's JSON refuses.
  const pick = (r: Record<string, unknown>) => {
    const o: Record<string, unknown> = {};
    for (const c of columns) {
      const v = r[c] ?? null;
      o[c] = typeof v === 'string' ? wellFormed(v) : v;
    }
    return o;
  };
  return (rows) => sql`${before}${JSON.stringify(rows.map((r) => pick(r as Record<string, unknown>)))}${after}`;
}

/** ES2024's String well-formedness methods, which Node 20 has (its TypeScript lib here stops before ES2024). */
type Es2024String = string & { isWellFormed(): boolean; toWellFormed(): string };
const wellFormed = (v: string) => ((v as Es2024String).isWellFormed() ? v : (v as Es2024String).toWellFormed());

const upsertRuns = insertFromJson(UPSERT_RUN);
const insertPlaceholders = insertFromJson(INSERT_PLACEHOLDER_RUN);
const insertEvents = insertFromJson(INSERT_EVENT);

/**
 * Writes one batch: runs, placeholder runs and events in one statement (each kind a data-modifying CTE),
 * then, only if the batch has them, runs ended by an event and runs' search text, in the same
 * transaction. The result is the one of writing the ops in the old order (runs, placeholders, ends,
 * events): a placeholder of a run reported in the same batch is dropped (it would do nothing after the
 * report), which also keeps two CTEs of one statement off the same row.
 */
export async function writeBatchPg(db: Exec, ops: WriteOp[]): Promise<void> {
  if (ops.length > MAX_OPS_PER_STATEMENT) {
    // A large batch (up to the group commit's 5,000 ops, events of up to 64 KiB each) in one JSON text
    // could reach hundreds of MB: it goes as several statements of one transaction instead.
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < ops.length; i += MAX_OPS_PER_STATEMENT)
        await writeStatements(trx, ops.slice(i, i + MAX_OPS_PER_STATEMENT), true);
    });
    return;
  }
  await writeStatements(db, ops, false);
}

/** Ops per statement: at most 500 × 64 KiB (32 MiB) of JSON, as the previous writer's 400-row chunks. */
const MAX_OPS_PER_STATEMENT = 500;

/** One statement of `ops`, then what needs a second one; in a transaction of its own unless `inTransaction`. */
async function writeStatements(db: Exec, ops: WriteOp[], inTransaction: boolean): Promise<void> {
  const { runs, placeholders, events, terminals } = groupOps(ops);
  const reported = new Set(runs.map((r) => `${r.org_id}\u0000${r.id}`));
  const fresh = placeholders.filter((p) => !reported.has(`${p.org_id}\u0000${p.id}`));
  const parts: RawBuilder<unknown>[] = [];
  if (runs.length) parts.push(upsertRuns(runs));
  if (fresh.length) parts.push(insertPlaceholders(fresh));
  if (events.length) parts.push(insertEvents(events));
  const searchable = runs.filter(hasSearchText);
  const statement = parts.length
    ? sql`with ${sql.join(
        parts.map((p, i) => sql`${sql.raw(`w${i}`)} as (${p})`),
        sql.raw(', '),
      )} select 1`
    : null;
  const rest = async (trx: Exec) => {
    if (statement) await statement.execute(trx);
    // Searchable as soon as the 202 is sent (PostgreSQL: tsvector in the same transaction).
    for (const r of searchable) await reindexRunPostgres(trx, r.org_id, r.id);
    for (const t of terminals)
      await updateRow(trx, t.orgId, END_RUN, { id: t.runId, status: t.status, ended_at: t.endedAt, updated_at: t.at });
  };
  // One statement alone is atomic: no BEGIN/COMMIT round trips for the usual batch.
  if (inTransaction || (terminals.length === 0 && searchable.length === 0)) return rest(db);
  await db.transaction().execute(rest);
}
