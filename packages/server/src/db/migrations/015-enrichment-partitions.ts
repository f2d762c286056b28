/**
 * Enrichment partitions (PostgreSQL clusters): orgs are split into a fixed number of partitions by a
 * hash of their id; each partition is leased by one hub process at a time (`enrichment_leases`), and
 * the live processes say so in `enrichment_members`, so each one takes a fair share and a partition
 * whose holder died is taken over when its lease runs out. SQLite has one process: the tables exist
 * there too (same migrations everywhere) but stay empty.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

/** Fixed forever: the partition of an org is `hashtext(org_id) & (PARTITIONS - 1)`. */
export const ENRICHMENT_PARTITIONS = 16;

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('enrichment_leases')
    .addColumn('partition', 'integer', (c) => c.primaryKey())
    .addColumn('owner', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('enrichment_members')
    .addColumn('owner', 'text', (c) => c.primaryKey())
    .addColumn('seen_at', 'bigint', (c) => c.notNull())
    .execute();
  if (dialect !== 'postgres') return;
  await db
    .insertInto('enrichment_leases')
    .values(
      Array.from({ length: ENRICHMENT_PARTITIONS }, (_, partition) => ({ partition, owner: null, expires_at: 0 })),
    )
    .execute();
}
