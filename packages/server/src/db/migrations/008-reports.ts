/**
 * Reports and their runs. A run keeps what it sent (HTML, and the PDF as base64 text, the same on both
 * dialects) and where it went, so history and downloads never recompute an old period.
 * `scheduled_for` is unique per report: a schedule occurrence produces one run even when its job runs
 * twice (at-least-once jobs, a crash between the run and the job's completion).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('reports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('schedule', 'text')
    .addColumn('cron', 'text')
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('range_days', 'integer')
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('webhook_ids', 'text', (c) => c.notNull())
    .addColumn('formats', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('last_run_at', 'bigint')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('reports_org').on('reports').columns(['org_id', 'created_at']).execute();

  await db.schema
    .createTable('report_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('report_id', 'text', (c) => c.notNull().references('reports.id').onDelete('cascade'))
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('scheduled_for', 'bigint')
    .addColumn('period_from', 'bigint', (c) => c.notNull())
    .addColumn('period_to', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('deliveries', 'text', (c) => c.notNull())
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('pdf', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('report_runs_report')
    .on('report_runs')
    .columns(['org_id', 'report_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('report_runs_occurrence')
    .unique()
    .on('report_runs')
    .columns(['report_id', 'scheduled_for'])
    .where(sql.ref('scheduled_for'), 'is not', null)
    .execute();
}
