/**
 * Emergency controls: agent pauses, the org-wide kill switch and category pauses. A budget pause and a
 * person's pause of the same agent are separate rows (PK includes `source`), so releasing one keeps the
 * other; `agents.status` is kept in step by the controls service in the same transaction.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  const ts = 'bigint' as const;

  // A pause must name an agent of its own org: the composite foreign key below needs (org_id, id) unique.
  await db.schema.createIndex('agents_org_id_uq').on('agents').columns(['org_id', 'id']).unique().execute();

  await db.schema
    .createTable('agent_pauses')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull())
    // 'block': every action refused; 'failsafe': log only, no external action.
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    // 'manual' (a person or key) | 'budget' (the budget engine).
    .addColumn('source', 'text', (c) => c.notNull())
    // The Actor as JSON.
    .addColumn('paused_by', 'text', (c) => c.notNull())
    .addColumn('paused_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_pauses_pk', ['org_id', 'agent_id', 'source'])
    .addForeignKeyConstraint('agent_pauses_agent_fk', ['org_id', 'agent_id'], 'agents', ['org_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('kill_switches')
    .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id').onDelete('cascade'))
    .addColumn('engaged', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    // The Actor as JSON.
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('changed_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('category_pauses')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    // An agent type or tag, e.g. 'outbound_email'.
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('paused_by', 'text', (c) => c.notNull())
    .addColumn('paused_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('category_pauses_pk', ['org_id', 'category'])
    .execute();
}
