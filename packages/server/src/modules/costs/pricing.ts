/**
 * @module pricing
 * Model prices and cost quotes, as pure functions (no database, no clock): the shipped price table
 * (`price-table.json`), an org's own overrides, and the cost of one LLM call from its normalized usage.
 *
 * Money is kept as integers so sums never drift:
 * - prices: integer **pico-USD per token** (1e-12 USD). That is the same number as micro-USD per 1M
 *   tokens, so any price with up to 6 decimals in "USD per 1M tokens" is exact (Gemini 1.5 Flash's
 *   cached $0.01875/M → 18_750 pico-USD/token; nano-USD per token could not hold it).
 * - costs: integer **nano-USD** (`cost_nano`, 1e-9 USD), rounded half up once per call from the exact
 *   pico-USD total (BigInt arithmetic, so even 1e12 tokens at $600/M cannot overflow). A JS number holds
 *   nano-USD exactly up to ~$9M per value, far beyond one call or one rollup bucket.
 *
 * A client-sent `cost_usd` is trusted: callers (ingestion enrichment) convert it with `usdToNano` and
 * do not call `quote()` at all. `quote()` is only for calls that arrive without a cost.
 *
 * It is longer than 400 lines because table, matching and cost math sit together (split out model names next).
 *
 * @example
 * const pricer = createPricer(loadPriceTable(JSON.parse(readFileSync('price-table.json', 'utf8'))));
 * pricer.quote({ model: 'openai/gpt-4o-2024-08-06', input_tokens: 1000, output_tokens: 500 }, Date.now());
 * // → { cost_nano: 7_500_000, matched: { provider: 'openai', model: 'gpt-4o', source: 'table' } }  ($0.0075)
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { NormalizedUsage } from './usage-normalizer.ts';

/** Prices of one model in integer pico-USD per token (= micro-USD per 1M tokens). */
export interface Rates {
  input: number;
  /** Cache reads / cache hits; defaults to `input`. */
  cached_input?: number;
  /** Cache writes (Anthropic's 5-minute write); defaults to `input`. */
  cache_write?: number;
  output: number;
  /** Reasoning/thinking tokens (a subset of output); defaults to `output`. */
  reasoning?: number;
}

/** Rates for a whole call whose input (cached and cache-write tokens included) exceeds `above_input_tokens`. */
export interface LongContextRates extends Partial<Rates> {
  above_input_tokens: number;
}

export interface PriceEntry extends Rates {
  /** Canonical provider (`openai`, `anthropic`, `google`, …); null on an override that fits any provider. */
  provider: string | null;
  /** Display name of the model. */
  model: string;
  /** Patterns, see `matchScore`: a model name (dated and prefixed variants match too) or a `*` glob. */
  match: string[];
  long_context?: LongContextRates;
  /** Epoch ms, inclusive. */
  effective_from: number;
  /** Epoch ms, exclusive; absent = still in force. */
  effective_to?: number | null;
  /** The override's id (overrides only). */
  id?: string;
}

export interface PriceTable {
  unit: string;
  sources: Record<string, string>;
  entries: PriceEntry[];
}

export interface PriceQuote {
  /** Integer nano-USD; null when no price is known for the model at that time (flag it, never $0). */
  cost_nano: number | null;
  matched: { provider: string | null; model: string; source: 'table' | 'override'; id?: string } | null;
}

// ---------------------------------------------------------------------------------------------------
// Money units

/** USD per 1M tokens (≤ 6 decimals) → integer pico-USD per token. Exact for decimal strings. */
export function usdPerMillionToPico(x: string | number): number {
  if (typeof x === 'string') {
    const m = /^(\d{1,9})(?:\.(\d{1,6}))?$/.exec(x.trim());
    if (!m) throw new RangeError(`"${x}" is not a price in USD per 1M tokens with at most 6 decimals`);
    return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
  }
  if (!Number.isFinite(x) || x < 0 || x > 1e9) throw new RangeError(`${x} is not a price in USD per 1M tokens`);
  const pico = Math.round(x * 1_000_000);
  // 0.075 * 1e6 is 75000.00000000001: tolerate float noise, refuse a seventh decimal.
  if (Math.abs(x * 1_000_000 - pico) > 1e-6 * Math.max(1, pico))
    throw new RangeError(`${x}: at most 6 decimals in USD per 1M tokens`);
  return pico;
}

