/** `GET /v1/runs` and `GET /v1/runs/{id}` (the replay timeline). */
import { ListRunsQuery } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../../platform/route-config.ts';

export function registerRunRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/v1/runs',
    { config: { permission: 'runs:read' }, schema: { querystring: ListRunsQuery, tags: ['runs'] } },
    async (req) => {
      const { limit, cursor, ...filter } = req.query;
      return ctx.runs.list(callerOf(req).orgId, filter, limit, cursor);
    },
  );
  app.get(
    '/v1/runs/:id',
    {
      config: { permission: 'runs:read' },
      schema: { params: z.object({ id: z.string().min(1).max(200) }), tags: ['runs'] },
    },
    async (req) => ctx.runs.get(callerOf(req).orgId, req.params.id),
  );
}
