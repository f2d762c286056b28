/** `/v1/api-keys`: create (shown once), list (never the key), revoke (immediate). */
import { CreateApiKeyBody } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../route-config.ts';

export function registerApiKeyRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  app.get('/v1/api-keys', { config: { permission: 'api_keys:read' }, schema: { tags: ['api-keys'] } }, async (req) => ({
    data: await ctx.apiKeys.list(callerOf(req).orgId),
    next_cursor: null,
  }));
  app.post(
    '/v1/api-keys',
    { config: { permission: 'api_keys:manage' }, schema: { body: CreateApiKeyBody, tags: ['api-keys'] } },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(await ctx.apiKeys.create(callerOf(req), req.body));
    },
  );
  app.delete(
    '/v1/api-keys/:id',
    { config: { permission: 'api_keys:manage' }, schema: { params: z.object({ id: z.string() }), tags: ['api-keys'] } },
    async (req) => ctx.apiKeys.revoke(callerOf(req), req.params.id),
  );
}
