/** HTTP routes of the agent registry: `/v1/agents`. */
import { CreateAgentBody, ListAgentsQuery, UpdateAgentBody } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../../platform/route-config.ts';

const IdParams = z.object({ id: z.string().min(1).max(200) });

export function registerAgentRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const { agents } = ctx;

  app.post(
    '/v1/agents',
    // agents:create passes with the team variant too; the service checks the team.
    { config: { permission: 'agents:create' }, schema: { body: CreateAgentBody, tags: ['agents'] } },
    async (req, reply) => reply.status(201).send(await agents.create(callerOf(req), req.body)),
  );
  app.get(
    '/v1/agents',
    { config: { permission: 'agents:read' }, schema: { querystring: ListAgentsQuery, tags: ['agents'] } },
    async (req) => {
      const { limit, cursor, ...filter } = req.query;
      return agents.list(callerOf(req).orgId, { ...filter, beforeId: cursor }, limit);
    },
  );
  app.get(
    '/v1/agents/:id',
    { config: { permission: 'agents:read' }, schema: { params: IdParams, tags: ['agents'] } },
    async (req) => agents.get(callerOf(req).orgId, req.params.id),
  );
  app.patch(
    '/v1/agents/:id',
    { config: { permission: 'agents:edit' }, schema: { params: IdParams, body: UpdateAgentBody, tags: ['agents'] } },
    async (req) => agents.update(callerOf(req), req.params.id, req.body),
  );
  app.delete(
    '/v1/agents/:id',
    { config: { permission: 'agents:delete' }, schema: { params: IdParams, tags: ['agents'] } },
    async (req, reply) => {
      await agents.remove(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
}
