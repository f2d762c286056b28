/**
 * `POST /v1/ingest/run` and `POST /v1/ingest/events`: 202 once the write is committed.
 *
 * Bounded: the body limit, at most 1000 events per request (the contract: 400 beyond), JSON at most
 * `MAX_JSON_DEPTH` deep (platform/json-body.ts), and at most `DEFAULT_ORG_CONCURRENCY` large requests of one
 * org at once (429 with Retry-After beyond; small bodies, the agents' usual traffic, take no slot).
 */
import { IngestEventsBody, IngestRunBody } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HubContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';
import { addRouteHook } from '../../platform/route-hooks.ts';
import { createOrgConcurrency, DEFAULT_ORG_CONCURRENCY } from './org-concurrency.ts';

/** Bodies from this size take a concurrency slot: below it, parsing and validating cost well under 1 ms. */
const HEAVY_BODY_BYTES = 64 * 1024;

export function registerIngestionRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const slots = createOrgConcurrency({ limit: DEFAULT_ORG_CONCURRENCY, minBytes: HEAVY_BODY_BYTES });
  // The slot is taken in the routes' onRequest stage, after authentication (app.ts appends the auth hook
  // when a route is declared, before this hook runs) and before the body is read: see requestHook.
  const slotted = new Set(['/v1/ingest/run', '/v1/ingest/events']);
  app.addHook('onRoute', (route) => {
    if (slotted.has(route.url)) addRouteHook(route, 'onRequest', slots.requestHook);
  });
  app.post(
    '/v1/ingest/run',
    {
      config: { permission: 'ingest:write', rateBucket: 'ingest' },
      schema: { body: IngestRunBody, tags: ['ingestion'] },
    },
    async (req, reply) => {
      const r = await ctx.ingestion.ingestRun(callerOf(req), req.body);
      if ('errors' in r && r.errors)
        throw new AppError(
          'validation_failed',
          `Invalid run: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
          {
            errors: r.errors,
          },
        );
      return reply.status(202).send(r);
    },
  );
  app.post(
    '/v1/ingest/events',
    {
      config: { permission: 'ingest:write', rateBucket: 'ingest' },
      schema: { body: IngestEventsBody, tags: ['ingestion'] },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const r = await ctx.ingestion.ingestEvents(caller, req.body.events);
      ctx.ingestion.reportRejected(caller.orgId, 'events', r.rejected);
      return reply.status(202).send(r);
    },
  );
}
