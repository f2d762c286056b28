/**
 * Governance: which policy packs an org applied (version and parameters), every item a pack created with
 * a hash of its content as created (so unapply removes only what nobody changed since), and the org's
 * data exports (durable jobs writing an archive under the data dir).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  const ts = 'bigint' as const;

  await db.schema
    .createTable('policy_pack_applications')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('pack_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('applied_by', 'text')
    .addColumn('applied_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_pack_applications_pk', ['org_id', 'pack_id'])
    .execute();

  await db.schema
    .createTable('policy_pack_items')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('pack_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('item_key', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text')
    // sha256 of the item's canonical content as the pack wrote it; a different hash now = a person changed it.
    .addColumn('content_hash', 'text', (c) => c.notNull())
    // Notification settings: the values before the pack set them, restored on unapply.
    .addColumn('previous', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_pack_items_pk', ['org_id', 'pack_id', 'kind', 'item_key'])
    .execute();

  await db.schema
    .createTable('org_exports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('file_name', 'text')
    .addColumn('size_bytes', ts)
    .addColumn('sha256', 'text')
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('completed_at', ts)
    .execute();
  await db.schema.createIndex('org_exports_org').on('org_exports').columns(['org_id', 'created_at']).execute();
}
