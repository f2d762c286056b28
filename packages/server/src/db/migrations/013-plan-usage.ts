/**
 * Plan usage notices: one row per org, calendar month and threshold (80, 100) once its notice is sent.
 * The primary key makes the notice happen once even when two processes count at the same time.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('plan_usage_notices')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('threshold', 'integer', (c) => c.notNull())
    .addColumn('events', 'bigint', (c) => c.notNull())
    .addColumn('notified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('plan_usage_notices_pk', ['org_id', 'month', 'threshold'])
    .execute();
}
