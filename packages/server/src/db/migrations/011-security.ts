/**
 * Security findings of session 5: API keys bound to agents, and who really requested and decided an
 * approval. All nullable, so keys and approvals made before this migration keep working:
 * - `api_keys.agent_ids`: JSON array of agent ids the key may act as; null = every agent of the org.
 * - `approvals.requested_by_key_id`: the key that evaluated the action (ingest keys read only theirs,
 *   and the requesting key may never decide its own request).
 * - `approvals.decided_by_type` / `decided_by_id`: the actor of the decision (`decided_by` stays the
 *   display name it always was).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
  await db.schema.alterTable('api_keys').addColumn('agent_ids', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('requested_by_key_id', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('decided_by_type', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('decided_by_id', 'text').execute();
}
