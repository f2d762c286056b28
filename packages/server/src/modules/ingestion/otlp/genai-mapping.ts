/**
 * @module genai-mapping
 * Maps a batch of OTLP spans onto hub runs and events, following the OpenTelemetry GenAI semantic
 * conventions, with the OpenInference (Arize/Phoenix) and OpenLLMetry (Traceloop) variants. Pure: no I/O,
 * no clock, no state between calls — every id is derived from trace and span ids, so a span re-sent or
 * arriving late in another export produces the same ids and the ingestion service upserts.
 *
 * The rules:
 * - **Runs.** A trace's root span (no parent) is the run `otel_<traceId>`, whatever it is: an
 *   `invoke_agent`/`create_agent` span, an OpenInference AGENT/CHAIN, a Traceloop workflow/agent, or a plain
 *   span. A span with a parent that is an agent (`gen_ai.operation.name` invoke_agent, OpenInference AGENT,
 *   `traceloop.span.kind` agent) is a child run `otel_<spanId>` whose `parent_run_id` is the run around it.
 *   Run ids depend on the span alone (never on which other spans came in the same export), so they are
 *   stable across exports.
 * - **Run status.** Exported spans have ended: `completed`, or `failed` when the run's own span has an ERROR
 *   status or an `exception` event. A failing tool or model call inside a run that the agent recovered from
 *   does not fail the run (the error is on that event); an error that ends the run shows on its span.
 * - **Events.** `chat`/`generate_content`/`text_completion` spans (OpenInference LLM, OpenLLMetry
 *   `llm.request.type`) are `llm_call` (id `otel_<spanId>`); `execute_tool` spans (OpenInference TOOL,
 *   Traceloop tool) are `tool_called` (`otel_<spanId>`) + `tool_result` (`otel_<spanId>_result`); each run
 *   span adds `run_started` (`otel_<spanId>_start`) and `run_completed`/`run_failed` (`otel_<spanId>_end`).
 *   Other GenAI spans (embeddings, retrieval, Traceloop tasks) are `log` events; spans without GenAI meaning
 *   (HTTP, DB, nested chains) are skipped, not rejected.
 * - **Tokens from leaf LLM spans only.** An LLM span with an LLM span below it in the export usually repeats
 *   its children's totals: it becomes a `log` event that carries those totals as `reported_usage`, never an
 *   `llm_call`, so nothing is counted twice. (Across exports the rule cannot see a parent that arrives after its
 *   children were sent alone; OTel's batch processor normally exports a call and its wrapper together.)
 * - **Late spans.** A span whose chain up to its run is broken (an ancestor has not arrived) is attributed to
 *   the trace's run `otel_<traceId>`. Every event carries `agent` (the best identity seen), so the ingestion
 *   service can create that run before its root span arrives; the root then upserts it.
 *
 * @example
 * const { runs, events } = mapGenAiSpans(decodeJsonTraces(body).spans);
 * for (const run of runs) await ingestion.ingestRun(caller, run);
 * await ingestion.ingestEvents(caller, events);
 */
import type { IngestEvent, IngestRunBody } from '@agentops-hub/contracts';
import {
  agentIdentityOf,
  classifySpan,
  clip,
  environmentOf,
  failureOf,
  firstPresent,
  firstString,
  KEYS,
  lower,
  nonEmpty,
  parseMaybeJson,
  type SpanClass,
  serviceNameOf,
  usageOf,
} from './genai-attributes.ts';
import type { OtlpSpan } from './otlp-decode.ts';

/** A run produced from a span: the run id is always set. */
export type OtlpRun = IngestRunBody & { run_id: string };

export interface GenAiMapping {
  /** Top-level runs first, then child runs by depth, so a parent run is written before its children. */
  runs: OtlpRun[];
  events: IngestEvent[];
  /** For partial-success accounting: `runSpans[i]` is the span id behind `runs[i]`, same for `eventSpans`. */
  runSpans: string[];
  eventSpans: string[];
  /** Spans deliberately not mapped (no GenAI meaning). Not an error: they are not rejected. */
  skipped: { spanId: string; reason: string }[];
  /** Spans that could not be mapped (e.g. timestamps out of range): count as rejected. */
  rejected: { spanId: string; reason: string }[];
}

const MAX_CHAIN = 1000;

// ---------------------------------------------------------------------------------------------------------
// The mapper
// ---------------------------------------------------------------------------------------------------------

interface RunRef {
  runId: string;
  /** The span that is the run; absent when the chain up to it is broken (an ancestor has not arrived). */
  span?: OtlpSpan;
}