/** Integer pico-USD per token → USD per 1M tokens, for display (exact: at most 6 decimals). */
export const picoToUsdPerMillion = (pico: number): number => pico / 1_000_000;

/** Integer nano-USD → USD. */
export const nanoToUsd = (nano: number): number => nano / 1e9;

/** USD → integer nano-USD, rounded to the nearest nano (exact below ~$9M). */
export const usdToNano = (usd: number): number => Math.round(usd * 1e9);

// ---------------------------------------------------------------------------------------------------
// Names

const PROVIDER_ALIASES: Record<string, string> = {
  azure: 'openai',
  azure_openai: 'openai',
  'azure.ai.openai': 'openai',
  openai: 'openai',
  anthropic: 'anthropic',
  google: 'google',
  gemini: 'google',
  google_genai: 'google',
  'google-genai': 'google',
  vertex: 'google',
  vertex_ai: 'google',
  vertexai: 'google',
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  mistral: 'mistral',
  mistralai: 'mistral',
  mistral_ai: 'mistral',
  together: 'together',
  together_ai: 'together',
  togetherai: 'together',
  groq: 'groq',
  deepseek: 'deepseek',
};

/** Canonical provider name: `azure.ai.openai` → `openai`, `gcp.vertex_ai` → `google`; unknown ones lowercased. */
export function canonicalProvider(p: string | null | undefined): string | null {
  if (!p) return null;
  const k = p.trim().toLowerCase();
  return k ? (PROVIDER_ALIASES[k] ?? k) : null;
}

// Bedrock model ids: `us.anthropic.claude-…-v2:0`, `meta.llama3-1-70b-instruct-v1:0`.
const BEDROCK_PREFIX =
  /^(?:(?:us|eu|apac|global|us-gov|ca|jp|au|sa)\.)?(anthropic|meta|mistral|amazon|cohere|ai21|deepseek|openai|google|qwen|writer)\./;

/**
 * The comparable form of a model name (or pattern): lowercase, without routing prefixes
 * (`openai/`, `models/`, `azure/`, `meta-llama/`, Bedrock's `us.anthropic.`), with dots between digits
 * as dashes so `claude-3.5-sonnet` and `claude-3-5-sonnet` (or `gemini-2.5-pro` and Bedrock-style
 * `gemini-2-5-pro`) are one name. Also returns the provider the prefix names, as a hint.
 */
export function canonicalModel(name: string): { model: string; providerHint: string | null } {
  let s = name.trim().toLowerCase();
  let hint: string | null = null;
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    hint = s.slice(0, s.indexOf('/'));
    s = s.slice(slash + 1);
  }
  const bedrock = BEDROCK_PREFIX.exec(s);
  if (bedrock) {
    hint ??= bedrock[1]!;
    s = s.slice(bedrock[0].length);
  }
  return { model: s.replace(/(\d)\.(?=\d)/g, '$1-'), providerHint: hint };
}

/**
 * What may follow a pattern and still be the same model: dates and versions (`-2024-08-06`,
 * `-20241022`, `-0613`, `-001`, `-preview-05-20`, `-preview-09-2025`, `-latest`, `-exp`, Bedrock's `-v2:0`, Vertex's
 * `@20241022`). Not a word (`-mini`, `-lite`, `-pro`, `-realtime`) and not a lone digit (`-4-5` after
 * `claude-opus-4`): those are other models, so `gpt-4o-mini` is never priced as `gpt-4o`.
 */
const VERSION_SUFFIX =
  /^(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|\d{2}-\d{2}|\d{2}-\d{4}|latest|preview|exp|v\d+(?::\d+)?))+$/;

interface CompiledPattern {
  literal?: string;
  glob?: RegExp;
  /** Longer literal text = more specific. */
  weight: number;
}

function compilePattern(pattern: string): CompiledPattern {
  const p = canonicalModel(pattern).model;
  if (!p.includes('*')) return { literal: p, weight: p.length };
  const rx = p
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { glob: new RegExp(`^${rx}$`), weight: p.replaceAll('*', '').length };
}

