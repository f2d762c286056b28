/**
 * Alert rules and their history. A rule carries its own state (`state`, `state_seq`): a transition is a
 * conditional update on `state_seq`, so when two hub processes evaluate the same rule at once only one
 * update matches and only that one writes the event and its notices. `alert_events` repeats the guard
 * as a unique `(org_id, rule_id, seq)` for transitions (test-fires carry no seq).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('alert_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('signal', 'text', (c) => c.notNull())
    .addColumn('window_minutes', 'integer', (c) => c.notNull())
    .addColumn('threshold', 'double precision', (c) => c.notNull())
    .addColumn('channels', 'text', (c) => c.notNull())
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('cooldown_minutes', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_seq', 'integer', (c) => c.notNull())
    .addColumn('state_since', 'bigint')
    .addColumn('last_value', 'double precision')
    .addColumn('last_evaluated_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alert_rules_org').on('alert_rules').columns(['org_id', 'id']).execute();
  // The evaluation pass reads enabled rules across orgs.
  await db.schema.createIndex('alert_rules_enabled').on('alert_rules').columns(['enabled', 'org_id']).execute();

  await db.schema
    .createTable('alert_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('rule_id', 'text', (c) => c.notNull().references('alert_rules.id').onDelete('cascade'))
    .addColumn('seq', 'integer')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('threshold', 'double precision', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alert_events_rule').on('alert_events').columns(['org_id', 'rule_id', 'id']).execute();
  await db.schema
    .createIndex('alert_events_transition')
    .unique()
    .on('alert_events')
    .columns(['org_id', 'rule_id', 'seq'])
    .where(sql.ref('seq'), 'is not', null)
    .execute();
}
