/**
 * @module ingestion
 * What agents send: runs and events (REST), and the shapes the OTLP mapper produces. One event form for
 * every source; usage from any provider is normalized into `llm_call` payloads.
 */
import { z } from 'zod';

export const EventTypes = [
  'run_started',
  'run_completed',
  'run_failed',
  'tool_called',
  'tool_result',
  'external_action',
  'llm_call',
  'policy_decision',
  'approval',
  'log',
] as const;
export const EventTypeSchema = z.enum(EventTypes);
export type EventType = z.infer<typeof EventTypeSchema>;

export const RunStatuses = ['running', 'completed', 'failed'] as const;
export const RunStatusSchema = z.enum(RunStatuses);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/**
 * How a run reads, in the console, the stats and the runs filter: its stored status, with the failed
 * runs an agent stopped on purpose told apart. The SDKs end a run as `failed` with the error's name when
 * `guard()` is refused: `PolicyBlockedError` / `ToolBlockedError` (a BLOCK decision, a rejected or
 * expired approval) read as `blocked`; `AgentPausedError` (the agent or its category paused, the kill
 * switch) reads as `paused`. Every other failure stays `failed`.
 */
export const RunOutcomes = ['completed', 'failed', 'blocked', 'paused', 'running'] as const;
export const RunOutcomeSchema = z.enum(RunOutcomes, {
  error: `one of ${RunOutcomes.join(', ')}`,
});
export type RunOutcome = z.infer<typeof RunOutcomeSchema>;

/**
 * The outcome of a run from its stored status and its error (as sent: `{name, message}` from the SDKs).
 * The hub filters with the same rule in SQL (modules/runs), so both must change together.
 * @example runOutcome({ status: 'failed', error: { name: 'PolicyBlockedError', message: 'refund over limit' } }) // 'blocked'
 */
export function runOutcome(run: { status: string; error?: unknown }): RunOutcome {
  if (run.status === 'running' || run.status === 'completed') return run.status;
  const e = run.error;
  const name = e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : '';
  if (name.includes('Blocked')) return 'blocked';
  if (name.includes('Paused')) return 'paused';
  return 'failed';
}

/** Client ids: printable, no spaces, ≤ 128 chars (run_… or the agent's own scheme). */
const ClientId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits, _ . : - (at most 128)');
const Timestamp = z.iso.datetime({ offset: true, message: 'an ISO-8601 timestamp such as 2026-01-31T12:00:00Z' });

/**
 * `llm_call` payload: normalized usage. Provider-specific shapes (OpenAI, Anthropic, Gemini) are
 * normalized before validation, so `usage: {prompt_tokens, completion_tokens}` works too.
 * @example { "model": "gpt-4o", "provider": "openai", "input_tokens": 1000, "output_tokens": 500 }
 */
export const LlmCallPayload = z
  .object({
    model: z.string().min(1).max(200),
    provider: z.string().max(100).optional(),
    input_tokens: z.number().int().min(0).max(1e12),
    output_tokens: z.number().int().min(0).max(1e12),
    cached_input_tokens: z.number().int().min(0).max(1e12).optional(),
    cache_write_tokens: z.number().int().min(0).max(1e12).optional(),
    reasoning_tokens: z.number().int().min(0).max(1e12).optional(),
    cost_usd: z.number().min(0).max(1e9).optional(),
    duration_ms: z.number().min(0).optional(),
  })
  .passthrough();
export type LlmCallPayload = z.infer<typeof LlmCallPayload>;

/**
 * @example { "run_id": "run_42", "type": "tool_called", "timestamp": "2026-01-31T12:00:00Z", "payload": { "tool": "crm_lookup" } }
 */
export const IngestEvent = z.object({
  event_id: ClientId.optional(),
  run_id: ClientId,
  agent: z.string().min(1).max(200).optional(),
  type: EventTypeSchema,
  timestamp: Timestamp,
  payload: z.record(z.string(), z.unknown()).default({}),
  /** Span-like nesting: the id of the event this one belongs to (OTLP parent span). */
  parent_id: ClientId.optional(),
  duration_ms: z.number().min(0).max(1e10).optional(),
});
export type IngestEvent = z.infer<typeof IngestEvent>;

export const Usage = z.object({
  model: z.string().min(1).max(200),
  provider: z.string().max(100).optional(),
  input_tokens: z.number().int().min(0).max(1e12).default(0),
  output_tokens: z.number().int().min(0).max(1e12).default(0),
  cached_input_tokens: z.number().int().min(0).max(1e12).optional(),
  cache_write_tokens: z.number().int().min(0).max(1e12).optional(),
  reasoning_tokens: z.number().int().min(0).max(1e12).optional(),
  cost_usd: z.number().min(0).max(1e9).optional(),
});

/**
 * A whole run, or its start (updated later by the same `run_id`).
 * @example { "agent": "SupportBot", "status": "running", "started_at": "2026-01-31T12:00:00Z" }
 */
export const IngestRunBody = z.object({
  run_id: ClientId.optional(),
  agent: z.string().min(1).max(200),
  status: RunStatusSchema,
  started_at: Timestamp,
  ended_at: Timestamp.optional(),
  environment: z.enum(['prod', 'staging', 'test']).optional(),
  external_ref: z.string().max(500).optional(),
  parent_run_id: ClientId.optional(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  usage: Usage.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.string().max(64)).max(50).optional(),
  events: z
    .array(IngestEvent.omit({ run_id: true }).extend({ run_id: ClientId.optional() }))
    .max(1000)
    .optional(),
});
export type IngestRunBody = z.infer<typeof IngestRunBody>;

/** Events are validated one by one (good ones kept, bad ones named by index), so items are `unknown` here. */
export const IngestEventsBody = z.object({ events: z.array(z.unknown()).max(1000) });

export const IngestRunResult = z.object({ run_id: z.string(), events_accepted: z.number().int() });
export const IngestEventsResult = z.object({
  accepted: z.number().int(),
  rejected: z.array(
    z.object({ index: z.number().int(), errors: z.array(z.object({ path: z.string(), message: z.string() })) }),
  ),
});

export const RunSchema = z.object({
  id: z.string(),
  agent_id: z.string(),
  agent_name: z.string(),
  parent_run_id: z.string().nullable(),
  status: RunStatusSchema,
  /** The status as the console shows it (`runOutcome`): `failed` split into failed, blocked and paused. */
  outcome: RunOutcomeSchema,
  started_at: z.string(),
  ended_at: z.string().nullable(),
  latency_ms: z.number().nullable(),
  environment: z.string(),
  external_ref: z.string().nullable(),
  input: z.unknown(),
  output: z.unknown(),
  error: z.unknown(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost_usd: z.number(),
  /** True when some LLM call used a model the price table does not know (its cost is not $0, it is unknown). */
  cost_unknown: z.boolean(),
  metadata: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
});
export type Run = z.infer<typeof RunSchema>;

/**
 * `GET /v1/runs` filters. `status` takes any outcome (`RunOutcomes`): `failed` lists only the runs that
 * read as failed, `blocked` and `paused` the runs stopped by a policy or an emergency control.
 * @example ?status=blocked&from=2026-01-01T00:00:00Z&limit=50
 */
export const ListRunsQuery = z.object({
  agent: z.string().max(200).optional(),
  status: RunOutcomeSchema.optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  tag: z.string().max(64).optional(),
  environment: z.enum(['prod', 'staging', 'test']).optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(300).optional(),
});
