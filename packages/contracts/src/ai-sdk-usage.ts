/**
 * @module ai-sdk-usage
 * One reading of the Vercel AI SDK's usage and provider names, shared by the SDK's telemetry integration
 * (which gets the usage object from the AI SDK's hooks) and the hub's OTLP mapping (which gets the same
 * fields flattened into span attributes, `ai.usage.inputTokens`, `ai.usage.inputTokenDetails.cacheReadTokens`).
 * Pure and dependency-free, so the SDK can import it without the schema library.
 *
 * The AI SDK renamed its fields twice: v4 `promptTokens`/`completionTokens`, v5 `inputTokens`/`outputTokens`
 * with `cachedInputTokens`/`reasoningTokens`, v6 the same plus `inputTokenDetails`/`outputTokenDetails`.
 * In every version the input count includes cached tokens and the output count includes reasoning ones,
 * which is the hub's own convention, so no arithmetic is needed.
 *
 * @example
 * aiSdkUsage(fieldsOf({ inputTokens: 120, outputTokens: 20, inputTokenDetails: { cacheReadTokens: 64 } }));
 * // → { input_tokens: 120, output_tokens: 20, cached_input_tokens: 64 }
 * aiSdkUsage((path) => span.attributes[`ai.usage.${path}`]); // the same from OTel attributes
 * aiSdkProvider('openai.chat'); // 'openai'
 */

/** Usage field paths, newest name first, per normalized field. */
export const AI_SDK_USAGE_FIELDS = {
  input: ['inputTokens', 'promptTokens'],
  output: ['outputTokens', 'completionTokens'],
  total: ['totalTokens'],
  cachedInput: ['inputTokenDetails.cacheReadTokens', 'cachedInputTokens'],
  cacheWrite: ['inputTokenDetails.cacheWriteTokens'],
  reasoning: ['outputTokenDetails.reasoningTokens', 'reasoningTokens'],
} as const;

/** Usage in the hub's `llm_call` form (details only when non-zero). */
export interface AiSdkTokenUsage {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
}

/** Reads one usage field by its dotted path (`inputTokenDetails.cacheReadTokens`). */
export type UsageFieldReader = (path: string) => unknown;

/** A reader over a nested usage object, as the AI SDK's hooks pass it. */
export function fieldsOf(usage: unknown): UsageFieldReader {
  return (path) => {
    let v: unknown = usage;
    for (const part of path.split('.')) {
      if (typeof v !== 'object' || v === null) return undefined;
      v = (v as Record<string, unknown>)[part];
    }
    return v;
  };
}

/** The usage the AI SDK reported, or `undefined` when it reported neither input nor output tokens. */
export function aiSdkUsage(read: UsageFieldReader): AiSdkTokenUsage | undefined {
  const first = (paths: readonly string[]) => {
    for (const p of paths) {
      const n = read(p);
      if (typeof n === 'number' && Number.isFinite(n) && n >= 0) return Math.round(n);
    }
    return undefined;
  };
  const input = first(AI_SDK_USAGE_FIELDS.input);
  const output = first(AI_SDK_USAGE_FIELDS.output);
  if (input === undefined && output === undefined) return undefined;
  const cached = first(AI_SDK_USAGE_FIELDS.cachedInput);
  const write = first(AI_SDK_USAGE_FIELDS.cacheWrite);
  const reasoning = first(AI_SDK_USAGE_FIELDS.reasoning);
  return {
    input_tokens: input ?? 0,
    output_tokens: output ?? 0,
    ...(cached ? { cached_input_tokens: cached } : {}),
    ...(write ? { cache_write_tokens: write } : {}),
    ...(reasoning ? { reasoning_tokens: reasoning } : {}),
  };
}

/** The provider of an AI SDK model id (`openai.chat`, `anthropic.messages`, `google.generative-ai`): its first part. */
export function aiSdkProvider(provider: unknown): string | undefined {
  if (typeof provider !== 'string' || !provider.trim()) return undefined;
  return provider.split('.')[0].trim() || undefined;
}
