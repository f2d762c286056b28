/**
 * @module span-payloads
 * What one span becomes once `genai-mapping.ts` has decided its role: the run body of a run span and the
 * payloads of its `llm_call`, `tool_called`/`tool_result` and `log` events. Pure. Every payload keeps the
 * span's attributes that have no field of their own under `attributes` (conventions/extra-attributes.ts).
 *
 * @example
 * const payload = llmPayload(span, messagesOf(span)); // { model, provider, input_tokens, …, input_messages, output_messages }
 */
import type { IngestRunBody } from '@agentops-hub/contracts';
import { aiSdkProvider } from '@agentops-hub/contracts';
import { aiSdkOperation, isDefaultServiceName } from './conventions/ai-sdk.ts';
import { extraAttributes } from './conventions/extra-attributes.ts';
import { type ChatMessage, inputMessagesOf, outputMessagesOf, toolCallsOf } from './conventions/messages.ts';
import {
  agentIdentityOf,
  clip,
  environmentOf,
  failureOf,
  firstPresent,
  firstString,
  KEYS,
  nonEmpty,
  parseMaybeJson,
  serviceNameOf,
  usageOf,
} from './genai-attributes.ts';
import type { OtlpSpan } from './otlp-decode.ts';

/** A run produced from a span: the run id is always set. */
export type OtlpRun = IngestRunBody & { run_id: string };

/** The prompt and completion of a span, read once (both the run and the event use them). */
export interface SpanMessages {
  input?: ChatMessage[];
  output?: ChatMessage[];
}

export function messagesOf(s: OtlpSpan): SpanMessages {
  return { input: inputMessagesOf(s), output: outputMessagesOf(s) };
}

// ---------------------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------------------

export function runIdOf(s: OtlpSpan): string {
  return s.parentSpanId ? `otel_${s.spanId}` : `otel_${s.traceId}`;
}

/**
 * The agent when no span names one: a configured `service.name`, else the AI SDK's `functionId` (an app
 * that never set a service name reports `unknown_service:node`), else whatever the service is called.
 */
export function fallbackAgentOf(s: OtlpSpan): string {
  const service = serviceNameOf(s);
  const configured = service && !isDefaultServiceName(service) ? service : undefined;
  return clip(configured ?? nonEmpty(s.attributes['ai.telemetry.functionId']) ?? service ?? 'unknown_service', 200);
}

export function runAgentOf(s: OtlpSpan): string {
  return clip(agentIdentityOf(s.attributes) ?? fallbackAgentOf(s), 200);
}

/**
 * The run body of a run span. Input and output: the span's input/output attributes and its own messages (a
 * model span's messages first: its `input.value` is the raw request), else the messages of the first and
 * last model call inside the run (`calls`), so a plain or workflow root still shows and finds the prompt
 * and the answer.
 */
export function runBodyOf(
  s: OtlpSpan,
  agent: string,
  parentRunId: string | undefined,
  own: SpanMessages & { isModelCall: boolean },
  calls: { first?: SpanMessages; last?: SpanMessages },
): OtlpRun {
  const a = s.attributes;
  const failure = failureOf(s);
  const explicitIn = explicitIo(a, KEYS.input);
  const explicitOut = explicitIo(a, KEYS.output);
  // An agent span that carries only its instructions (Pydantic AI's `gen_ai.system_instructions`) has not
  // said what it was asked: the run's input is then its first model call's prompt, which includes both.
  const ownIn = own.isModelCall || own.input?.some((m) => m.role !== 'system') ? own.input : undefined;
  const input =
    (own.isModelCall ? (own.input ?? explicitIn) : (explicitIn ?? ownIn)) ?? calls.first?.input ?? own.input;
  const output = (own.isModelCall ? (own.output ?? explicitOut) : (explicitOut ?? own.output)) ?? calls.last?.output;
  const environment = environmentOf(firstString(a, KEYS.environment) ?? firstString(s.resource, KEYS.environment));
  const providerAgentId = nonEmpty(a['gen_ai.agent.id']);
  const functionId = nonEmpty(a['ai.telemetry.functionId']);
  const otel: Record<string, unknown> = {
    trace_id: s.traceId,
    span_id: s.spanId,
    span_name: s.name,
    ...(serviceNameOf(s) ? { service_name: serviceNameOf(s) } : {}),
    ...(s.scope.name ? { scope: s.scope.name } : {}),
    ...(providerAgentId ? { agent_id: providerAgentId } : {}),
    ...(functionId ? { function_id: functionId } : {}),
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
    ...(input !== undefined ? { input } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(failure ? { error: failure } : {}),
    metadata: { source: 'otlp', otel },
  };
}

/**
 * A span's own input or output attribute, parsed. Traceloop JSON-encodes every value (a string arrives
 * quoted), and records a function without arguments as `{args: [], kwargs: {}}`: that is no input.
 */
function explicitIo(a: Record<string, unknown>, keys: readonly string[]): unknown {
  const raw = firstPresent(a, keys);
  const v = typeof raw === 'string' && raw.length > 1 && raw.startsWith('"') ? jsonString(raw) : parseMaybeJson(raw);
  if (v === undefined || !isCallArguments(v)) return v;
  // Traceloop records a decorated function's arguments as {args, kwargs}: keep what was passed.
  const { args, kwargs } = v;
  const named = Object.keys(kwargs).length > 0;
  if (args.length === 0) return named ? kwargs : undefined;
  if (!named && args.length === 1) return args[0];
  return v;
}

function jsonString(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function isCallArguments(v: unknown): v is { args: unknown[]; kwargs: Record<string, unknown> } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).length === 2 && Array.isArray(o.args) && typeof o.kwargs === 'object' && o.kwargs !== null;
}

