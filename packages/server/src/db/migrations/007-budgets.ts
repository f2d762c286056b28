/**
 * Budgets. `budgets` holds what a person set; `budget_periods` holds one row per budget and calendar
 * period with its exact spend in nano-USD and the thresholds already reached. Spend is added by the
 * enrichment pass in the same transaction that prices the calls, which runs one at a time (advisory lock
 * on PostgreSQL, a single writer on SQLite), so parallel ingestion can neither double-count nor miss.
 * `budget_crossings` is the outbox of reached thresholds: written in that same transaction, then
 * notified and acted on exactly once (claimed by `notified_at`).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  const ts = 'bigint' as const;
  await db.schema
    .createTable('budgets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // 'agent' | 'team' | 'org'; scope_id is the agent's or team's id (null for org).
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text')
    .addColumn('amount_nano', ts, (c) => c.notNull())
    // 'day' | 'week' | 'month', calendar-aligned in the org's time zone.
    .addColumn('period', 'text', (c) => c.notNull())
    // JSON array of percentages, ascending.
    .addColumn('thresholds', 'text', (c) => c.notNull())
    // 'notify' | 'throttle' | 'pause'
    .addColumn('on_exceed', 'text', (c) => c.notNull())
    .addColumn('throttle_per_minute', 'integer', (c) => c.notNull())
    // The period_start in which this budget throttles or pauses its agents (null: it does not).
    .addColumn('enforced_period', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('budgets_org').on('budgets').columns(['org_id', 'scope', 'scope_id']).execute();

  await db.schema
    .createTable('budget_periods')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('budget_id', 'text', (c) => c.notNull().references('budgets.id').onDelete('cascade'))
    .addColumn('period_start', ts, (c) => c.notNull())
    .addColumn('spent_nano', ts, (c) => c.notNull())
    // JSON array of the thresholds (percent) reached in this period.
    .addColumn('reached', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('budget_periods_pk', ['budget_id', 'period_start'])
    .execute();

  await db.schema
    .createTable('budget_crossings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('budget_id', 'text', (c) => c.notNull().references('budgets.id').onDelete('cascade'))
    .addColumn('period_start', ts, (c) => c.notNull())
    .addColumn('threshold', 'integer', (c) => c.notNull())
    .addColumn('spent_nano', ts, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('notified_at', ts)
    .execute();
  await db.schema
    .createIndex('budget_crossings_pending')
    .on('budget_crossings')
    .columns(['notified_at', 'created_at'])
    .execute();
}
