/**
 * @module usage-normalizer
 * Turns the usage objects providers return into one form the pricer understands. Pure, no I/O.
 *
 * The one invariant every shape is brought to: `input_tokens` counts ALL input tokens (cached and
 * cache-write ones included) and `output_tokens` ALL output tokens (reasoning/thinking included);
 * `cached_input_tokens`, `cache_write_tokens` and `reasoning_tokens` are subsets billed at their own rates.
 *
 * @example
 * normalizeUsage({ model: 'claude-sonnet-4-5', usage: { input_tokens: 20, cache_read_input_tokens: 1000,
 *   cache_creation_input_tokens: 200, output_tokens: 50 } });
 * // → { model: 'claude-sonnet-4-5', input_tokens: 1220, output_tokens: 50, cached_input_tokens: 1000, cache_write_tokens: 200 }
 */

export interface NormalizedUsage {
  model?: string;
  provider?: string;
  /** All input tokens, cached and cache-write ones included. */
  input_tokens: number;
  /** All output tokens, reasoning included. */
  output_tokens: number;
  /** Cache reads (a subset of input_tokens). */
  cached_input_tokens?: number;
  /** Cache writes (a subset of input_tokens). */
  cache_write_tokens?: number;
  /** Reasoning/thinking tokens (a subset of output_tokens). */
  reasoning_tokens?: number;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A token count: a finite, non-negative number (or numeric string, as OTel attributes sometimes are). */
function count(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1e12) return undefined;
  return Math.round(n);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

const has = (o: Obj, ...keys: string[]) => keys.some((k) => k in o && o[k] !== undefined);

function build(
  base: { model?: string; provider?: string },
  input: number | undefined,
  output: number | undefined,
  extra: { cached?: number; write?: number; reasoning?: number },
): NormalizedUsage | null {
  if (input === undefined && output === undefined) return null;
  const u: NormalizedUsage = { input_tokens: input ?? 0, output_tokens: output ?? 0 };
  if (base.model) u.model = base.model;
  if (base.provider) u.provider = base.provider;
  if (extra.cached !== undefined) u.cached_input_tokens = extra.cached;
  if (extra.write !== undefined) u.cache_write_tokens = extra.write;
  if (extra.reasoning !== undefined) u.reasoning_tokens = extra.reasoning;
  return u;
}

/** Gemini `usageMetadata` (REST camelCase) or `usage_metadata` (Python SDK, LangChain snake_case). */
function gemini(u: Obj, base: { model?: string; provider?: string }): NormalizedUsage | null {
  const pick = (camel: string, snake: string) => count(u[camel] ?? u[snake]);
  const prompt = pick('promptTokenCount', 'prompt_token_count');
  const candidates = pick('candidatesTokenCount', 'candidates_token_count');
  const thoughts = pick('thoughtsTokenCount', 'thoughts_token_count');
  const cached = pick('cachedContentTokenCount', 'cached_content_token_count');
  // Tool-use prompt tokens (e.g. grounding results fed back) are billed as input.
  const toolPrompt = pick('toolUsePromptTokenCount', 'tool_use_prompt_token_count');
  if (prompt === undefined && candidates === undefined && thoughts === undefined) return null;
  const input = (prompt ?? 0) + (toolPrompt ?? 0);
  // candidatesTokenCount excludes thinking; thoughts are billed as output.
  const output = (candidates ?? 0) + (thoughts ?? 0);
  return build(base, input, output, { cached, reasoning: thoughts });
}

function fromUsageObject(u: Obj, base: { model?: string; provider?: string }): NormalizedUsage | null {
  if (has(u, 'promptTokenCount', 'candidatesTokenCount', 'prompt_token_count', 'candidates_token_count'))
    return gemini(u, base);

  // Anthropic Messages: input_tokens EXCLUDES cache reads and cache writes; add them back.
  if (has(u, 'cache_read_input_tokens', 'cache_creation_input_tokens')) {
    const read = count(u.cache_read_input_tokens);
    let write = count(u.cache_creation_input_tokens);
    // Newer responses split writes by TTL; the total is the same tokens (priced at the 5-minute rate).
    if (write === undefined && isObj(u.cache_creation)) {
      const c = u.cache_creation;
      const m5 = count(c.ephemeral_5m_input_tokens);
      const h1 = count(c.ephemeral_1h_input_tokens);
      if (m5 !== undefined || h1 !== undefined) write = (m5 ?? 0) + (h1 ?? 0);
    }
    const uncached = count(u.input_tokens);
    if (uncached === undefined && read === undefined && write === undefined && !has(u, 'output_tokens')) return null;
    return build(base, (uncached ?? 0) + (read ?? 0) + (write ?? 0), count(u.output_tokens) ?? 0, {
      cached: read || undefined,
      write: write || undefined,
    });
  }

  // OpenAI Chat Completions (and the many OpenAI-compatible APIs: Azure, Groq, Together, DeepSeek, Mistral).
  if (has(u, 'prompt_tokens', 'completion_tokens')) {
    const pd = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
    const cd = isObj(u.completion_tokens_details) ? u.completion_tokens_details : {};
    // DeepSeek reports cache hits at the top level (prompt_tokens = hits + misses).
    const cached = count(pd.cached_tokens) ?? count(u.prompt_cache_hit_tokens);
    return build(base, count(u.prompt_tokens), count(u.completion_tokens), {
      cached,
      reasoning: count(cd.reasoning_tokens),
    });
  }

  // OpenAI Responses API, and already-normalized usage (input_tokens includes cached ones in both).
  if (has(u, 'input_tokens', 'output_tokens')) {
    const id = isObj(u.input_tokens_details) ? u.input_tokens_details : {};
    const od = isObj(u.output_tokens_details) ? u.output_tokens_details : {};
    return build(base, count(u.input_tokens), count(u.output_tokens), {
      cached: count(u.cached_input_tokens) ?? count(id.cached_tokens),
      write: count(u.cache_write_tokens),
      reasoning: count(u.reasoning_tokens) ?? count(od.reasoning_tokens),
    });
  }

  // Vercel AI SDK 4 (`promptTokens`, `completionTokens`).
  if (has(u, 'promptTokens', 'completionTokens'))
    return build(base, count(u.promptTokens), count(u.completionTokens), {});

  return null;
}

/**
 * Normalizes a provider usage object, or a whole provider response that carries one (`{model, usage}`,
 * Gemini's `{modelVersion, usageMetadata}`), or an `llm_call` payload that is already normalized.
 * Returns null when nothing in `raw` is a token count. `hints` fill in what `raw` does not name;
 * a model or provider inside `raw` wins over the hint.
 *
 * Shapes: OpenAI Chat Completions (`prompt_tokens`, `completion_tokens`, `*_details`), OpenAI Responses
 * (`input_tokens`, `output_tokens`, `*_details`), Anthropic (`cache_read_input_tokens`,
 * `cache_creation_input_tokens`, added into input), Gemini (`promptTokenCount`, `candidatesTokenCount`,
 * `cachedContentTokenCount`, `thoughtsTokenCount`, thoughts added to output), DeepSeek
 * (`prompt_cache_hit_tokens`), Vercel AI SDK 4, and the normalized form itself.
 */
export function normalizeUsage(
  raw: unknown,
  hints: { provider?: string; model?: string } = {},
): NormalizedUsage | null {
  if (!isObj(raw)) return null;
  const base = {
    model: str(raw.model) ?? str(raw.modelVersion) ?? str(raw.model_version) ?? str(hints.model),
    provider: str(raw.provider) ?? str(hints.provider),
  };
  const meta = isObj(raw.usageMetadata) ? raw.usageMetadata : isObj(raw.usage_metadata) ? raw.usage_metadata : null;
  if (meta) return gemini(meta, base);
  if (isObj(raw.usage)) {
    const inner = fromUsageObject(raw.usage, base);
    if (inner) return inner;
  }
  return fromUsageObject(raw, base);
}
