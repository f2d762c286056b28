/**
 * @module genai-attributes
 * Reading span attributes the way the GenAI conventions in the wild write them: OpenTelemetry GenAI
 * semantic conventions (`gen_ai.*`), the Vercel AI SDK (`ai.*`, see conventions/ai-sdk.ts), OpenInference
 * (`openinference.span.kind`, `llm.*`, `agent.name`) and OpenLLMetry/Traceloop (`traceloop.*`,
 * `llm.request.type`, `gen_ai.usage.prompt_tokens`). Prompts and completions are read by
 * conventions/messages.ts. Pure functions; `genai-mapping.ts` decides what becomes a run or an event.
 *
 * @example
 * classifySpan({ attributes: { 'gen_ai.operation.name': 'chat' } }); // 'llm'
 * usageOf({ 'llm.token_count.prompt': 10, 'llm.token_count.completion': 2 }); // { input_tokens: 10, output_tokens: 2 }
 */
import { AI_SDK_USAGE_KEYS, aiSdkClass, aiSdkOperation } from './conventions/ai-sdk.ts';
import type { OtlpSpan } from './otlp-decode.ts';

/** What a span is, from its attributes (GenAI semconv first, then AI SDK, OpenInference, OpenLLMetry). */
export type SpanClass = 'agent' | 'workflow' | 'llm' | 'tool' | 'genai' | 'other';

const AGENT_OPERATIONS = new Set(['invoke_agent', 'create_agent']);
const LLM_OPERATIONS = new Set(['chat', 'generate_content', 'text_completion']);

// ---------------------------------------------------------------------------------------------------------
// Attribute keys, in the order they are tried
// ---------------------------------------------------------------------------------------------------------

export const KEYS = {
  model: [
    'gen_ai.response.model',
    'gen_ai.request.model',
    'llm.model_name',
    'llm.response.model',
    'llm.request.model',
    'ai.response.model',
    'ai.model.id',
  ],
  provider: ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system', 'llm.vendor'],
  inputTokens: [
    'gen_ai.usage.input_tokens',
    'gen_ai.usage.prompt_tokens',
    'llm.token_count.prompt',
    'llm.usage.prompt_tokens',
    ...AI_SDK_USAGE_KEYS.input,
  ],
  outputTokens: [
    'gen_ai.usage.output_tokens',
    'gen_ai.usage.completion_tokens',
    'llm.token_count.completion',
    'llm.usage.completion_tokens',
    ...AI_SDK_USAGE_KEYS.output,
  ],
  totalTokens: [
    'llm.usage.total_tokens',
    'gen_ai.usage.total_tokens',
    'llm.token_count.total',
    ...AI_SDK_USAGE_KEYS.total,
  ],
  cachedInputTokens: [
    'gen_ai.usage.cache_read_input_tokens',
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cached_input_tokens',
    'llm.token_count.prompt_details.cache_read',
    ...AI_SDK_USAGE_KEYS.cachedInput,
  ],
  cacheWriteTokens: [
    'gen_ai.usage.cache_creation_input_tokens',
    'gen_ai.usage.cache_creation.input_tokens',
    'gen_ai.usage.cache_write_input_tokens',
    'gen_ai.usage.cache_write.input_tokens',
    'llm.token_count.prompt_details.cache_write',
    ...AI_SDK_USAGE_KEYS.cacheWrite,
  ],
  reasoningTokens: [
    'gen_ai.usage.reasoning_tokens',
    'gen_ai.usage.reasoning.output_tokens',
    'llm.token_count.completion_details.reasoning',
    ...AI_SDK_USAGE_KEYS.reasoning,
  ],
  cost: ['gen_ai.usage.cost', 'llm.cost.total', 'gen_ai.usage.cost_usd'],
  /** OpenInference's split cost, summed when `llm.cost.total` is absent. */
  costParts: ['llm.cost.prompt', 'llm.cost.completion'],
  toolName: ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name', 'traceloop.entity.name'],
  toolCallId: ['gen_ai.tool.call.id', 'tool_call.id', 'ai.toolCall.id'],
  toolArgs: [
    'gen_ai.tool.call.arguments',
    'tool.parameters',
    'ai.toolCall.args',
    'ai.toolCall.input',
    'input.value',
    'traceloop.entity.input',
  ],
  toolResult: [
    'gen_ai.tool.call.result',
    'ai.toolCall.result',
    'ai.toolCall.output',
    'output.value',
    'traceloop.entity.output',
  ],
  /** A run's own input and output, before the prompt and completion messages of its model call(s). */
  input: ['ai.prompt', 'input.value', 'traceloop.entity.input', 'gen_ai.prompt'],
  output: ['ai.response.text', 'ai.response.object', 'output.value', 'traceloop.entity.output', 'gen_ai.completion'],
  environment: ['deployment.environment.name', 'deployment.environment'],
} as const;

// ---------------------------------------------------------------------------------------------------------
// Classification and identity
// ---------------------------------------------------------------------------------------------------------

