/**
 * Mounts Better Auth at /api/auth/*: Fastify parses the body (and enforces the size limit), then the
 * request is handed to Better Auth as a standard Request and its Response is copied back.
 */

import type { ErrorCode } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../context.ts';
import { sendProblem } from '../error-handler.ts';
import { toHeaders } from './authenticate.ts';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'validation_failed',
  429: 'rate_limited',
};

export function registerAuthRoutes(app: FastifyInstance, ctx: HubContext) {
  app.route({
    method: ['GET', 'POST'],
    url: '/api/auth/*',
    config: { auth: 'public', rateBucket: 'auth', rateLimit: {} },
    schema: { hide: true },
    async handler(request, reply) {
      const url = new URL(request.url, ctx.config.publicUrl);
      const headers = toHeaders(request);
      const hasBody = request.method !== 'GET' && request.body !== undefined;
      const res = await ctx.auth.handler(
        new Request(url, {
          method: request.method,
          headers,
          body: hasBody ? (typeof request.body === 'string' ? request.body : JSON.stringify(request.body)) : undefined,
        }),
      );
      if (res.status >= 400) {
        // Better Auth's errors become problem+json like every other error; its own code and message
        // are kept (`auth_code`, `message`) so its client library still understands them.
        const err = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
        const code = CODE_BY_STATUS[res.status] ?? (res.status >= 500 ? 'internal' : 'validation_failed');
        reply.header('x-auth-code', err.code ?? '');
        return sendProblem(reply, request, code, err.message ?? res.statusText, {
          extra: { auth_code: err.code, message: err.message },
        });
      }
      reply.status(res.status);
      for (const [k, v] of res.headers) {
        if (k.toLowerCase() !== 'set-cookie') reply.header(k, v);
      }
      const cookies = res.headers.getSetCookie();
      if (cookies.length) reply.header('set-cookie', cookies);
      const text = await res.text();
      return reply.send(text || null);
    },
  });
}
