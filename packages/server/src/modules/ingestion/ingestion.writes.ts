/**
 * The ingestion module's hot writes, each described once (db/writes/write-description.ts). The SQLite
 * prepared statements and the PostgreSQL queries are both generated from these, so the two databases
 * merge a run, end it, store an event and price it by the same rules.
 */
import type { UpdateDescription, UpsertDescription } from '../../db/writes/write-description.ts';

/**
 * A run reported as a whole (or its start or end): later reports win field by field, but a report that
 * leaves a field out keeps the stored one, and one without metadata (`{}`) keeps the stored metadata.
 */
export const UPSERT_RUN = {
  table: 'runs',
  key: ['id'],
  columns: [
    'id',
    'agent_id',
    'parent_run_id',
    'status',
    'started_at',
    'ended_at',
    'environment',
    'external_ref',
    'input',
    'output',
    'error',
    'metadata',
    'tags',
    'created_at',
    'updated_at',
  ],
  inserted: { version: 1, dirty: 1 },
  onConflict: {
    agent_id: 'replace',
    status: 'replace',
    started_at: 'replace',
    ended_at: 'coalesce',
    environment: 'replace',
    parent_run_id: 'coalesce',
    external_ref: 'coalesce',
    input: 'coalesce',
    output: 'coalesce',
    error: 'coalesce',
    metadata: 'unless-empty-object',
    tags: 'replace',
    updated_at: 'replace',
    version: 'increment',
    dirty: { literal: 1 },
  },
} as const satisfies UpsertDescription<'runs'>;

/** A run known only from its events: created once, never overwriting a reported run. */
export const INSERT_PLACEHOLDER_RUN = {
  ...UPSERT_RUN,
  onConflict: 'nothing',
} as const satisfies UpsertDescription<'runs'>;

/** run_completed / run_failed end the run. A failure is final: a late run_completed leaves it failed. */
export const END_RUN = {
  table: 'runs',
  key: ['id'],
  set: {
    status: 'value',
    ended_at: 'stored-or-value',
    updated_at: 'value',
    version: 'increment',
    dirty: { literal: 1 },
  },
  guards: [{ column: 'status', op: '!=', literal: 'failed' }],
} as const satisfies UpdateDescription<'runs'>;

/**
 * An event, stored once. PostgreSQL partitions events by ts, so its key is (org_id, id, ts): a retry
 * (same timestamp) is still a no-op, but an event_id re-sent with a different timestamp is stored twice
 * (see db/partitions.ts); SQLite's (org_id, id) key keeps the first in every case.
 */
export const INSERT_EVENT = {
  table: 'events',
  key: ['id'],
  partitionedBy: 'ts',
  columns: ['id', 'run_id', 'agent_id', 'type', 'ts', 'parent_id', 'duration_ms', 'payload', 'received_at', 'enriched'],
  onConflict: 'nothing',
} as const satisfies UpsertDescription<'events'>;

/** SQLite search: the run's row in runs_fts, kept on the run so re-indexing deletes by rowid. */
export const LINK_SEARCH_ROW = {
  table: 'runs',
  key: ['id'],
  set: { search_rowid: 'value' },
} as const satisfies UpdateDescription<'runs'>;

// Enrichment. A row another enricher already took (enriched = 1) is left alone.

/** An LLM call priced: its model, tokens, cost and where the cost came from. */
export const PRICE_LLM_CALL = {
  table: 'events',
  key: ['id'],
  set: {
    enriched: { literal: 1 },
    model: 'value',
    input_tokens: 'value',
    output_tokens: 'value',
    cost_nano: 'value',
    cost_source: 'value',
  },
  guards: [{ column: 'enriched', op: '=', literal: 0 }],
} as const satisfies UpdateDescription<'events'>;

/** Any other event: final as written. */
export const MARK_ENRICHED = {
  table: 'events',
  key: ['id'],
  set: { enriched: { literal: 1 } },
  guards: [{ column: 'enriched', op: '=', literal: 0 }],
} as const satisfies UpdateDescription<'events'>;

/** A pass's tokens and cost onto its run; an unpriced call flags the run's cost as unknown for good. */
export const ADD_RUN_COST = {
  table: 'runs',
  key: ['id'],
  set: { input_tokens: 'add', output_tokens: 'add', cost_nano: 'add', cost_unknown: 'max' },
} as const satisfies UpdateDescription<'runs'>;

/**
 * A run's contribution to the rollups counted. Only if no write came since it was read (`version`):
 * otherwise it stays dirty and the next pass counts the newer state.
 */
export const MARK_RUN_COUNTED = {
  table: 'runs',
  key: ['id'],
  set: { dirty: { literal: 0 }, counted: 'value' },
  guards: [{ column: 'version', op: '=' }],
} as const satisfies UpdateDescription<'runs'>;

/** An hourly rollup row, written with its new absolute values (merged in memory, rollup-deltas.ts). */
export const WRITE_ROLLUP = {
  table: 'rollups_hourly',
  key: ['agent_id', 'hour', 'model'],
  columns: [
    'agent_id',
    'hour',
    'model',
    'runs',
    'completed',
    'failed',
    'blocked',
    'paused',
    'latency_sum_ms',
    'latency_count',
    'latency_hist',
    'llm_calls',
    'input_tokens',
    'output_tokens',
    'cost_nano',
    'unpriced_calls',
  ],
  onConflict: {
    runs: 'replace',
    completed: 'replace',
    failed: 'replace',
    blocked: 'replace',
    paused: 'replace',
    latency_sum_ms: 'replace',
    latency_count: 'replace',
    latency_hist: 'replace',
    llm_calls: 'replace',
    input_tokens: 'replace',
    output_tokens: 'replace',
    cost_nano: 'replace',
    unpriced_calls: 'replace',
  },
} as const satisfies UpsertDescription<'rollups_hourly'>;
