/**
 * @module genai-log-events
 * Maps OTLP log records onto hub events, pure (no I/O, no clock: `nowMs` is passed in). Instrumentations
 * that follow the GenAI semantic conventions' event model — `@opentelemetry/instrumentation-openai` among
 * them — send the prompt and the completion as log records next to the span, not as span attributes:
 * `gen_ai.system.message`, `gen_ai.user.message`, `gen_ai.assistant.message`, `gen_ai.tool.message` and
 * `gen_ai.choice` (one record per message, content in the body), or the newer
 * `gen_ai.client.inference.operation.details` (`gen_ai.input.messages` / `gen_ai.output.messages`). The
 * name is in `event_name` (OTLP 1.5+) or the `event.name` attribute (older SDKs).
 *
 * The rules (ids are derived from the record, so a re-sent export upserts and never duplicates):
 * - Every record that names a trace goes to the trace's run `otel_<traceId>` — the id genai-mapping.ts gives
 *   a trace's root span — whichever arrives first, so the mapping is the same in both orders.
 * - A GenAI content record is a `log` event `otel_<spanId>_genai_<hash>` with `parent_id` `otel_<spanId>`
 *   (the span's llm_call), payload `{kind: 'gen_ai.content', role, content, tool_calls, …}`.
 *   `runContentOf` rebuilds a run's input (the first call's prompt) and output (the last call's choices)
 *   from those payloads.
 * - Any other record naming a trace is a plain `log` event `otel_<spanId|traceId>_log_<hash>`.
 * - A record naming no trace is dropped (counted by the caller).
 *
 * @example
 * const { content, plain, dropped } = mapLogRecords(decoded.records, Date.now());
 */
import { createHash } from 'node:crypto';
import type { IngestEvent } from '@agentops-hub/contracts';
import { clip, parseMaybeJson } from './genai-attributes.ts';
import type { OtlpLogRecord } from './otlp-logs-decode.ts';

/** The GenAI event names whose records carry message content (old per-message events and the new one). */
export const GENAI_CONTENT_EVENTS: ReadonlyMap<string, string | undefined> = new Map([
  ['gen_ai.system.message', 'system'],
  ['gen_ai.user.message', 'user'],
  ['gen_ai.assistant.message', 'assistant'],
  ['gen_ai.tool.message', 'tool'],
  ['gen_ai.choice', 'assistant'],
  ['gen_ai.client.inference.operation.details', undefined],
]);

/** Marks content events among a run's `log` events. */
export const CONTENT_KIND = 'gen_ai.content';

/** An event to write, with the run it goes to and the agent to name if that run does not exist yet. */
export interface LogEventDraft {
  event: IngestEvent;
  /** `service.name` of the record's resource: the agent genai-mapping.ts would name for a plain span. */
  agent: string;
  /** Position in the decoded records (for partial-success accounting). */
  index: number;
}

export interface LogMapping {
  content: LogEventDraft[];
  plain: LogEventDraft[];
  dropped: { index: number; reason: string }[];
}

