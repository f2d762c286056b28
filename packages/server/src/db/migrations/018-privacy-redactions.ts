/**
 * Re-redactions of stored data: one row per request (by a person, or made when an org tightened its
 * privacy settings), with the job's progress, so `GET /v1/privacy` can show it and a job that was
 * interrupted continues from its cursor instead of starting over.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('privacy_redactions')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('cursor', 'text')
    .addColumn('counts', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('privacy_redactions_pk', ['org_id', 'id'])
    .execute();
  await db.schema
    .createIndex('privacy_redactions_latest')
    .on('privacy_redactions')
    .columns(['org_id', 'requested_at'])
    .execute();
}