/** Maps one export's spans (any number of traces, any order) to runs and events. */
export function mapGenAiSpans(input: readonly OtlpSpan[]): GenAiMapping {
  // Dedupe (a re-sent span within one export): the last copy wins.
  const byKey = new Map<string, OtlpSpan>();
  for (const s of input) byKey.set(key(s.traceId, s.spanId), s);
  const spans = [...byKey.values()];
  const classes = new Map<OtlpSpan, SpanClass>(spans.map((s) => [s, classifySpan(s)]));
  const parentOf = (s: OtlpSpan) => (s.parentSpanId ? byKey.get(key(s.traceId, s.parentSpanId)) : undefined);
  // `create_agent` sets an agent up rather than running it: the run only when it is the trace's root.
  const isRunSpan = (s: OtlpSpan) =>
    !s.parentSpanId || (classes.get(s) === 'agent' && lower(s.attributes['gen_ai.operation.name']) !== 'create_agent');
  /** Whether a span maps to an event with id `otel_<spanId>` besides any run events. */
  const hasPrimaryEvent = (s: OtlpSpan) => {
    const cls = classes.get(s)!;
    return cls === 'llm' || cls === 'tool' || cls === 'genai' || (cls === 'agent' && !isRunSpan(s));
  };

  /** The run that contains `s` (itself when it is a run span). */
  const runCache = new Map<OtlpSpan, RunRef>();
  function runOf(s: OtlpSpan): RunRef {
    const cached = runCache.get(s);
    if (cached) return cached;
    let cur: OtlpSpan = s;
    let ref: RunRef | undefined;
    for (let i = 0; i < MAX_CHAIN; i++) {
      if (isRunSpan(cur)) {
        ref = { runId: runIdOf(cur), span: cur };
        break;
      }
      const parent = parentOf(cur);
      if (!parent) break;
      cur = parent;
    }
    ref ??= { runId: `otel_${s.traceId}` };
    runCache.set(s, ref);
    return ref;
  }

  /** The run a run span's parent belongs to (for child runs). */
  function parentRunOf(s: OtlpSpan): RunRef | undefined {
    if (!s.parentSpanId) return undefined;
    const parent = parentOf(s);
    return parent ? runOf(parent) : { runId: `otel_${s.traceId}` };
  }

  /** The agent to name on events of `s`'s run. */
  function agentFor(s: OtlpSpan, run: RunRef): string {
    if (run.span) return runAgentOf(run.span);
    // The run's own span has not arrived: the nearest identity up the chain, then the service.
    let cur: OtlpSpan | undefined = s;
    for (let i = 0; cur && i < MAX_CHAIN; i++) {
      const id = agentIdentityOf(cur.attributes);
      if (id) return clip(id, 200);
      cur = parentOf(cur);
    }
    return clip(serviceNameOf(s) ?? 'unknown_service', 200);
  }

  // Leaf-only token counting: mark every ancestor of an LLM span.
  const hasLlmBelow = new Set<OtlpSpan>();
  for (const s of spans) {
    if (classes.get(s) !== 'llm') continue;
    let cur = parentOf(s);
    for (let i = 0; cur && i < MAX_CHAIN && !hasLlmBelow.has(cur); i++) {
      hasLlmBelow.add(cur);
      cur = parentOf(cur);
    }
  }

  /**
   * The event a child nests under: its nearest ancestor in this export that produced one (run spans always
   * do). When the parent has not arrived, its would-be id: it resolves once the parent comes, and a parent
   * that produces no event (an HTTP span, say) leaves the child at the top level of its run.
   */
  function parentEventOf(s: OtlpSpan): string | undefined {
    if (!s.parentSpanId) return undefined;
    let cur = parentOf(s);
    if (!cur) return `otel_${s.parentSpanId}`;
    for (let i = 0; cur && i < MAX_CHAIN; i++) {
      if (isRunSpan(cur) || hasPrimaryEvent(cur)) return `otel_${cur.spanId}`;
      cur = parentOf(cur);
    }
    return undefined;
  }

  const out: GenAiMapping = { runs: [], events: [], runSpans: [], eventSpans: [], skipped: [], rejected: [] };
  const runDepth = new Map<string, number>();

  for (const s of spans) {
    if (!validTime(s.startMs) || !validTime(s.endMs)) {
      out.rejected.push({ spanId: s.spanId, reason: 'timestamps out of range' });
      continue;
    }
    const cls = classes.get(s)!;
    const run = runOf(s);
    const agent = agentFor(s, run);
    const event = (
      type: IngestEvent['type'],
      id: string,
      ms: number,
      payload: Record<string, unknown>,
      nested = true,
    ): IngestEvent => {
      const parent = nested ? parentEventOf(s) : undefined;
      return {
        event_id: id,
        run_id: run.runId,
        agent,
        type,
        timestamp: iso(ms),
        payload,
        ...(parent ? { parent_id: parent } : {}),
        ...(nested ? { duration_ms: durationOf(s) } : {}),
      };
    };
    const emit = (ev: IngestEvent) => {
      out.events.push(ev);
      out.eventSpans.push(s.spanId);
    };

    if (isRunSpan(s)) {
      const parentRun = parentRunOf(s);
      const body = runBodyOf(s, agent, parentRun?.runId);
      out.runs.push(body);
      out.runSpans.push(s.spanId);
      runDepth.set(body.run_id, depthOf(s, parentOf));
      const failure = failureOf(s);
      // A root span can also be the model call or the tool itself (a bare `chat` trace): that event keeps
      // `otel_<spanId>`, and the run's start moves aside.
      const startId = hasPrimaryEvent(s) ? `otel_${s.spanId}_start` : `otel_${s.spanId}`;
      emit(event('run_started', startId, s.startMs, runEventPayload(s), false));
      const endType = failure ? 'run_failed' : 'run_completed';
      emit(event(endType, `otel_${s.spanId}_end`, s.endMs, failure ? { error: failure } : {}, false));
      if (!hasPrimaryEvent(s)) continue;
    }

    switch (cls) {
      case 'llm':
        if (hasLlmBelow.has(s)) emit(event('log', `otel_${s.spanId}`, s.startMs, llmGroupPayload(s)));
        else emit(event('llm_call', `otel_${s.spanId}`, s.startMs, llmPayload(s)));
        break;
      case 'tool': {
        const { called, result } = toolPayloads(s);
        emit(event('tool_called', `otel_${s.spanId}`, s.startMs, called));
        emit(event('tool_result', `otel_${s.spanId}_result`, s.endMs, result));
        break;
      }
      case 'genai':
      case 'agent':
        emit(event('log', `otel_${s.spanId}`, s.startMs, genericPayload(s)));
        break;
      default:
        out.skipped.push({
          spanId: s.spanId,
          reason: cls === 'workflow' ? 'a nested chain/workflow span' : 'no GenAI meaning',
        });
    }
  }

  // Parents before children, so a child run's parent exists when it is written.
  const order = out.runs.map((r, i) => ({ r, span: out.runSpans[i], d: runDepth.get(r.run_id) ?? 0 }));
  order.sort((a, b) => a.d - b.d || a.r.started_at.localeCompare(b.r.started_at));
  out.runs = order.map((o) => o.r);
  out.runSpans = order.map((o) => o.span);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------------------

function runIdOf(s: OtlpSpan): string {
  return s.parentSpanId ? `otel_${s.spanId}` : `otel_${s.traceId}`;
}

function runAgentOf(s: OtlpSpan): string {
  return clip(agentIdentityOf(s.attributes) ?? serviceNameOf(s) ?? 'unknown_service', 200);
}

function runBodyOf(s: OtlpSpan, agent: string, parentRunId: string | undefined): OtlpRun {
  const a = s.attributes;
  const failure = failureOf(s);
  const input = firstPresent(a, KEYS.input);
  const output = firstPresent(a, KEYS.output);
  const environment = environmentOf(firstString(a, KEYS.environment) ?? firstString(s.resource, KEYS.environment));
  const providerAgentId = nonEmpty(a['gen_ai.agent.id']);
  const otel: Record<string, unknown> = {
    trace_id: s.traceId,
    span_id: s.spanId,
    span_name: s.name,
    ...(serviceNameOf(s) ? { service_name: serviceNameOf(s) } : {}),
    ...(s.scope.name ? { scope: s.scope.name } : {}),
    ...(providerAgentId ? { agent_id: providerAgentId } : {}),
    ...(nonEmpty(a['gen_ai.agent.description']) ? { agent_description: a['gen_ai.agent.description'] } : {}),
    ...(nonEmpty(a['gen_ai.conversation.id']) ? { conversation_id: a['gen_ai.conversation.id'] } : {}),
    ...(nonEmpty(a['gen_ai.operation.name']) ? { operation: a['gen_ai.operation.name'] } : {}),
  };
  return {
    run_id: runIdOf(s),
    agent,
    status: failure ? 'failed' : 'completed',
    started_at: iso(s.startMs),
    ended_at: iso(s.endMs),
    ...(parentRunId ? { parent_run_id: parentRunId } : {}),
    ...(environment ? { environment } : {}),
    ...(input !== undefined ? { input: parseMaybeJson(input) } : {}),
    ...(output !== undefined ? { output: parseMaybeJson(output) } : {}),
    ...(failure ? { error: failure } : {}),
    metadata: { source: 'otlp', otel },
  };
}

function runEventPayload(s: OtlpSpan): Record<string, unknown> {
  return { span_name: s.name, ...(s.parentSpanId ? { parent_span_id: s.parentSpanId } : {}) };
}

// ---------------------------------------------------------------------------------------------------------
// Event payloads
// ---------------------------------------------------------------------------------------------------------

function llmPayload(s: OtlpSpan): Record<string, unknown> {
  const a = s.attributes;
  const failure = failureOf(s);
  const requestModel = nonEmpty(a['gen_ai.request.model']);
  const responseModel = nonEmpty(a['gen_ai.response.model']);
  const provider = firstString(a, KEYS.provider);
  const inputMessages = a['gen_ai.input.messages'];
  const outputMessages = a['gen_ai.output.messages'];
  return {
    model: clip(firstString(a, KEYS.model) ?? 'unknown', 200),
    ...(provider ? { provider: clip(provider, 100) } : {}),
    ...usageOf(a),
    duration_ms: durationOf(s),
    operation: nonEmpty(a['gen_ai.operation.name']) ?? nonEmpty(a['llm.request.type']) ?? 'chat',
    span_name: s.name,
    ...(requestModel && responseModel && requestModel !== responseModel ? { request_model: requestModel } : {}),
    ...(nonEmpty(a['gen_ai.response.id']) ? { response_id: a['gen_ai.response.id'] } : {}),
    ...(a['gen_ai.response.finish_reasons'] !== undefined
      ? { finish_reasons: a['gen_ai.response.finish_reasons'] }
      : {}),
    ...(inputMessages !== undefined ? { input_messages: parseMaybeJson(inputMessages) } : {}),
    ...(outputMessages !== undefined ? { output_messages: parseMaybeJson(outputMessages) } : {}),
    ...(failure ? { status: 'error', error: failure } : {}),
  };
}

/** A wrapper LLM span (it has LLM calls below it): shown on the timeline, never counted. */
function llmGroupPayload(s: OtlpSpan): Record<string, unknown> {
  const a = s.attributes;
  const failure = failureOf(s);
  const model = firstString(a, KEYS.model);
  return {
    message: `${s.name || 'LLM span'} (tokens are counted on the model calls inside it)`,
    kind: 'llm_group',
    span_name: s.name,
    ...(model ? { model } : {}),
    reported_usage: usageOf(a),
    ...(failure ? { status: 'error', error: failure } : {}),
  };
}

function toolPayloads(s: OtlpSpan): { called: Record<string, unknown>; result: Record<string, unknown> } {
  const a = s.attributes;
  const tool = clip(firstString(a, KEYS.toolName) ?? (s.name.replace(/^execute_tool\s+/, '') || 'unknown_tool'), 200);
  const callId = firstString(a, KEYS.toolCallId);
  const args = firstPresent(a, KEYS.toolArgs);
  const result = firstPresent(a, KEYS.toolResult);
  const failure = failureOf(s);
  const common = { tool, ...(callId ? { call_id: callId } : {}) };
  return {
    called: {
      ...common,
      ...(args !== undefined ? { args: parseMaybeJson(args) } : {}),
      ...(nonEmpty(a['gen_ai.tool.type']) ? { tool_type: a['gen_ai.tool.type'] } : {}),
      ...(nonEmpty(a['gen_ai.tool.description']) ? { description: a['gen_ai.tool.description'] } : {}),
    },
    result: {
      ...common,
      status: failure ? 'error' : 'ok',
      ...(result !== undefined ? { result: parseMaybeJson(result) } : {}),
      ...(failure ? { error: failure } : {}),
      duration_ms: durationOf(s),
    },
  };
}

function genericPayload(s: OtlpSpan): Record<string, unknown> {
  const a = s.attributes;
  const failure = failureOf(s);
  const operation =
    nonEmpty(a['gen_ai.operation.name']) ??
    nonEmpty(a['openinference.span.kind'])?.toLowerCase() ??
    nonEmpty(a['traceloop.span.kind']) ??
    nonEmpty(a['llm.request.type']);
  const model = firstString(a, KEYS.model);
  return {
    message: s.name || operation || 'span',
    span_name: s.name,
    ...(operation ? { operation } : {}),
    ...(model ? { model } : {}),
    ...(failure ? { status: 'error', error: failure } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;

function depthOf(s: OtlpSpan, parentOf: (s: OtlpSpan) => OtlpSpan | undefined): number {
  if (!s.parentSpanId) return 0;
  let d = 1;
  for (let cur = parentOf(s); cur && d < MAX_CHAIN; cur = parentOf(cur)) d++;
  return d;
}

/** Whole milliseconds: `events.duration_ms` is a bigint, and PostgreSQL refuses a fraction (22P02, a 500). */
function durationOf(s: OtlpSpan): number {
  return Math.max(0, Math.round(s.endMs - s.startMs));
}

/** Date can represent ±8.64e15 ms; the contract wants a 4-digit year, so stay within year 9999. */
function validTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms < 253402300800000;
}

function iso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}
