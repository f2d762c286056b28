/** `POST /v1/ingest/run` and `POST /v1/ingest/events`: 202 once the write is committed. */
import { IngestEventsBody, IngestRunBody } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HubContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';

export function registerIngestionRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
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
    async (req, reply) => reply.status(202).send(await ctx.ingestion.ingestEvents(callerOf(req), req.body.events)),
  );
}
