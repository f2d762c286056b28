/**
 * `GET /v1/approvals` (the inbox), `GET /v1/approvals/{id}` (`?wait=N` long-polls until decided),
 * `POST /v1/approvals/{id}/approve|reject` `{comment?}`, the email links (approval-email.routes.ts) and the
 * live inbox stream `GET /v1/approvals/events` (approval-events.routes.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../../platform/route-config.ts';
import { registerApprovalEmailRoutes } from './approval-email.routes.ts';
import { registerApprovalEventRoutes } from './approval-events.routes.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });
const DecideBody = z.object({ comment: z.string().max(2000).optional() }).default({});

export function registerApprovalRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  registerApprovalEmailRoutes(appIn, ctx);
  registerApprovalEventRoutes(appIn, ctx);
  app.get(
    '/v1/approvals',
    {
      config: { permission: 'approvals:read' },
      schema: {
        querystring: z.object({
          status: z.enum(['pending', 'approved', 'rejected', 'expired']).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(100).optional(),
        }),
        tags: ['approvals'],
      },
    },
    async (req) => ctx.approvals.list(callerOf(req).orgId, req.query.status, req.query.limit, req.query.cursor),
  );
  app.get(
    '/v1/approvals/:id',
    {
      config: { permission: 'approvals:read' },
      schema: {
        params: IdParams,
        querystring: z.object({ wait: z.coerce.number().min(0).max(60).default(0) }),
        tags: ['approvals'],
      },
    },
    async (req) => ctx.approvals.wait(callerOf(req).orgId, req.params.id, req.query.wait),
  );
  for (const outcome of ['approve', 'reject'] as const) {
    app.post(
      `/v1/approvals/:id/${outcome}`,
      {
        config: { permission: 'approvals:decide' },
        schema: { params: IdParams, body: DecideBody, tags: ['approvals'] },
      },
      async (req) =>
        ctx.approvals.decide(
          callerOf(req),
          req.params.id,
          outcome === 'approve' ? 'approved' : 'rejected',
          req.body?.comment,
        ),
    );
  }
}
