/**
 * Privacy settings: the org's capture level, detector actions and redaction rules (one row per org,
 * absent = defaults: full capture, detectors labelling, no rules), and agents' own capture levels.
 * Ingestion reads both into memory; rules and detector settings are JSON (validated on save).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('privacy_settings')
    .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id').onDelete('cascade'))
    .addColumn('capture', 'text', (c) => c.notNull())
    .addColumn('detectors', 'text', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('agent_privacy')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('capture', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_privacy_pk', ['org_id', 'agent_id'])
    .addForeignKeyConstraint('agent_privacy_agent_fk', ['org_id', 'agent_id'], 'agents', ['org_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
}