/** What a span means to the hub (see the module comment). */
export function classifySpan(span: Pick<OtlpSpan, 'attributes'>): SpanClass {
  const a = span.attributes;
  const op = lower(a['gen_ai.operation.name']);
  if (op) {
    if (AGENT_OPERATIONS.has(op)) return 'agent';
    if (LLM_OPERATIONS.has(op)) return 'llm';
    if (op === 'execute_tool') return 'tool';
    if (op === 'invoke_workflow') return 'workflow';
    return 'genai';
  }
  const aiOp = aiSdkOperation(a);
  if (aiOp) return aiSdkClass(aiOp);
  const oi = lower(a['openinference.span.kind']);
  if (oi) {
    if (oi === 'agent') return 'agent';
    if (oi === 'chain') return 'workflow';
    if (oi === 'llm') return 'llm';
    if (oi === 'tool') return 'tool';
    return 'genai';
  }
  const tl = lower(a['traceloop.span.kind']);
  if (tl) {
    if (tl === 'agent') return 'agent';
    if (tl === 'workflow') return 'workflow';
    if (tl === 'tool') return 'tool';
    return 'genai';
  }
  const requestType = lower(a['llm.request.type']);
  if (requestType === 'chat' || requestType === 'completion') return 'llm';
  if (requestType) return 'genai';
  if (firstString(a, KEYS.model)) return 'llm';
  if (Object.keys(a).some((k) => k.startsWith('gen_ai.'))) return 'genai';
  return 'other';
}

/**
 * The agent a span names, if any: a hub agent id (`agt_…`) in `gen_ai.agent.id` first, then
 * `gen_ai.agent.name`, OpenInference `agent.name`, another `gen_ai.agent.id` (a provider's id such as an
 * assistant id), then `traceloop.workflow.name`. Names come before provider ids because runs are found and
 * shown by agent name; the provider id is kept in the run's metadata.
 */
export function agentIdentityOf(attrs: Record<string, unknown>): string | undefined {
  const id = nonEmpty(attrs['gen_ai.agent.id']);
  if (id && /^agt_/.test(id)) return id;
  return (
    nonEmpty(attrs['gen_ai.agent.name']) ??
    nonEmpty(attrs['agent.name']) ??
    id ??
    nonEmpty(attrs['traceloop.workflow.name'])
  );
}

export function serviceNameOf(span: OtlpSpan): string | undefined {
  return nonEmpty(span.resource['service.name']);
}

/** The error that failed a span: its ERROR status and/or its first `exception` event. */
export function failureOf(s: OtlpSpan): { message: string; type?: string; stacktrace?: string } | undefined {
  const exception = s.events.find((e) => e.name === 'exception');
  const isError = s.status.code === 2;
  if (!isError && !exception) return undefined;
  const ex = exception?.attributes ?? {};
  const type = nonEmpty(ex['exception.type']);
  const stack = nonEmpty(ex['exception.stacktrace']);
  const message =
    nonEmpty(s.status.message) ??
    nonEmpty(ex['exception.message']) ??
    type ??
    nonEmpty(s.attributes['error.type']) ??
    'the span ended with an error status';
  return {
    message: clip(message, 2000),
    ...(type ? { type: clip(type, 200) } : {}),
    ...(stack ? { stacktrace: clip(stack, 8000) } : {}),
  };
}

export function environmentOf(value: string | undefined): 'prod' | 'staging' | 'test' | undefined {
  const v = value?.toLowerCase();
  if (!v) return undefined;
  if (v === 'prod' || v === 'production') return 'prod';
  if (v === 'staging' || v === 'stage') return 'staging';
  if (v === 'test' || v === 'testing') return 'test';
  return undefined;
}

/** Normalized usage of one model call, from whichever convention the span uses. */
export function usageOf(attrs: Record<string, unknown>) {
  let input = firstCount(attrs, KEYS.inputTokens);
  let output = firstCount(attrs, KEYS.outputTokens);
  const total = firstCount(attrs, KEYS.totalTokens);
  // Only a total (some OpenLLMetry streams): split what can be split, price the rest as input.
  if (total !== undefined) {
    if (input === undefined && output !== undefined) input = Math.max(0, total - output);
    else if (output === undefined && input !== undefined) output = Math.max(0, total - input);
    else if (input === undefined && output === undefined) {
      input = total;
      output = 0;
    }
  }
  const cost = firstAmount(attrs, KEYS.cost) ?? sumOf(attrs, KEYS.costParts);
  return {
    input_tokens: input ?? 0,
    output_tokens: output ?? 0,
    ...optional('cached_input_tokens', firstCount(attrs, KEYS.cachedInputTokens)),
    ...optional('cache_write_tokens', firstCount(attrs, KEYS.cacheWriteTokens)),
    ...optional('reasoning_tokens', firstCount(attrs, KEYS.reasoningTokens)),
    ...optional('total_tokens', total),
    ...optional('cost_usd', cost),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

export function lower(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v.toLowerCase() : undefined;
}

export function nonEmpty(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() ? v : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function firstString(attrs: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = nonEmpty(attrs[k]);
    if (v) return v;
  }
  return undefined;
}

export function firstPresent(attrs: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const k of keys) {
    const v = attrs[k];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

/** A token count: a non-negative integer (numeric strings accepted; some SDKs stringify everything). */
function firstCount(attrs: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const n = toNumber(attrs[k]);
    if (n !== undefined && n >= 0) return Math.min(Math.round(n), 1e12);
  }
  return undefined;
}

function firstAmount(attrs: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const n = toNumber(attrs[k]);
    if (n !== undefined && n >= 0 && n <= 1e9) return n;
  }
  return undefined;
}

/** The sum of amounts when every one is present (a partial sum would understate the cost). */
function sumOf(attrs: Record<string, unknown>, keys: readonly string[]): number | undefined {
  let sum = 0;
  for (const k of keys) {
    const n = firstAmount(attrs, [k]);
    if (n === undefined) return undefined;
    sum += n;
  }
  return sum;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function optional<K extends string>(name: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, number>);
}

/** Message lists and tool arguments travel as JSON strings in span attributes; keep structure when they parse. */
export function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

export function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}
