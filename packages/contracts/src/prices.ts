/**
 * @module prices
 * Model prices: the table the hub ships, an org's own overrides (negotiated, self-hosted or fine-tuned
 * models), and quotes. On the wire prices are USD per 1M tokens and costs are USD; the hub keeps both as
 * integers inside (pico-USD per token, nano-USD), so sums never drift.
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';

/** A price in USD per 1M tokens, at most 6 decimals (so it is exact inside the hub). */
export const UsdPerMillion = z
  .number()
  .min(0)
  .max(1_000_000)
  .refine((v) => Math.abs(v * 1e6 - Math.round(v * 1e6)) <= 1e-6 * Math.max(1, Math.round(v * 1e6)), {
    message: 'at most 6 decimals (USD per 1M tokens)',
  });

/**
 * Which models an override prices: a model name (dated and prefixed variants such as
 * `gpt-4o-2024-08-06` or `openai/gpt-4o` match it too, never `gpt-4o-mini`), or a glob with `*`.
 */
export const ModelPattern = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@/*+-]+$/, 'a model name or a pattern with *, such as gpt-4o or acme-llm-*');

export const ProviderName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a provider such as openai, anthropic, google or azure');

/**
 * An org's own price for a model; wins over the shipped table from `effective_from` on (default: for
 * every event, past ones included when they are re-enriched).
 * @example { "model": "gpt-4o", "provider": "openai", "input": 2.0, "cached_input": 1.0, "output": 8.0, "effective_from": "2025-07-01" }
 */
export const CreatePriceOverrideBody = z.object({
  /** Limit the override to calls of this provider; absent or null: any provider. */
  provider: ProviderName.nullable().optional(),
  model: ModelPattern,
  input: UsdPerMillion,
  cached_input: UsdPerMillion.optional(),
  cache_write: UsdPerMillion.optional(),
  output: UsdPerMillion,
  reasoning: UsdPerMillion.optional(),
  effective_from: z
    .union([z.iso.date(), z.iso.datetime({ offset: true })], {
      message: 'a date (2025-07-01) or an ISO-8601 timestamp',
    })
    .optional(),
});
export type CreatePriceOverrideBody = z.infer<typeof CreatePriceOverrideBody>;

export const PriceOverrideSchema = z.object({
  id: z.string(),
  provider: z.string().nullable(),
  model: z.string(),
  input: z.number(),
  cached_input: z.number().nullable(),
  cache_write: z.number().nullable(),
  output: z.number(),
  reasoning: z.number().nullable(),
  effective_from: IsoDate,
  created_by: z.string().nullable(),
  created_at: IsoDate,
});
export type PriceOverride = z.infer<typeof PriceOverrideSchema>;

/** One entry of the shipped table, prices in USD per 1M tokens. */
export const TablePriceSchema = z.object({
  provider: z.string().nullable(),
  model: z.string(),
  match: z.array(z.string()),
  input: z.number(),
  cached_input: z.number().nullable(),
  cache_write: z.number().nullable(),
  output: z.number(),
  reasoning: z.number().nullable(),
  /** Rates for the whole call when its input exceeds `above_input_tokens` (e.g. Gemini Pro past 200k). */
  long_context: z
    .object({
      above_input_tokens: z.number(),
      input: z.number().nullable(),
      cached_input: z.number().nullable(),
      cache_write: z.number().nullable(),
      output: z.number().nullable(),
      reasoning: z.number().nullable(),
    })
    .nullable(),
  effective_from: IsoDate,
  effective_to: IsoDate.nullable(),
});
export type TablePrice = z.infer<typeof TablePriceSchema>;

export const PricesResponse = z.object({
  unit: z.literal('USD per 1M tokens'),
  /** Where each provider's prices come from. */
  sources: z.record(z.string(), z.string()),
  table: z.array(TablePriceSchema),
  overrides: z.array(PriceOverrideSchema),
});

const tokens = z.coerce.number().int().min(0).max(1e12);

/**
 * `GET /v1/prices/quote`: what a call would cost (the org's overrides first, then the table).
 * @example ?model=gpt-4o&input_tokens=1000&output_tokens=500
 */
export const PriceQuoteQuery = z.object({
  model: z.string().trim().min(1).max(200),
  provider: z.string().trim().max(100).optional(),
  input_tokens: tokens.default(0),
  output_tokens: tokens.default(0),
  cached_input_tokens: tokens.optional(),
  cache_write_tokens: tokens.optional(),
  reasoning_tokens: tokens.optional(),
  /** Price in force at this time (default: now). */
  at: z.iso.datetime({ offset: true }).optional(),
});
export type PriceQuoteQuery = z.infer<typeof PriceQuoteQuery>;

export const PriceQuoteResult = z.object({
  model: z.string(),
  provider: z.string().nullable(),
  at: IsoDate,
  /** null when no price is known for this model at that time: unknown, not free. */
  cost_usd: z.number().nullable(),
  unknown: z.boolean(),
  matched: z
    .object({
      provider: z.string().nullable(),
      model: z.string(),
      source: z.enum(['table', 'override']),
      id: z.string().optional(),
    })
    .nullable(),
});
export type PriceQuoteResult = z.infer<typeof PriceQuoteResult>;
