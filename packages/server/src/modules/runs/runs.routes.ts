/** `GET /v1/runs` and `GET /v1/runs/{id}` (the replay timeline). */
import { ListRunsQuery } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import type { Caller } from '../../platform/caller.ts';
import { AppError } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';
import { hideRunContent, mayViewContent } from '../privacy/index.ts';

export function registerRunRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  /** The team of each agent (a page names a few agents): team leads see their teams' content. */
  const teamsOf = async (caller: Caller, agentIds: string[]) => {
    const out = new Map<string, string | null>();
    if (!caller.permissions.has('view_content:team')) return out;
    for (const id of new Set(agentIds))
      out.set(
        id,
        await ctx.agents.get(caller.orgId, id).then(
          (a) => a.team_id,
          () => null,
        ),
      );
    return out;
  };
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
      const teams = await teamsOf(
        caller,
        page.data.map((r) => r.agent_id),
      );
      return {
        ...page,
        data: page.data.map((r) => (mayViewContent(caller, teams.get(r.agent_id)) ? r : hideRunContent(r))),
      };
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
      if (mayViewContent(caller)) return run;
      const teams = await teamsOf(caller, [run.agent_id]);
      return mayViewContent(caller, teams.get(run.agent_id)) ? run : hideRunContent(run);
    },
  );
}
