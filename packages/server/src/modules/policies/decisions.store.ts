/**
 * SQL for recorded decisions (the `decisions` table belongs to the policies module).
 *
 * Plain decisions are written by group commit, like ingestion: the caller still waits for its row to be
 * durable, but concurrent evaluations share one transaction. A batch mixes orgs, so its rows carry their
 * own `org_id` (each set from the caller's authenticated `OrgId` in `evaluate-record.ts`); every read,
 * and every write inside one org's transaction, goes through `orgScope`.
 */
import type { Insertable, Kysely } from 'kysely';
import { type Exec, type OrgInsert, orgScope } from '../../db/org-scope.ts';
import type { Database, DecisionsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createGroupCommit } from '../../platform/group-commit.ts';

export type DecisionRow = Insertable<DecisionsTable>;

/**
 * A plain decision whose idempotency key another decision of the org already holds. Its row is skipped
 * (`on conflict do nothing`) rather than failing the statement, so the rest of its grouped commit is
 * written as usual and only its caller is told (it then answers the decision that holds the key).
 */
export class IdempotencyKeyTaken extends Error {
  constructor() {
    super('the idempotency key already has a decision');
  }
}

const COLUMNS = [
  'id',
  'org_id',
  'agent_id',
  'run_id',
  'action_type',
  'action',
  'context',
  'decision',
  'reasons',
  'monitors',
  'approval_id',
  'idempotency_key',
  'latency_us',
  'created_at',
] as const;

export function createDecisionStore(db: Kysely<Database>, sqlite?: import('better-sqlite3').Database) {
  // On SQLite a prepared statement in a synchronous transaction: the cheapest durable write there is.
  const insert = sqlite?.prepare(
    `insert into decisions (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')}) on conflict do nothing`,
  );
  /** Committed batches' rows that were skipped, their key taken (see IdempotencyKeyTaken), until told. */
  const taken = new Set<DecisionRow>();
  /** Marked only once committed: a batch that fails is rolled back and retried one submission at a time. */
  const markTaken = (skipped: DecisionRow[] | undefined) => {
    if (skipped) for (const r of skipped) taken.add(r);
  };
  const writeSqlite = sqlite?.transaction((rows: DecisionRow[]) => {
    let skipped: DecisionRow[] | undefined;
    // Positional arguments in COLUMNS order (no array per row on the hot path).
    for (const r of rows) {
      const { changes } = insert!.run(
        r.id,
        r.org_id,
        r.agent_id,
        r.run_id ?? null,
        r.action_type,
        r.action,
        r.context,
        r.decision,
        r.reasons,
        r.monitors,
        r.approval_id ?? null,
        r.idempotency_key ?? null,
        r.latency_us,
        r.created_at,
      );
      if (changes === 0) {
        skipped ??= [];
        skipped.push(r);
      }
    }
    return skipped;
  });
  const batches = createGroupCommit<DecisionRow>({
    // One PostgreSQL statement takes at most 65,535 parameters (4,681 rows of 14 columns): a larger batch
    // would fail and fall back to one transaction per decision, just when the hub is busiest.
    maxOps: 2000,
    write: (rows) => {
      if (!writeSqlite) return writePostgres(rows);
      // Kysely runs each statement synchronously between its awaits, so unless one of its transactions is
      // open on the connection right now, this transaction commits here and now, with no promise and no
      // wait for the connection (a lone decision is answered sooner). Inside an open one it would become a
      // savepoint of that transaction: then it waits for the connection like any query.
      if (!sqlite!.inTransaction) return markTaken(writeSqlite(rows));
      return db.connection().execute(async () => markTaken(writeSqlite(rows)));
    },
  });
  async function writePostgres(rows: DecisionRow[]) {
    const written = await db
      .insertInto('decisions')
      .values(rows)
      .onConflict((c) => c.doNothing())
      .returning('id')
      .execute();
    if (written.length === rows.length) return;
    const ids = new Set(written.map((w) => w.id));
    markTaken(rows.filter((r) => !ids.has(r.id)));
  }

  return {
    /** Queues a plain decision; `done` once its batch committed (or failed). */
    submit: (row: DecisionRow, done: (error?: unknown) => void) =>
      batches.submitWith([row], (error) => {
        if (error === undefined && taken.delete(row)) return done(new IdempotencyKeyTaken());
        done(error);
      }),
    /** Waits for the queued decisions to be written (shutdown). */
    drain: () => batches.drain(),

    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        /** A decision with its audit entry or approval, inside that transaction. */
        insert: (row: OrgInsert<'decisions'>) => scope.insertInto('decisions', row).execute(),
        /** The decision already made for an idempotency key. */
        byIdempotencyKey: (key: string) =>
          scope.selectFrom('decisions').selectAll().where('idempotency_key', '=', key).executeTakeFirst(),
      };
    },
  };
}
export type DecisionStore = ReturnType<typeof createDecisionStore>;
