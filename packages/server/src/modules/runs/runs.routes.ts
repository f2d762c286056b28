/** `GET /v1/runs` and `GET /v1/runs/{id}` (the replay timeline). */
import { ListRunsQuery } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';
import { hideRunContent, mayViewContent } from '../privacy/index.ts';

export function registerRunRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/v1/runs',
    { config: { permission: 'runs:read' }, schema: { querystring: ListRunsQuery, tags: ['runs'] } },
    async (req) => {
      const { limit, cursor, ...filter } = req.query;
      const caller = callerOf(req);
      // Without view_content, content stays hidden — a text search would reveal it by elimination.
      if (mayViewContent(caller)) return ctx.runs.list(caller.orgId, filter, limit, cursor);
      if (filter.q) throw new AppError('forbidden', 'Searching run content needs the view_content permission.');
      const page = await ctx.runs.list(caller.orgId, filter, limit, cursor);
      return { ...page, data: page.data.map(hideRunContent) };
    },
  );
  app.get(
    '/v1/runs/:id',
    {
      config: { permission: 'runs:read' },
      schema: { params: z.object({ id: z.string().min(1).max(200) }), tags: ['runs'] },
    },
    async (req) => {
      const caller = callerOf(req);
      const run = await ctx.runs.get(caller.orgId, req.params.id);
      return mayViewContent(caller) ? run : hideRunContent(run);
    },
  );
}
