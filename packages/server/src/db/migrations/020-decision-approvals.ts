/**
 * A decision's approval outcome is kept on the decision row, so the policies module reads adherence from
 * its own table instead of joining the approvals module's (docs/ARCHITECTURE.md, "Modules, their doors
 * and their tables"):
 * - `approval_status`: the stored status of the decision's approval (`pending`, `approved`, `rejected`,
 *   `expired`), null when the decision names none. Like `approvals.status`, it stays `pending` when the
 *   time ran out before the expiry job ran; readers compare the expiry with the clock.
 * - `approval_expires_at`: that approval's `expires_at` (epoch milliseconds).
 * Evaluate writes both with the decision; the approvals module's decide and expiry then update every
 * decision naming the approval, in their own transaction, through the policies module's door.
 *
 * `decisions_approval (org_id, approval_id)`, only over decisions that name an approval (the plain
 * decisions, nearly all of them, are not in it), finds the decisions of one approval for that update.
 *
 * Existing decisions are backfilled from their approvals (one statement, the same on both databases).
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('decisions').addColumn('approval_status', 'text').execute();
  await db.schema.alterTable('decisions').addColumn('approval_expires_at', 'bigint').execute();
  await db.schema
    .createIndex('decisions_approval')
    .on('decisions')
    .columns(['org_id', 'approval_id'])
    .where(sql.ref('approval_id'), 'is not', null)
    .execute();
  // Correlated subqueries rather than UPDATE … FROM, which the two databases spell differently. A
  // decision whose approval is missing keeps nulls, as the join it replaces read it.
  const approval = (column: string) =>
    sql`(select ${sql.ref(`a.${column}`)} from approvals a where a.org_id = decisions.org_id and a.id = decisions.approval_id)`;
  await sql`update decisions set approval_status = ${approval('status')}, approval_expires_at = ${approval('expires_at')}
    where approval_id is not null`.execute(db);
}