/** 0 = no match; otherwise higher = more specific (an exact name beats the same name with a date). */
function matchScore(c: CompiledPattern, model: string): number {
  if (c.glob) return c.glob.test(model) ? c.weight * 2 : 0;
  const lit = c.literal!;
  if (model === lit) return lit.length * 2 + 1;
  if (model.startsWith(lit) && VERSION_SUFFIX.test(model.slice(lit.length))) return lit.length * 2;
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// Loading the table

const Price = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return usdPerMillionToPico(v);
  } catch (e) {
    ctx.issues.push({ code: 'custom', message: (e as Error).message, input: v });
    return z.NEVER;
  }
});

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2025-01-31')
  .transform((d, ctx) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    if (Number.isNaN(t)) {
      ctx.issues.push({ code: 'custom', message: `${d} is not a date`, input: d });
      return z.NEVER;
    }
    return t;
  });

const RateFields = {
  input: Price,
  cached_input: Price.optional(),
  cache_write: Price.optional(),
  output: Price,
  reasoning: Price.optional(),
};

const TableEntrySchema = z
  .object({
    provider: z.string().min(1).max(100),
    model: z.string().min(1).max(200),
    match: z.array(z.string().min(1).max(200)).min(1),
    ...RateFields,
    long_context: z
      .object({
        above_input_tokens: z.number().int().positive(),
        input: Price.optional(),
        cached_input: Price.optional(),
        cache_write: Price.optional(),
        output: Price.optional(),
        reasoning: Price.optional(),
      })
      .optional(),
    effective_from: Day,
    effective_to: Day.optional(),
  })
  .refine((e) => e.effective_to === undefined || e.effective_to > e.effective_from, {
    message: 'effective_to must be after effective_from',
    path: ['effective_to'],
  });

const TableSchema = z.object({
  unit: z.literal('USD per 1M tokens'),
  notes: z.string().optional(),
  sources: z.record(z.string(), z.string()),
  models: z.array(TableEntrySchema),
});

/**
 * Validates a price table (the parsed JSON of `price-table.json`) and converts its prices to integer
 * pico-USD per token. Throws on a bad price, a bad date, or two periods of one pattern that overlap
 * (the entry in force at a given time must be unambiguous).
 */
export function loadPriceTable(json: unknown): PriceTable {
  const parsed = TableSchema.parse(json);
  const entries: PriceEntry[] = parsed.models.map((m) => ({
    ...m,
    provider: canonicalProvider(m.provider),
    effective_to: m.effective_to ?? null,
  }));
  const periods = new Map<string, PriceEntry[]>();
  for (const e of entries) {
    // Patterns equal once canonical (`claude-3.5-sonnet`, `claude-3-5-sonnet`) are one pattern.
    for (const pattern of new Set(e.match.map((m) => canonicalModel(m).model))) {
      const key = `${e.provider}|${pattern}`;
      const list = periods.get(key) ?? [];
      for (const o of list) {
        const overlap =
          e.effective_from < (o.effective_to ?? Number.POSITIVE_INFINITY) &&
          o.effective_from < (e.effective_to ?? Number.POSITIVE_INFINITY);
        if (overlap) throw new Error(`price table: "${pattern}" (${e.provider}) has overlapping effective periods`);
      }
      list.push(e);
      periods.set(key, list);
    }
  }
  return { unit: parsed.unit, sources: parsed.sources, entries };
}

/** The table shipped with the hub (`price-table.json` next to this file), validated. */
export function loadShippedPriceTable(): PriceTable {
  return loadPriceTable(JSON.parse(readFileSync(new URL('./price-table.json', import.meta.url), 'utf8')));
}

// ---------------------------------------------------------------------------------------------------
// Quoting

const big = (n: number | undefined) => BigInt(Math.max(0, Math.trunc(n ?? 0)));

/**
 * Exact cost in pico-USD. `input_tokens` counts ALL input tokens; cached and cache-write tokens are
 * subsets of it billed at their own rates (clamped so a bad report cannot go negative).
 * `reasoning_tokens` is a subset of `output_tokens`.
 */
