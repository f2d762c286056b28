/**
 * Partition leases for work split by org across hub processes (PostgreSQL). Each process heartbeats a
 * row in `enrichment_members`; every beat it renews its leases, gives back what is above its fair
 * share (ceil(partitions / live processes)) so a process that joins gets work, and claims free or
 * expired partitions up to its share with `FOR UPDATE SKIP LOCKED`, so a process that died (SIGKILL,
 * lost host) has its partitions taken over once its lease runs out. Times are the database's clock,
 * so processes on hosts with skewed clocks still agree on who holds what.
 *
 * A holder's work transaction locks its lease rows `FOR SHARE` (see `fence`): a lease cannot change
 * hands while a pass on it is running, and the pass of a process whose lease expired finds nothing held.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { ENRICHMENT_PARTITIONS } from '../../db/migrations/015-enrichment-partitions.ts';

export { ENRICHMENT_PARTITIONS };

const DB_NOW = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** The SQL partition of an org id column (int4 hash; `&` keeps negative hashes in range). */
export const partitionOf = (column: string) =>
  sql<number>`(hashtext(${sql.ref(column)}) & ${ENRICHMENT_PARTITIONS - 1})`;

export interface PartitionLeases {
  readonly owner: string;
  /** Partitions this process holds now (as of its last beat). */
  held(): number[];
  /** Live processes sharing the partitions, this one included (as of its last beat; at least 1). */
  members(): number;
  /** One heartbeat: renew, rebalance, claim. Returns the partitions held after it. */
  beat(): Promise<number[]>;
  /** Locks this process's unexpired lease rows for the transaction; returns the partitions still held. */
  fence(trx: Transaction<any>): Promise<number[]>;
  start(): void;
  /** Stops beating and gives every lease back at once (a clean stop hands over without waiting). */
  stop(): Promise<void>;
}

export function createPartitionLeases(deps: {
  db: Kysely<any>;
  log: { warn(o: unknown, m?: string): void };
  /** Lease lifetime; a dead holder's partitions move after this. Default 10 s. */
  ttlMs?: number;
  /** Beat interval; default a third of the lifetime. */
  beatMs?: number;
  onChange?: (held: number[]) => void;
}): PartitionLeases {
  const owner = `p_${randomUUID()}`;
  const ttl = deps.ttlMs ?? 10_000;
  const beatMs = deps.beatMs ?? Math.floor(ttl / 3);
  const db = deps.db;
  let mine: number[] = [];
  let members = 1;
  let timer: NodeJS.Timeout | null = null;
  let beating: Promise<number[]> | null = null;

  function set(next: number[]) {
    next.sort((a, b) => a - b);
    const changed = next.join() !== mine.join();
    mine = next;
    if (changed) deps.onChange?.(mine);
  }

  async function beatOnce(): Promise<number[]> {
    await sql`insert into enrichment_members (owner, seen_at) values (${owner}, ${DB_NOW})
      on conflict (owner) do update set seen_at = excluded.seen_at`.execute(db);
    // Members silent for ten lifetimes are gone for good: forget them.
    await sql`delete from enrichment_members where seen_at < ${DB_NOW} - ${ttl * 10}`.execute(db);
    const live = await sql<{ n: string }>`select count(*) as n from enrichment_members
      where seen_at > ${DB_NOW} - ${ttl}`.execute(db);
    members = Math.max(1, Number(live.rows[0]?.n ?? 1));
    const share = Math.ceil(ENRICHMENT_PARTITIONS / members);
    const renewed = await sql<{ partition: number }>`update enrichment_leases set expires_at = ${DB_NOW} + ${ttl}
      where owner = ${owner} and expires_at > ${DB_NOW} returning partition`.execute(db);
    let held = renewed.rows.map((r) => Number(r.partition)).sort((a, b) => a - b);
    if (held.length > share) {
      // Give back the highest ones; waits for a running pass on them (it holds them FOR SHARE).
      const extra = held.slice(share);
      await sql`update enrichment_leases set owner = null, expires_at = 0
        where owner = ${owner} and partition in (${sql.join(extra)})`.execute(db);
      held = held.slice(0, share);
    } else if (held.length < share) {
      const claimed = await sql<{ partition: number }>`update enrichment_leases set owner = ${owner},
          expires_at = ${DB_NOW} + ${ttl}
        where partition in (select partition from enrichment_leases
          where owner is null or expires_at < ${DB_NOW}
          order by partition limit ${share - held.length} for update skip locked)
        returning partition`.execute(db);
      held = held.concat(claimed.rows.map((r) => Number(r.partition)));
    }
    set(held);
    return mine;
  }

  const leases: PartitionLeases = {
    owner,
    held: () => mine,
    members: () => members,
    beat() {
      if (!beating)
        beating = beatOnce().finally(() => {
          beating = null;
        });
      return beating;
    },
    async fence(trx) {
      const r = await sql<{ partition: number }>`select partition from enrichment_leases
        where owner = ${owner} and expires_at > ${DB_NOW} for share`.execute(trx);
      return r.rows.map((x) => Number(x.partition));
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        leases.beat().catch((err: unknown) => deps.log.warn({ err }, 'partition lease heartbeat failed'));
      }, beatMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await beating?.catch(() => {});
      try {
        await sql`update enrichment_leases set owner = null, expires_at = 0 where owner = ${owner}`.execute(db);
        await sql`delete from enrichment_members where owner = ${owner}`.execute(db);
      } catch (err) {
        deps.log.warn({ err }, 'could not hand partition leases back; they expire on their own');
      }
      set([]);
    },
  };
  return leases;
}
