/**
 * `GET /v1/approvals` (the inbox), `GET /v1/approvals/{id}` (`?wait=N` long-polls until decided),
 * `POST /v1/approvals/{id}/approve|reject` `{comment?}`, the email links (approval-email.routes.ts) and the
 * live inbox stream `GET /v1/approvals/events` (approval-events.routes.ts).
 *
 * Long-polls and event streams share one cap per caller and per org (platform/stream-limits.ts); an
 * agent's key reads only the approvals it asked for (`ownApprovalsOnly`).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../../platform/route-config.ts';
import { createStreamLimits } from '../../platform/stream-limits.ts';
import { registerApprovalEmailRoutes } from './approval-email.routes.ts';
import { registerApprovalEventRoutes } from './approval-events.routes.ts';
import { ownApprovalsOnly } from './approvals.service.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });
const DecideBody = z.object({ comment: z.string().max(2000).optional() }).default({});

export function registerApprovalRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  // One per hub process: what it counts are this process's open connections.
  const streams = createStreamLimits();
  registerApprovalEmailRoutes(appIn, ctx);
  registerApprovalEventRoutes(appIn, ctx, streams);
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
    async (req) => {
      const caller = callerOf(req);
      return ctx.approvals.list(caller.orgId, req.query.status, req.query.limit, req.query.cursor, {
        requestedByKeyId: ownApprovalsOnly(caller),
      });
    },
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
    async (req, reply) => {
      const caller = callerOf(req);
      const scope = { requestedByKeyId: ownApprovalsOnly(caller) };
      if (req.query.wait <= 0) return ctx.approvals.get(caller.orgId, req.params.id, scope);
      const release = streams.acquire(caller);
      // A client that hangs up frees its slot and its waiter at once, not when the wait would end.
      const gone = new AbortController();
      const onClose = () => {
        release();
        gone.abort();
      };
      reply.raw.once('close', onClose);
      try {
        return await ctx.approvals.wait(caller.orgId, req.params.id, req.query.wait, { scope, signal: gone.signal });
      } finally {
        release();
        reply.raw.off('close', onClose);
      }
    },
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