export function runEventPayload(s: OtlpSpan, withAttributes: boolean): Record<string, unknown> {
  const attributes = withAttributes ? extraAttributes(s.attributes) : undefined;
  return {
    span_name: s.name,
    ...(s.parentSpanId ? { parent_span_id: s.parentSpanId } : {}),
    ...(attributes ? { attributes } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------

export function llmPayload(s: OtlpSpan, messages: SpanMessages): Record<string, unknown> {
  const a = s.attributes;
  const failure = failureOf(s);
  const requestModel = nonEmpty(a['gen_ai.request.model']);
  const responseModel = nonEmpty(a['gen_ai.response.model']);
  const provider = providerOf(a);
  const finishReasons = a['gen_ai.response.finish_reasons'] ?? a['ai.response.finishReason'];
  const responseId = nonEmpty(a['gen_ai.response.id']) ?? nonEmpty(a['ai.response.id']);
  const toolCalls = toolCallsOf(messages.output);
  const attributes = extraAttributes(a);
  return {
    model: clip(firstString(a, KEYS.model) ?? 'unknown', 200),
    ...(provider ? { provider: clip(provider, 100) } : {}),
    ...usageOf(a),
    duration_ms: durationOf(s),
    operation: nonEmpty(a['gen_ai.operation.name']) ?? nonEmpty(a['llm.request.type']) ?? aiSdkOperation(a) ?? 'chat',
    span_name: s.name,
    ...(requestModel && responseModel && requestModel !== responseModel ? { request_model: requestModel } : {}),
    ...(responseId ? { response_id: responseId } : {}),
    ...(finishReasons !== undefined ? { finish_reasons: finishReasons } : {}),
    ...(messages.input ? { input_messages: messages.input } : {}),
    ...(messages.output ? { output_messages: messages.output } : {}),
    ...(toolCalls ? { tool_calls: toolCalls } : {}),
    ...(attributes ? { attributes } : {}),
    ...(failure ? { status: 'error', error: failure } : {}),
  };
}

/** A wrapper LLM span (model calls are spans below it): shown on the timeline, never counted. */
export function llmGroupPayload(s: OtlpSpan): Record<string, unknown> {
  const a = s.attributes;
  const failure = failureOf(s);
  const model = firstString(a, KEYS.model);
  const attributes = extraAttributes(a);
  return {
    message: `${s.name || 'LLM span'} (tokens are counted on the model calls inside it)`,
    kind: 'llm_group',
    span_name: s.name,
    ...(model ? { model } : {}),
    reported_usage: usageOf(a),
    ...(attributes ? { attributes } : {}),
    ...(failure ? { status: 'error', error: failure } : {}),
  };
}

export function toolPayloads(s: OtlpSpan): { called: Record<string, unknown>; result: Record<string, unknown> } {
  const a = s.attributes;
  const tool = clip(firstString(a, KEYS.toolName) ?? (s.name.replace(/^execute_tool\s+/, '') || 'unknown_tool'), 200);
  const callId = firstString(a, KEYS.toolCallId);
  const args = explicitIo(a, KEYS.toolArgs);
  const result = firstPresent(a, KEYS.toolResult);
  const failure = failureOf(s);
  const attributes = extraAttributes(a);
  const common = { tool, ...(callId ? { call_id: callId } : {}) };
  return {
    called: {
      ...common,
      ...(args !== undefined ? { args } : {}),
      ...(nonEmpty(a['gen_ai.tool.type']) ? { tool_type: a['gen_ai.tool.type'] } : {}),
      ...(nonEmpty(a['gen_ai.tool.description']) ? { description: a['gen_ai.tool.description'] } : {}),
      ...(attributes ? { attributes } : {}),
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

export function genericPayload(s: OtlpSpan): Record<string, unknown> {
  const a = s.attributes;
  const failure = failureOf(s);
  const operation =
    nonEmpty(a['gen_ai.operation.name']) ??
    aiSdkOperation(a) ??
    nonEmpty(a['openinference.span.kind'])?.toLowerCase() ??
    nonEmpty(a['traceloop.span.kind']) ??
    nonEmpty(a['llm.request.type']);
  const model = firstString(a, KEYS.model);
  const attributes = extraAttributes(a);
  return {
    message: s.name || operation || 'span',
    span_name: s.name,
    ...(operation ? { operation } : {}),
    ...(model ? { model } : {}),
    ...(attributes ? { attributes } : {}),
    ...(failure ? { status: 'error', error: failure } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

/** The AI SDK names providers by API (`openai.chat`, `openai.responses`): the price table wants `openai`. */
function providerOf(a: Record<string, unknown>): string | undefined {
  if (aiSdkOperation(a)) return aiSdkProvider(a['ai.model.provider'] ?? firstString(a, KEYS.provider));
  return firstString(a, KEYS.provider);
}

/** Whole milliseconds: `events.duration_ms` is a bigint, and PostgreSQL refuses a fraction (22P02, a 500). */
export function durationOf(s: OtlpSpan): number {
  return Math.max(0, Math.round(s.endMs - s.startMs));
}

export function iso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}
