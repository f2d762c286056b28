/** HTTP routes of model prices: `/v1/prices` (table + overrides), quotes, and an org's overrides. */
import {
  CreatePriceOverrideBody,
  PriceQuoteQuery,
  type PriceQuoteResult,
  type TablePrice,
} from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../../platform/route-config.ts';
import type { PriceOverrideService } from './price-overrides.service.ts';
import { nanoToUsd, type PriceEntry, type Pricer, picoToUsdPerMillion } from './pricing.ts';

const IdParams = z.object({ id: z.string().min(1).max(200) });

/** What the routes use of the hub context (`HubContext` satisfies it). */
export interface PriceRoutesContext {
  pricer: Pricer;
  priceOverrides: PriceOverrideService;
  clock: () => number;
}

const usd = (pico: number | undefined | null) =>
  pico === undefined || pico === null ? null : picoToUsdPerMillion(pico);
const day = (t: number) => new Date(t).toISOString();

function toTablePrice(e: PriceEntry): TablePrice {
  const lc = e.long_context;
  return {
    provider: e.provider,
    model: e.model,
    match: e.match,
    input: usd(e.input)!,
    cached_input: usd(e.cached_input),
    cache_write: usd(e.cache_write),
    output: usd(e.output)!,
    reasoning: usd(e.reasoning),
    long_context: lc
      ? {
          above_input_tokens: lc.above_input_tokens,
          input: usd(lc.input),
          cached_input: usd(lc.cached_input),
          cache_write: usd(lc.cache_write),
          output: usd(lc.output),
          reasoning: usd(lc.reasoning),
        }
      : null,
    effective_from: day(e.effective_from),
    effective_to: e.effective_to ? day(e.effective_to) : null,
  };
}

export function registerPriceRoutes(appIn: FastifyInstance, ctx: PriceRoutesContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const { pricer, priceOverrides } = ctx;
  // The table never changes while the hub runs: map it once.
  const table = pricer.entries.map(toTablePrice);

  app.get('/v1/prices', { config: { permission: 'budgets:read' }, schema: { tags: ['costs'] } }, async (req) => ({
    unit: 'USD per 1M tokens' as const,
    sources: pricer.sources,
    table,
    overrides: await priceOverrides.list(callerOf(req).orgId),
  }));

  app.get(
    '/v1/prices/quote',
    { config: { permission: 'budgets:read' }, schema: { querystring: PriceQuoteQuery, tags: ['costs'] } },
    async (req): Promise<PriceQuoteResult> => {
      const { at: atIso, ...usage } = req.query;
      const at = atIso ? Date.parse(atIso) : ctx.clock();
      const q = pricer.quote(usage, at, await priceOverrides.overridesFor(callerOf(req).orgId));
      return {
        model: usage.model,
        provider: usage.provider ?? null,
        at: new Date(at).toISOString(),
        cost_usd: q.cost_nano === null ? null : nanoToUsd(q.cost_nano),
        unknown: q.cost_nano === null,
        matched: q.matched,
      };
    },
  );

  app.post(
    '/v1/prices/overrides',
    // budgets:manage:team passes the route check; the service then refuses it (overrides are org-wide).
    { config: { permission: 'budgets:manage' }, schema: { body: CreatePriceOverrideBody, tags: ['costs'] } },
    async (req, reply) => reply.status(201).send(await priceOverrides.create(callerOf(req), req.body)),
  );

  app.delete(
    '/v1/prices/overrides/:id',
    { config: { permission: 'budgets:manage' }, schema: { params: IdParams, tags: ['costs'] } },
    async (req, reply) => {
      await priceOverrides.remove(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
}
