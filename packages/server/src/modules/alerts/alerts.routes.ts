/**
 * `/v1/alerts`: alert rules (list, create, read, change, delete), their history
 * (`GET /v1/alerts/{id}/events`) and a test-fire (`POST /v1/alerts/{id}/test`). Reading needs
 * `runs:read` (alerts are about runs); changing a rule or test-firing it, which sends mail and webhooks,
 * needs `integrations:manage`.
 */
import { AlertEventSchema, AlertSchema, CreateAlertBody, UpdateAlertBody } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../../platform/route-config.ts';
import type { AlertService } from './alerts.service.ts';

const IdParams = z.object({ id: z.string().min(1).max(200) });

export function registerAlertRoutes(appIn: FastifyInstance, ctx: { alerts: AlertService }) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const { alerts } = ctx;
  const tags = ['alerts'];

  app.get(
    '/v1/alerts',
    {
      config: { permission: 'runs:read' },
      schema: { response: { 200: z.object({ data: z.array(AlertSchema), next_cursor: z.null() }) }, tags },
    },
    // At most ORG_CAPS['alert rules'] (platform/org-caps.ts): one page, no cursor.
    async (req) => ({ data: await alerts.list(callerOf(req).orgId), next_cursor: null }),
  );

  app.post(
    '/v1/alerts',
    {
      config: { permission: 'integrations:manage' },
      schema: { body: CreateAlertBody, response: { 201: AlertSchema }, tags },
    },
    async (req, reply) => reply.code(201).send(await alerts.create(callerOf(req), req.body)),
  );

  app.get(
    '/v1/alerts/:id',
    { config: { permission: 'runs:read' }, schema: { params: IdParams, response: { 200: AlertSchema }, tags } },
    async (req) => alerts.get(callerOf(req).orgId, req.params.id),
  );

  app.patch(
    '/v1/alerts/:id',
    {
      config: { permission: 'integrations:manage' },
      schema: { params: IdParams, body: UpdateAlertBody, response: { 200: AlertSchema }, tags },
    },
    async (req) => alerts.update(callerOf(req), req.params.id, req.body),
  );

  app.delete(
    '/v1/alerts/:id',
    { config: { permission: 'integrations:manage' }, schema: { params: IdParams, tags } },
    async (req, reply) => {
      await alerts.remove(callerOf(req), req.params.id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/alerts/:id/events',
    {
      config: { permission: 'runs:read' },
      schema: {
        params: IdParams,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: z.object({ data: z.array(AlertEventSchema), next_cursor: z.string().nullable() }) },
        tags,
      },
    },
    async (req) => alerts.events(callerOf(req).orgId, req.params.id, req.query),
  );

  app.post(
    '/v1/alerts/:id/test',
    {
      config: { permission: 'integrations:manage' },
      schema: { params: IdParams, response: { 201: AlertEventSchema }, tags },
    },
    async (req, reply) => reply.code(201).send(await alerts.testFire(callerOf(req), req.params.id)),
  );
}
