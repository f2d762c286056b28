/**
 * `GET /v1/stats/overview` and `GET /v1/stats/agents/{id}`: dashboard figures from rollups;
 * `GET /v1/stats/adherence`: the org's policy adherence, from decisions.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../../platform/route-config.ts';

const Range = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

export function registerStatsRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/v1/stats/overview',
    { config: { permission: 'runs:read' }, schema: { querystring: Range, tags: ['stats'] } },
    async (req) => ctx.stats.overview(callerOf(req).orgId, req.query.from, req.query.to),
  );
  app.get(
    '/v1/stats/adherence',
    { config: { permission: 'runs:read' }, schema: { querystring: Range, tags: ['stats'] } },
    async (req) => ctx.stats.adherence(callerOf(req).orgId, req.query.from, req.query.to),
  );
  app.get(
    '/v1/stats/agents/:id',
    {
      config: { permission: 'runs:read' },
      schema: {
        params: z.object({ id: z.string().min(1).max(200) }),
        querystring: Range.extend({ bucket: z.enum(['hour', 'day']).default('day') }),
        tags: ['stats'],
      },
    },
    async (req) => ctx.stats.agent(callerOf(req).orgId, req.params.id, req.query.from, req.query.to, req.query.bucket),
  );
}
