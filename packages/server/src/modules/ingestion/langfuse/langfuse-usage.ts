/**
 * @module langfuse-usage
 * Langfuse's usage and cost fields, in every shape its SDKs send, brought to the hub's `llm_call` usage
 * (`input_tokens` counts all input, cached included; `output_tokens` all output, reasoning included; the
 * cached, cache-write and reasoning counts are subsets). Pure.
 *
 * - `usageDetails` (preferred by Langfuse): generic keys that add up (`input`, `input_cached_tokens`,
 *   `input_audio`…, `output`, `output_reasoning_tokens`…, `total`), Anthropic's `cache_read_input_tokens`,
 *   or a raw OpenAI usage object (Chat Completions or Responses), which the shared normalizer reads.
 * - `usage` (deprecated): `{input, output, total, unit, inputCost, outputCost, totalCost}` or OpenAI's
 *   `{promptTokens, completionTokens, totalTokens}`. A unit other than TOKENS (characters, images, seconds)
 *   is not a token count: it is kept on the payload as `units`, never priced as tokens.
 * - Cost: `costDetails` (`total`, else the sum of its parts), then `usage.totalCost` (or input + output
 *   cost), then `calculatedTotalCost`. When none is sent the hub prices the call from its price table.
 *
 * @example
 * usageOfLangfuse({ usageDetails: { input: 80, input_cached_tokens: 20, output: 8 } });
 * // → { input_tokens: 100, output_tokens: 8, cached_input_tokens: 20 }
 */
import { normalizeUsage } from '../../costs/index.ts';

type Obj = Record<string, unknown>;

export interface LangfuseUsage {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
  total_tokens?: number;
  /** Usage in a unit other than tokens, as sent. */
  units?: { unit: string; input?: number; output?: number; total?: number };
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function count(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1e12) return undefined;
  return Math.round(n);
}

function amount(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1e9 ? n : undefined;
}

const first = (o: Obj, keys: string[]) => keys.map((k) => count(o[k])).find((n) => n !== undefined);

/** Langfuse's generic usage details: every `input*` key is a part of the input, every `output*` of the output. */
function fromDetails(d: Obj): LangfuseUsage | undefined {
  // A raw provider usage object (Langfuse accepts OpenAI's as is): the shared normalizer knows them.
  if ('prompt_tokens' in d || 'completion_tokens' in d || isObj(d.input_tokens_details)) {
    const n = normalizeUsage(d);
    if (!n) return undefined;
    const { model: _model, provider: _provider, ...usage } = n;
    return usage;
  }
  let input: number | undefined;
  let output: number | undefined;
  for (const [k, v] of Object.entries(d)) {
    const n = count(v);
    if (n === undefined) continue;
    if (k === 'input' || k.startsWith('input_') || k.endsWith('_input_tokens')) input = (input ?? 0) + n;
    else if (k === 'output' || k.startsWith('output_')) output = (output ?? 0) + n;
  }
  const total = count(d.total);
  if (input === undefined && output === undefined) {
    if (total === undefined) return undefined;
    input = total; // only a total: priced as input, like the OTel mapping does
  }
  const cached = first(d, ['input_cached_tokens', 'input_cache_read', 'cache_read_input_tokens', 'input_cached']);
  const write = first(d, ['input_cache_creation', 'input_cache_write', 'cache_creation_input_tokens']);
  const reasoning = first(d, ['output_reasoning_tokens', 'output_reasoning']);
  return {
    input_tokens: input ?? 0,
    output_tokens: output ?? 0,
    ...(cached !== undefined ? { cached_input_tokens: cached } : {}),
    ...(write !== undefined ? { cache_write_tokens: write } : {}),
    ...(reasoning !== undefined ? { reasoning_tokens: reasoning } : {}),
    ...(total !== undefined ? { total_tokens: total } : {}),
  };
}

/** The deprecated `usage` object. */
function fromUsage(u: Obj): LangfuseUsage | undefined {
  if ('promptTokens' in u || 'completionTokens' in u || 'totalTokens' in u) {
    const input = count(u.promptTokens);
    const output = count(u.completionTokens);
    const total = count(u.totalTokens);
    if (input === undefined && output === undefined && total === undefined) return undefined;
    return {
      input_tokens: input ?? (output === undefined ? (total ?? 0) : 0),
      output_tokens: output ?? 0,
      ...(total !== undefined ? { total_tokens: total } : {}),
    };
  }
  const input = count(u.input);
  const output = count(u.output);
  const total = count(u.total);
  if (input === undefined && output === undefined && total === undefined) return undefined;
  const unit = typeof u.unit === 'string' ? u.unit.toUpperCase() : 'TOKENS';
  if (unit !== 'TOKENS') {
    const units = { unit, ...(input !== undefined ? { input } : {}), ...(output !== undefined ? { output } : {}) };
    return { input_tokens: 0, output_tokens: 0, units: { ...units, ...(total !== undefined ? { total } : {}) } };
  }
  return {
    input_tokens: input ?? (output === undefined ? (total ?? 0) : 0),
    output_tokens: output ?? 0,
    ...(total !== undefined ? { total_tokens: total } : {}),
  };
}

/** Usage of a generation: `usageDetails` first, then `usage`; undefined when it reports none. */
export function usageOfLangfuse(body: { usageDetails?: unknown; usage?: unknown }): LangfuseUsage | undefined {
  return (
    (isObj(body.usageDetails) ? fromDetails(body.usageDetails) : undefined) ??
    (isObj(body.usage) ? fromUsage(body.usage) : undefined)
  );
}

/** The cost the client reports (USD), trusted when sent; undefined lets the hub price the call. */
export function costOfLangfuse(body: {
  costDetails?: unknown;
  usage?: unknown;
  calculatedTotalCost?: unknown;
}): number | undefined {
  if (isObj(body.costDetails)) {
    const total = amount(body.costDetails.total);
    if (total !== undefined) return total;
    const parts = Object.values(body.costDetails)
      .map(amount)
      .filter((n) => n !== undefined);
    if (parts.length) return parts.reduce((a, b) => a + b, 0);
  }
  if (isObj(body.usage)) {
    const total = amount(body.usage.totalCost);
    if (total !== undefined) return total;
    const input = amount(body.usage.inputCost);
    const output = amount(body.usage.outputCost);
    if (input !== undefined || output !== undefined) return (input ?? 0) + (output ?? 0);
  }
  return amount(body.calculatedTotalCost);
}
