/**
 * The run index of decisions, rebuilt:
 * - It includes `created_at`, so the replay timeline (`run_id = ? order by created_at`) reads a run's
 *   decisions straight from it. Without it SQLite's planner preferred `decisions_org_time` (it satisfies
 *   the ORDER BY) and walked every decision of the org to find one run's.
 * - It only holds decisions that name a run. Most evaluations send no `run_id`; each paid for an entry
 *   (and its page in every commit) that no query reads. `run_id = ?` implies `run_id is not null`, so
 *   both databases use the partial index.
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.dropIndex('decisions_run').execute();
  await db.schema
    .createIndex('decisions_run')
    .on('decisions')
    .columns(['org_id', 'run_id', 'created_at'])
    .where(sql.ref('run_id'), 'is not', null)
    .execute();
}