export function costPico(usage: NormalizedUsage, entry: Rates & { long_context?: LongContextRates }): bigint {
  const input = big(usage.input_tokens);
  const output = big(usage.output_tokens);
  const long = entry.long_context && usage.input_tokens > entry.long_context.above_input_tokens;
  const r = long ? { ...entry, ...stripUndefined(entry.long_context!) } : entry;
  const cached = minBig(big(usage.cached_input_tokens), input);
  const write = minBig(big(usage.cache_write_tokens), input - cached);
  const reasoning = minBig(big(usage.reasoning_tokens), output);
  return (
    (input - cached - write) * BigInt(r.input) +
    cached * BigInt(r.cached_input ?? r.input) +
    write * BigInt(r.cache_write ?? r.input) +
    (output - reasoning) * BigInt(r.output) +
    reasoning * BigInt(r.reasoning ?? r.output)
  );
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Integer nano-USD from pico-USD, half up. */
const picoToNano = (pico: bigint): number => Number((pico + 500n) / 1000n);

interface Candidate {
  entry: PriceEntry;
  score: number;
}

const compiledCache = new WeakMap<PriceEntry, CompiledPattern[]>();
function compiledOf(e: PriceEntry): CompiledPattern[] {
  let c = compiledCache.get(e);
  if (!c) {
    c = e.match.map(compilePattern);
    compiledCache.set(e, c);
  }
  return c;
}

function candidatesOf(entries: readonly PriceEntry[], model: string): Candidate[] {
  const out: Candidate[] = [];
  for (const entry of entries) {
    let score = 0;
    for (const c of compiledOf(entry)) score = Math.max(score, matchScore(c, model));
    if (score) out.push({ entry, score });
  }
  return out;
}

const inForce = (e: PriceEntry, at: number) =>
  e.effective_from <= at && (e.effective_to === undefined || e.effective_to === null || at < e.effective_to);

/**
 * The entry in force at `at`: the most specific pattern wins, then the latest `effective_from`.
 * `strictProvider`: entries naming another provider are excluded (overrides); otherwise entries of the
 * call's provider are only preferred, so Claude on Bedrock or Vertex still finds Anthropic's prices.
 */
function pick(cands: Candidate[], at: number, provider: string | null, strictProvider: boolean): PriceEntry | null {
  let live = cands.filter((c) => inForce(c.entry, at));
  if (provider) {
    if (strictProvider) live = live.filter((c) => c.entry.provider === null || c.entry.provider === provider);
    else if (live.some((c) => c.entry.provider === provider)) live = live.filter((c) => c.entry.provider === provider);
  }
  let best: Candidate | null = null;
  for (const c of live) {
    if (!best || c.score > best.score || (c.score === best.score && c.entry.effective_from > best.entry.effective_from))
      best = c;
  }
  return best?.entry ?? null;
}

const MAX_CACHED_NAMES = 10_000;

/**
 * A pricer over one table. Matching a name against the table is cached per canonical name (the table
 * never changes); overrides are matched per call (an org has a handful).
 */
export function createPricer(table: PriceTable) {
  const byName = new Map<string, Candidate[]>();

  function tableCandidates(model: string): Candidate[] {
    let c = byName.get(model);
    if (!c) {
      if (byName.size >= MAX_CACHED_NAMES) byName.clear();
      c = candidatesOf(table.entries, model);
      byName.set(model, c);
    }
    return c;
  }

  return {
    unit: table.unit,
    sources: table.sources,
    entries: table.entries,

    /**
     * The cost of one LLM call at `at` (epoch ms, the event's time). Overrides (the org's own prices)
     * win over the table. Unknown model → `cost_nano: null`, never 0.
     * Do not call it when the client sent `cost_usd`: that cost is trusted as is.
     */
    quote(usage: NormalizedUsage, at: number, overrides?: readonly PriceEntry[]): PriceQuote {
      if (!usage.model) return { cost_nano: null, matched: null };
      const { model, providerHint } = canonicalModel(usage.model);
      const provider = canonicalProvider(usage.provider) ?? canonicalProvider(providerHint);
      if (overrides?.length) {
        const o = pick(candidatesOf(overrides, model), at, provider, true);
        if (o) return { cost_nano: picoToNano(costPico(usage, o)), matched: describe(o, 'override') };
      }
      const e = pick(tableCandidates(model), at, provider, false);
      if (!e) return { cost_nano: null, matched: null };
      return { cost_nano: picoToNano(costPico(usage, e)), matched: describe(e, 'table') };
    },
  };
}

function describe(e: PriceEntry, source: 'table' | 'override'): NonNullable<PriceQuote['matched']> {
  return e.id
    ? { provider: e.provider, model: e.model, source, id: e.id }
    : { provider: e.provider, model: e.model, source };
}

export type Pricer = ReturnType<typeof createPricer>;
