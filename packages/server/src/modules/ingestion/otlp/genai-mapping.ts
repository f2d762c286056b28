/**
 * @module genai-mapping
 * Maps a batch of OTLP spans onto hub runs and events, following the OpenTelemetry GenAI semantic
 * conventions, with the Vercel AI SDK, OpenInference (Arize/Phoenix) and OpenLLMetry (Traceloop) variants. Pure: no I/O,
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
 *   The AI SDK's `ai.generateText`/`ai.streamText` wrappers are known as such and never counted, in any export.
 * - **Prompts and answers.** `llm_call` events carry `input_messages`/`output_messages` in one shape whatever the
 *   convention (conventions/messages.ts). A run takes its span's own input/output, else the messages of its
 *   first and last model call in the same export, so search finds a run by what was asked and answered.
 * - **Nothing dropped.** Attributes without a field of their own stay on the event as `attributes`.
 * - **Late spans.** A span whose chain up to its run is broken (an ancestor has not arrived) is attributed to
 *   the trace's run `otel_<traceId>`. Every event carries `agent` (the best identity seen), so the ingestion
 *   service can create that run before its root span arrives; the root then upserts it.
 *
 * @example
 * const { runs, events } = mapGenAiSpans(decodeJsonTraces(body).spans);
 * for (const run of runs) await ingestion.ingestRun(caller, run);
 * await ingestion.ingestEvents(caller, events);
 */
import type { IngestEvent } from '@agentops-hub/contracts';
import { isAiSdkWrapper } from './conventions/ai-sdk.ts';
import { agentIdentityOf, classifySpan, clip, failureOf, lower, type SpanClass } from './genai-attributes.ts';
import type { OtlpSpan } from './otlp-decode.ts';
import {
  durationOf,
  fallbackAgentOf,
  genericPayload,
  iso,
  llmGroupPayload,
  llmPayload,
  messagesOf,
  type OtlpRun,
  runAgentOf,
  runBodyOf,
  runEventPayload,
  runIdOf,
  type SpanMessages,
  toolPayloads,
} from './span-payloads.ts';

export type { OtlpRun } from './span-payloads.ts';

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
    return fallbackAgentOf(s);
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
  /** A model call that is counted: a leaf LLM span. AI SDK wrappers never are, even when their steps come later. */
  const isCall = (s: OtlpSpan) => classes.get(s) === 'llm' && !hasLlmBelow.has(s) && !isAiSdkWrapper(s.attributes);

  // Prompts and completions, read once per model call; the first and last call of a run give a run whose
  // own span has none (a workflow or plain root) its input and output.
  const messages = new Map<OtlpSpan, SpanMessages>();
  const callsOfRun = new Map<string, { first?: OtlpSpan; last?: OtlpSpan }>();
  for (const s of spans) {
    if (!isCall(s)) continue;
    messages.set(s, messagesOf(s));
    const runId = runOf(s).runId;
    const c = callsOfRun.get(runId) ?? {};
    if (!c.first || s.startMs < c.first.startMs) c.first = s;
    if (!c.last || s.endMs > c.last.endMs || (s.endMs === c.last.endMs && s.startMs > c.last.startMs)) c.last = s;
    callsOfRun.set(runId, c);
  }
  const runCalls = (runId: string) => {
    const c = callsOfRun.get(runId);
    return { first: c?.first && messages.get(c.first), last: c?.last && messages.get(c.last) };
  };

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
      const own = { ...(messages.get(s) ?? messagesOf(s)), isModelCall: cls === 'llm' };
      const body = runBodyOf(s, agent, parentRun?.runId, own, runCalls(runIdOf(s)));
      out.runs.push(body);
      out.runSpans.push(s.spanId);
      runDepth.set(body.run_id, depthOf(s, parentOf));
      const failure = failureOf(s);
      // A root span can also be the model call or the tool itself (a bare `chat` trace): that event keeps
      // `otel_<spanId>`, and the run's start moves aside.
      const startId = hasPrimaryEvent(s) ? `otel_${s.spanId}_start` : `otel_${s.spanId}`;
      emit(event('run_started', startId, s.startMs, runEventPayload(s, !hasPrimaryEvent(s)), false));
      const endType = failure ? 'run_failed' : 'run_completed';
      emit(event(endType, `otel_${s.spanId}_end`, s.endMs, failure ? { error: failure } : {}, false));
      if (!hasPrimaryEvent(s)) continue;
    }

    switch (cls) {
      case 'llm':
        if (isCall(s)) emit(event('llm_call', `otel_${s.spanId}`, s.startMs, llmPayload(s, messages.get(s)!)));
        else emit(event('log', `otel_${s.spanId}`, s.startMs, llmGroupPayload(s)));
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
// Small helpers
// ---------------------------------------------------------------------------------------------------------

const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;

function depthOf(s: OtlpSpan, parentOf: (s: OtlpSpan) => OtlpSpan | undefined): number {
  if (!s.parentSpanId) return 0;
  let d = 1;
  for (let cur = parentOf(s); cur && d < MAX_CHAIN; cur = parentOf(cur)) d++;
  return d;
}

/** Date can represent ±8.64e15 ms; the contract wants a 4-digit year, so stay within year 9999. */
function validTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms < 253402300800000;
}
