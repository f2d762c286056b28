/**
 * Runs, events, hourly rollups and run search. Runs and events are keyed by (org_id, id) so a client's
 * own run_id/event_id can never collide with, or reach into, another org's data.
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.ts';
import {
  EVENT_PARTITION_MONTHS_AHEAD,
  EVENT_PARTITION_MONTHS_BEHIND,
  EVENTS_DEFAULT_PARTITION,
  ensureEventPartitions,
} from '../partitions.ts';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('runs')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('parent_run_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('external_ref', 'text')
    .addColumn('input', 'text')
    .addColumn('output', 'text')
    .addColumn('error', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    // Written by enrichment: totals of the run's LLM calls, and what the rollups already counted.
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_nano', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('usage_cost_nano', 'bigint')
    .addColumn('cost_unknown', 'integer', (c) => c.notNull().defaultTo(0))
    // What the run-level rollup already holds for this run ({agent, hour, status, latency}), so a
    // changed run moves its contribution instead of counting twice.
    .addColumn('counted', 'text')
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
    // 1 after every write until enrichment has caught up (rollups, search); partial-indexed.
    .addColumn('dirty', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // SQLite: the run's row in runs_fts, so re-indexing deletes by rowid instead of scanning the index.
    .addColumn('search_rowid', 'bigint')
    .addPrimaryKeyConstraint('runs_pk', ['org_id', 'id'])
    .execute();
  await db.schema.createIndex('runs_org_started').on('runs').columns(['org_id', 'started_at', 'id']).execute();
  await db.schema
    .createIndex('runs_org_agent_started')
    .on('runs')
    .columns(['org_id', 'agent_id', 'started_at'])
    .execute();
  await db.schema
    .createIndex('runs_org_status_started')
    .on('runs')
    .columns(['org_id', 'status', 'started_at'])
    .execute();
  await db.schema.createIndex('runs_org_ref').on('runs').columns(['org_id', 'external_ref']).execute();
  await db.schema
    .createIndex('runs_dirty')
    .on('runs')
    .columns(['updated_at'])
    .where(sql.ref('dirty'), '=', 1)
    .execute();

  // PostgreSQL: range-partitioned by ts (monthly, see db/partitions.ts), so the key must hold ts. A
  // retried event carries the same timestamp, so (org_id, id, ts) still makes event_id idempotent; an
  // event_id re-sent with a different timestamp is stored twice there (once on SQLite).
  const partitioned = dialect === 'postgres';
  let events = db.schema
    .createTable('events')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('duration_ms', 'bigint')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('input_tokens', 'bigint')
    .addColumn('output_tokens', 'bigint')
    .addColumn('cost_nano', 'bigint')
    .addColumn('cost_source', 'text')
    .addColumn('enriched', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('events_pk', partitioned ? ['org_id', 'id', 'ts'] : ['org_id', 'id']);
  if (partitioned) events = events.modifyEnd(sql`partition by range (ts)`);
  await events.execute();
  if (partitioned) {
    await sql`create table ${sql.table(EVENTS_DEFAULT_PARTITION)} partition of events default`.execute(db);
    await ensureEventPartitions(
      { db, dialect },
      Date.now(),
      EVENT_PARTITION_MONTHS_AHEAD,
      EVENT_PARTITION_MONTHS_BEHIND,
    );
  }
  await db.schema.createIndex('events_run').on('events').columns(['org_id', 'run_id', 'ts']).execute();
  await db.schema.createIndex('events_org_ts').on('events').columns(['org_id', 'ts']).execute();
  await db.schema
    .createIndex('events_unenriched')
    .on('events')
    .columns(['received_at'])
    .where(sql.ref('enriched'), '=', 0)
    .execute();

  // Pre-aggregated per org, agent, hour and model ('' for run-level counts): dashboards read these.
  await db.schema
    .createTable('rollups_hourly')
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('runs', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('completed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('latency_sum_ms', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('latency_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('latency_hist', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('llm_calls', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_nano', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('unpriced_calls', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('rollups_hourly_pk', ['org_id', 'agent_id', 'hour', 'model'])
    .execute();
  await db.schema
    .createIndex('rollups_org_model_hour')
    .on('rollups_hourly')
    .columns(['org_id', 'model', 'hour'])
    .execute();

  if (dialect === 'sqlite') {
    await sql`CREATE VIRTUAL TABLE runs_fts USING fts5(org_id UNINDEXED, run_id UNINDEXED, body, tokenize = 'unicode61')`.execute(
      db,
    );
  } else {
    await sql`ALTER TABLE runs ADD COLUMN search tsvector`.execute(db);
    await sql`CREATE INDEX runs_search ON runs USING gin (search)`.execute(db);
  }

  // Indexes the job runner and the outbox list need (queue-first claim; newest-first outbox per org).
  await db.schema.createIndex('jobs_queue_due').on('jobs').columns(['queue', 'status', 'run_at']).execute();
  await db.schema.createIndex('email_outbox_org').on('email_outbox').columns(['org_id', 'id']).execute();
}
