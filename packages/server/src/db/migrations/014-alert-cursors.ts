/**
 * Where the alerts jobs have read up to in another module's append-only facts (policy decisions), per
 * org: `(at, last_id)` of the last fact handled. Moving it is a conditional update in the same
 * transaction as the notices it sends, so a fact is announced once even when a job runs twice.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('alert_cursors')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('last_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_cursors_pk', ['org_id', 'name'])
    .execute();
}
