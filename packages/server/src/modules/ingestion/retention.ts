/**
 * Retention: runs and events older than the org's plan retention are exported to compressed JSONL
 * archives under `<data dir>/archives/<org>/` (cold storage) and then deleted from the database (hot
 * storage). Hourly rollups are kept: they are small, hold no payloads, and keep cost history whole.
 * Export first, delete after: an interrupted pass leaves rows that the next pass archives again
 * (an archive may then repeat a few rows; ids make that harmless), never a gap.
 *
 * PostgreSQL (events range-partitioned by month, see db/partitions.ts): the daily pass first keeps the
 * monthly partitions created ahead, runs the same per-org export-then-delete (plans differ in
 * retention), then drops the monthly partitions whose whole range is past the longest retention of
 * any plan and that are now empty, so old months leave as whole files instead of dead tuples. A
 * partition still holding rows (an org whose pass failed) is kept until a later pass empties it.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { orgScope } from '../../db/org-scope.ts';
import {
  dropEmptyEventPartitionsBefore,
  EVENT_PARTITION_MONTHS_AHEAD,
  ensureEventPartitions,
} from '../../db/partitions.ts';
import type { Database, EventsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { everyOrg } from '../../platform/orgs/every-org.system.ts';
import { PLANS, type PlanService } from '../../platform/plans.ts';

const DAY_MS = 86_400_000;
const CHUNK = 5000;
/** No org keeps events longer than this; partitions entirely older than it can only be empty. */
export const MAX_RETENTION_DAYS = Math.max(...Object.values(PLANS).map((p) => p.retention_days));

export function createRetention(deps: {
  db: Kysely<Database>;
  dataDir: string;
  plans: Pick<PlanService, 'limits'>;
  clock: () => number;
  log: { info(o: unknown, m?: string): void };
  /** Defaults to what `db` talks to. */
  dialect?: Dialect;
}) {
  const { db } = deps;
  const dialect: Dialect =
    deps.dialect ?? (db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite');
  const pdb = { db, dialect };

  /** Streams rows to `<file>.jsonl.gz`; `onPage` runs after each page is written (deletes it). */
  async function archive<T>(file: string, pages: () => AsyncGenerator<T[]>): Promise<number> {
    const gzip = createGzip();
    const out = createWriteStream(file);
    gzip.pipe(out);
    let n = 0;
    for await (const rows of pages()) {
      for (const r of rows) {
        if (!gzip.write(`${JSON.stringify(r)}\n`)) await once(gzip, 'drain');
        n++;
      }
    }
    gzip.end();
    await once(out, 'finish');
    return n;
  }

  async function runForOrg(orgId: OrgId) {
    const days = (await deps.plans.limits(orgId)).retention_days;
    const cutoff = deps.clock() - days * DAY_MS;
    const dir = join(deps.dataDir, 'archives', orgId);
    const stamp = new Date(deps.clock()).toISOString().replace(/[:.]/g, '-');

    const scope = orgScope(db, orgId);
    const oldEvents = await scope
      .selectFrom('events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('ts', '<', cutoff)
      .executeTakeFirst();
    const oldRuns = await scope
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('started_at', '<', cutoff)
      .executeTakeFirst();
    if (Number(oldEvents?.n ?? 0) === 0 && Number(oldRuns?.n ?? 0) === 0)
      return { events: 0, runs: 0, files: [] as string[] };

    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    const archivedEvents: { id: string; ts: number }[] = [];
    const archivedRuns: { id: string; search_rowid: number | null }[] = [];
    const eventsFile = join(dir, `events-before-${new Date(cutoff).toISOString().slice(0, 10)}-${stamp}.jsonl.gz`);
    const events = await archive(eventsFile, async function* () {
      // Keyset on (id, ts): on PostgreSQL an event_id re-sent with another timestamp is two rows.
      type Key = { id: string; ts: number };
      let after: Key | null = null;
      for (;;) {
        const last: Key | null = after;
        const rows: Selectable<EventsTable>[] = await scope
          .selectFrom('events')
          .selectAll()
          .where('ts', '<', cutoff)
          .$if(last !== null, (q) =>
            q.where((eb) =>
              eb.or([eb('id', '>', last!.id), eb.and([eb('id', '=', last!.id), eb('ts', '>', last!.ts)])]),
            ),
          )
          .orderBy('id')
          .orderBy('ts')
          .limit(CHUNK)
          .execute();
        if (!rows.length) return;
        yield rows;
        archivedEvents.push(...rows.map((r) => ({ id: r.id, ts: Number(r.ts) })));
        const end = rows[rows.length - 1]!;
        after = { id: end.id, ts: Number(end.ts) };
      }
    });
    files.push(eventsFile);
    const runsFile = join(dir, `runs-before-${new Date(cutoff).toISOString().slice(0, 10)}-${stamp}.jsonl.gz`);
    const runs = await archive(runsFile, async function* () {
      let after = '';
      for (;;) {
        const rows = await scope
          .selectFrom('runs')
          .selectAll()
          .where('started_at', '<', cutoff)
          .where('id', '>', after)
          .orderBy('id')
          .limit(CHUNK)
          .execute();
        if (!rows.length) return;
        yield rows;
        archivedRuns.push(
          ...rows.map((r) => ({ id: r.id, search_rowid: r.search_rowid === null ? null : Number(r.search_rowid) })),
        );
        after = rows[rows.length - 1]!.id;
      }
    });
    files.push(runsFile);

    // Exactly what was archived is deleted (a late event that arrived meanwhile waits for the next pass).
    // `ts < cutoff` as in the export: a same-id row with a newer timestamp (PostgreSQL) stays, and
    // partition pruning skips the months that are still hot.
    for (let i = 0; i < archivedEvents.length; i += 500)
      await scope
        .deleteFrom('events')
        .where(
          'id',
          'in',
          archivedEvents.slice(i, i + 500).map((e) => e.id),
        )
        .where('ts', '<', cutoff)
        .execute();
    for (let i = 0; i < archivedRuns.length; i += 500) {
      const ids = archivedRuns.slice(i, i + 500).map((r) => r.id);
      const ftsRows = archivedRuns
        .slice(i, i + 500)
        .map((r) => r.search_rowid)
        .filter((x): x is number => x !== null && x !== undefined);
      if (ftsRows.length) await sql`delete from runs_fts where rowid in (${sql.join(ftsRows)})`.execute(db);
      await scope.deleteFrom('runs').where('id', 'in', ids).execute();
    }
    deps.log.info(
      { org_id: orgId, events, runs, cutoff: new Date(cutoff).toISOString() },
      'retention: archived and deleted',
    );
    return { events, runs, files };
  }

  /**
   * PostgreSQL: drops the monthly event partitions entirely older than the longest plan retention that
   * the per-org passes have emptied. No-op on SQLite.
   */
  async function dropExpiredPartitions(): Promise<string[]> {
    const dropped = await dropEmptyEventPartitionsBefore(pdb, deps.clock() - MAX_RETENTION_DAYS * DAY_MS);
    if (dropped.length) deps.log.info({ partitions: dropped }, 'retention: dropped empty event partitions');
    return dropped;
  }

  return {
    runForOrg,
    dropExpiredPartitions,
    /** The daily job: partitions ahead (PostgreSQL), every org's export-then-delete, old partitions out. */
    async runAll() {
      await ensureEventPartitions(pdb, deps.clock(), EVENT_PARTITION_MONTHS_AHEAD);
      for (const orgId of await everyOrg(db)) await runForOrg(orgId);
      await dropExpiredPartitions();
    },
  };
}
export type Retention = ReturnType<typeof createRetention>;