export function mapLogRecords(records: readonly OtlpLogRecord[], nowMs: number): LogMapping {
  const out: LogMapping = { content: [], plain: [], dropped: [] };
  // Order within one span: the prompt messages of a call share one timestamp, so their position says
  // which came first (system before user). Kept in the payload as `seq`.
  const seqOfSpan = new Map<string, number>();
  records.forEach((r, index) => {
    if (!r.traceId) {
      out.dropped.push({ index, reason: 'the log record names no trace' });
      return;
    }
    const ms = r.timeMs !== undefined && validTime(r.timeMs) ? r.timeMs : nowMs;
    const agent = clip(str(r.resource['service.name']) || 'unknown_service', 200);
    const runId = `otel_${r.traceId}`;
    const hash = recordHash(r);
    const isContent = GENAI_CONTENT_EVENTS.has(r.eventName);
    if (isContent && r.spanId) {
      const seq = seqOfSpan.get(r.spanId) ?? 0;
      seqOfSpan.set(r.spanId, seq + 1);
      out.content.push({
        index,
        agent,
        event: {
          event_id: `otel_${r.spanId}_genai_${hash}`,
          run_id: runId,
          type: 'log',
          timestamp: iso(ms),
          parent_id: `otel_${r.spanId}`,
          payload: contentPayload(r, seq),
        },
      });
      return;
    }
    const owner = r.spanId ?? r.traceId;
    out.plain.push({
      index,
      agent,
      event: {
        event_id: `otel_${owner}_log_${hash}`,
        run_id: runId,
        type: 'log',
        timestamp: iso(ms),
        ...(r.spanId ? { parent_id: `otel_${r.spanId}` } : {}),
        payload: plainPayload(r),
      },
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------------------

function contentPayload(r: OtlpLogRecord, seq: number): Record<string, unknown> {
  const body = isObject(r.body) ? r.body : {};
  const base = { kind: CONTENT_KIND, event_name: r.eventName, span_id: r.spanId, seq };
  if (r.eventName === 'gen_ai.client.inference.operation.details') {
    // The messages are attributes in the convention; some SDKs put them in the body instead.
    const pick = (k: string) => parseMaybeJson(r.attributes[k] ?? body[k]);
    const input = pick('gen_ai.input.messages');
    const output = pick('gen_ai.output.messages');
    const system = pick('gen_ai.system_instructions');
    return {
      ...base,
      message: summary('operation details', input ?? output),
      ...(input !== undefined ? { input_messages: input } : {}),
      ...(output !== undefined ? { output_messages: output } : {}),
      ...(system !== undefined ? { system_instructions: system } : {}),
    };
  }
  const isChoice = r.eventName === 'gen_ai.choice';
  // A choice nests its message (`{finish_reason, index, message: {content, tool_calls}}`).
  const msg = isChoice && isObject(body.message) ? body.message : body;
  const role = str(msg.role) || GENAI_CONTENT_EVENTS.get(r.eventName) || 'user';
  const content = typeof r.body === 'string' ? r.body : msg.content;
  return {
    ...base,
    message: summary(role, content),
    role,
    ...(content !== undefined ? { content } : {}),
    ...(msg.tool_calls !== undefined ? { tool_calls: msg.tool_calls } : {}),
    ...(body.id !== undefined ? { tool_call_id: body.id } : {}),
    ...(isChoice && body.finish_reason !== undefined ? { finish_reason: body.finish_reason } : {}),
    ...(isChoice && body.index !== undefined ? { index: body.index } : {}),
  };
}

function plainPayload(r: OtlpLogRecord): Record<string, unknown> {
  const text = typeof r.body === 'string' ? r.body : r.eventName || r.scope.name || 'log record';
  return {
    message: clip(text, 2000),
    ...(r.eventName ? { event_name: r.eventName } : {}),
    ...(r.severityText ? { severity: r.severityText } : {}),
    ...(r.severityNumber ? { severity_number: r.severityNumber } : {}),
    ...(r.body !== undefined && typeof r.body !== 'string' ? { body: r.body } : {}),
    ...(Object.keys(r.attributes).length ? { attributes: r.attributes } : {}),
    ...(r.spanId ? { span_id: r.spanId } : {}),
    ...(r.scope.name ? { scope: r.scope.name } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// A run's input and output from its stored content events
// ---------------------------------------------------------------------------------------------------------

/** A stored content event, as read back. */
export interface StoredContent {
  ts: number;
  payload: Record<string, unknown>;
}

/**
 * The run's input (the messages of its first model call) and output (the choices of its last one), from
 * its content events in any order. Undefined where nothing with content was sent (capture turned off).
 */
export function runContentOf(events: readonly StoredContent[]): { input?: unknown; output?: unknown } {
  const calls = new Map<string, { first: number; prompt: StoredContent[]; choices: StoredContent[] }>();
  for (const e of events) {
    if (e.payload.kind !== CONTENT_KIND) continue;
    const span = str(e.payload.span_id);
    const call = calls.get(span) ?? { first: e.ts, prompt: [], choices: [] };
    call.first = Math.min(call.first, e.ts);
    if (e.payload.event_name === 'gen_ai.choice' || e.payload.output_messages !== undefined) call.choices.push(e);
    if (e.payload.event_name !== 'gen_ai.choice') call.prompt.push(e);
    calls.set(span, call);
  }
  const ordered = [...calls.values()].sort((a, b) => a.first - b.first);
  const bySeq = (a: StoredContent, b: StoredContent) => a.ts - b.ts || Number(a.payload.seq) - Number(b.payload.seq);
  const input = ordered
    .map((c) => c.prompt.sort(bySeq).flatMap((e) => promptMessages(e.payload)))
    .find((m) => m.length > 0);
  const output = ordered
    .map((c) => c.choices.sort(bySeq).flatMap((e) => outputMessages(e.payload)))
    .filter((m) => m.length > 0)
    .pop();
  return { ...(input ? { input } : {}), ...(output ? { output } : {}) };
}

function promptMessages(p: Record<string, unknown>): unknown[] {
  if (p.input_messages !== undefined) return Array.isArray(p.input_messages) ? p.input_messages : [p.input_messages];
  if (p.output_messages !== undefined) return [];
  return hasContent(p) ? [message(p)] : [];
}

function outputMessages(p: Record<string, unknown>): unknown[] {
  if (p.output_messages !== undefined)
    return Array.isArray(p.output_messages) ? p.output_messages : [p.output_messages];
  return hasContent(p)
    ? [{ ...message(p), ...(p.finish_reason !== undefined ? { finish_reason: p.finish_reason } : {}) }]
    : [];
}

const hasContent = (p: Record<string, unknown>) =>
  (p.content !== undefined && p.content !== null && p.content !== '') || p.tool_calls !== undefined;

function message(p: Record<string, unknown>) {
  return {
    role: p.role,
    ...(p.content !== undefined ? { content: p.content } : {}),
    ...(p.tool_calls !== undefined ? { tool_calls: p.tool_calls } : {}),
    ...(p.tool_call_id !== undefined ? { tool_call_id: p.tool_call_id } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

/** 16 hex of a SHA-256 over what identifies the record: the same record re-sent gets the same event id. */
function recordHash(r: OtlpLogRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([r.traceId, r.spanId, r.timeNanos, r.eventName, r.body ?? null, r.attributes]))
    .digest('hex')
    .slice(0, 16);
}

/** A one-line text for the timeline: "user: What is the refund policy?". */
function summary(label: string, content: unknown): string {
  if (content === undefined || content === null) return label;
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  return clip(`${label}: ${text}`, 200);
}

/** Within Date's range and a 4-digit year (the contract's timestamps). */
function validTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms < 253402300800000;
}

function iso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}
