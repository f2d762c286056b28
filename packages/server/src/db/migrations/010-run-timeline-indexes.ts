/**
 * Indexes for a run's replay timeline (`GET /v1/runs/{id}`), which reads the run's decisions and its
 * child runs. Both were found by walking the whole org:
 * - `decisions_run` is rebuilt with `created_at`, so `run_id = ? order by created_at` reads one run's
 *   decisions straight from it; SQLite's planner preferred `decisions_org_time` (it satisfies the ORDER
 *   BY) and scanned every decision of the org. It now holds only decisions that name a run: most
 *   evaluations send no `run_id`, and each paid for an entry (and its page in every commit) no query reads.
 * - `runs_parent` finds child runs; there was no index on `parent_run_id` at all.
 * `x = ?` implies `x is not null`, so both databases use these partial indexes.
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
  await db.schema
    .createIndex('runs_parent')
    .on('runs')
    .columns(['org_id', 'parent_run_id'])
    .where(sql.ref('parent_run_id'), 'is not', null)
    .execute();
}
