/**
 * HTTP routes of webhooks. Permissions: reading needs `integrations:read`, changing needs
 * `integrations:manage`. Another org's webhook id answers 404 (the service looks it up org-scoped).
 */
import { CreateWebhookBody, PageQuery, pageOf, WebhookDeliverySchema, WebhookSchema } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../route-config.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });

export function registerWebhookRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'webhooks'>) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['webhooks'];

  r.get(
    '/v1/webhooks',
    { schema: { tags, response: { 200: pageOf(WebhookSchema) } }, config: { permission: 'integrations:read' } },
    async (request) => {
      // An org has a handful of webhooks: one page, no cursor.
      return { data: await ctx.webhooks.list(callerOf(request).orgId), next_cursor: null };
    },
  );

  r.post(
    '/v1/webhooks',
    {
      schema: {
        tags,
        description: 'Registers a webhook. The answer holds `secret`, shown this once: keep it to verify signatures.',
        body: CreateWebhookBody,
        response: { 201: WebhookSchema.extend({ secret: z.string() }) },
      },
      config: { permission: 'integrations:manage' },
    },
    async (request, reply) => {
      const created = await ctx.webhooks.create(callerOf(request), request.body);
      return reply.status(201).send(created);
    },
  );

  r.delete(
    '/v1/webhooks/:id',
    { schema: { tags, params: IdParams }, config: { permission: 'integrations:manage' } },
    async (request, reply) => {
      await ctx.webhooks.remove(callerOf(request), request.params.id);
      return reply.status(204).send();
    },
  );

  r.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: { tags, params: IdParams, querystring: PageQuery, response: { 200: pageOf(WebhookDeliverySchema) } },
      config: { permission: 'integrations:read' },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      return ctx.webhooks.deliveries(callerOf(request).orgId, request.params.id, { limit, cursor });
    },
  );

  r.post(
    '/v1/webhooks/:id/test',
    {
      schema: {
        tags,
        description: 'Sends a signed `webhook.test` event now (one attempt) and answers with the delivery.',
        params: IdParams,
        response: { 200: WebhookDeliverySchema },
      },
      config: { permission: 'integrations:manage' },
    },
    async (request) => ctx.webhooks.sendTest(callerOf(request), request.params.id),
  );
}
