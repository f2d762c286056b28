/**
 * PostgreSQL only: `events` is range-partitioned by `ts` (epoch milliseconds, UTC), one partition per
 * calendar month named `events_yYYYYmMM`, plus `events_default` for anything outside the created
 * months (clock skew far ahead, backfills far behind). Indexes live on the parent, so every partition
 * gets them. On SQLite `events` is a plain table and every function here is a no-op.
 *
 * Partitions are created at migration time (current month −MONTHS_BEHIND … +MONTHS_AHEAD) and kept
 * ahead by `ensureEventPartitions`, which startup and the daily retention job call. Old partitions are
 * dropped by retention once they are past the longest plan retention AND empty: per-org retention has
 * already archived and deleted every row in them, so dropping never loses data that was not exported.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Dialect } from './database.ts';

/** How many months past the current one are kept created. */
export const EVENT_PARTITION_MONTHS_AHEAD = 3;
/** How many months before the current one the migration creates (room for recent backfills). */
export const EVENT_PARTITION_MONTHS_BEHIND = 3;

export const EVENTS_DEFAULT_PARTITION = 'events_default';

type Exec = Kysely<any> | Transaction<any>;
export interface PartitionDb {
  db: Exec;
  dialect: Dialect;
}

export interface MonthRange {
  name: string;
  from: number;
  to: number;
}

/** The UTC calendar month containing `at`, shifted by `offset` months. */
export function monthRange(at: number, offset = 0): MonthRange {
  const d = new Date(at);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + offset;
  const from = Date.UTC(y, m, 1);
  const to = Date.UTC(y, m + 1, 1);
  const s = new Date(from);
  const name = `events_y${s.getUTCFullYear()}m${String(s.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name, from, to };
}

// A fixed key: two hubs starting together (or startup racing the daily job) serialize here.
const LOCK_KEY = 0x65767470; // 'evtp'

async function inTransaction<T>(db: Exec, fn: (trx: Exec) => Promise<T>): Promise<T> {
  // The migration already runs in a transaction (Kysely cannot nest one).
  if (db.isTransaction) return fn(db);
  return (db as Kysely<any>).transaction().execute(fn);
}

/** Monthly partitions of `events` with their bounds, oldest first (the default partition excluded). */
export async function listEventPartitions(pdb: PartitionDb): Promise<MonthRange[]> {
  if (pdb.dialect !== 'postgres') return [];
  const { rows } = await sql<{ name: string; bound: string }>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'events'::regclass`.execute(pdb.db);
  const out: MonthRange[] = [];
  for (const r of rows) {
    const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(r.bound);
    if (m) out.push({ name: r.name, from: Number(m[1]), to: Number(m[2]) });
  }
  return out.sort((a, b) => a.from - b.from);
}

/**
 * Creates the monthly partitions from `monthsBehind` months before `now`'s month through `monthsAhead`
 * months after it, where missing. Idempotent. Rows already sitting in the default partition for a
 * month being created are moved into the new partition (PostgreSQL refuses to create a partition
 * whose range the default partition already holds rows for). Returns the names it created.
 */
export async function ensureEventPartitions(
  pdb: PartitionDb,
  now: number,
  monthsAhead: number = EVENT_PARTITION_MONTHS_AHEAD,
  monthsBehind = 0,
): Promise<string[]> {
  if (pdb.dialect !== 'postgres') return [];
  return inTransaction(pdb.db, async (trx) => {
    await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx);
    const existing = await listEventPartitions({ db: trx, dialect: 'postgres' });
    const created: string[] = [];
    for (let off = -monthsBehind; off <= monthsAhead; off++) {
      const r = monthRange(now, off);
      // Skip a month that exists, or that an irregular (hand-made) partition overlaps.
      if (existing.some((p) => p.name === r.name || (p.from < r.to && r.from < p.to))) continue;
      const from = sql.lit(r.from);
      const to = sql.lit(r.to);
      const stray = await sql<{ one: number }>`
        select 1 as one from ${sql.table(EVENTS_DEFAULT_PARTITION)} where ts >= ${r.from} and ts < ${r.to} limit 1`.execute(
        trx,
      );
      if (stray.rows.length === 0) {
        await sql`create table ${sql.table(r.name)} partition of events for values from (${from}) to (${to})`.execute(
          trx,
        );
      } else {
        // Build it detached, move the default partition's rows for that month in, then attach.
        await sql`lock table ${sql.table(EVENTS_DEFAULT_PARTITION)} in access exclusive mode`.execute(trx);
        await sql`create table ${sql.table(r.name)} (like events including defaults)`.execute(trx);
        await sql`alter table ${sql.table(r.name)} add constraint ${sql.id(`${r.name}_range`)}
          check (ts >= ${from} and ts < ${to})`.execute(trx);
        await sql`with moved as (
            delete from ${sql.table(EVENTS_DEFAULT_PARTITION)} where ts >= ${r.from} and ts < ${r.to} returning *)
          insert into ${sql.table(r.name)} select * from moved`.execute(trx);
        await sql`alter table events attach partition ${sql.table(r.name)} for values from (${from}) to (${to})`.execute(
          trx,
        );
        // The check only spared ATTACH a validation scan; the partition bound now says the same.
        await sql`alter table ${sql.table(r.name)} drop constraint ${sql.id(`${r.name}_range`)}`.execute(trx);
      }
      created.push(r.name);
    }
    return created;
  });
}

/**
 * Drops the monthly partitions whose whole range ends at or before `cutoff` and that hold no rows
 * (retention has archived and deleted them, org by org). A partition still holding rows (an org
 * whose pass failed) is kept for the next pass. Returns the names it dropped.
 */
export async function dropEmptyEventPartitionsBefore(pdb: PartitionDb, cutoff: number): Promise<string[]> {
  if (pdb.dialect !== 'postgres') return [];
  const candidates = (await listEventPartitions(pdb)).filter((p) => p.to <= cutoff);
  const dropped: string[] = [];
  for (const p of candidates) {
    const gone = await inTransaction(pdb.db, async (trx) => {
      // DROP needs the parent's exclusive lock anyway; taking it first (bounded) also keeps a late
      // insert from landing between the emptiness check and the drop. Busy: try again tomorrow.
      await sql`set local lock_timeout = '2s'`.execute(trx);
      await sql`lock table events in access exclusive mode`.execute(trx);
      const any = await sql`select 1 from ${sql.table(p.name)} limit 1`.execute(trx);
      if (any.rows.length) return false;
      await sql`drop table ${sql.table(p.name)}`.execute(trx);
      return true;
    }).catch((e: { code?: string }) => {
      if (e?.code === '55P03') return false; // lock_not_available
      throw e;
    });
    if (gone) dropped.push(p.name);
  }
  return dropped;
}
