/**
 * Approval extras: escalation (who is added, when, and when it happened) and the agent's optional
 * callback URL. All nullable, so approvals created before this migration keep working unchanged.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
  await db.schema.alterTable('approvals').addColumn('escalate_to', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('escalate_at', 'bigint').execute();
  await db.schema.alterTable('approvals').addColumn('escalated_at', 'bigint').execute();
  await db.schema.alterTable('approvals').addColumn('callback_url', 'text').execute();
}
