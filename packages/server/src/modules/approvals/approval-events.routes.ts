/**
 * `GET /v1/approvals/events`: the live inbox as Server-Sent Events. Each approval of the caller's org
 * that is created or decided, in any hub process, arrives as
 *
 *   event: approval
 *   data: {"type":"created","id":"apr_…"}
 *
 * The event carries no content: a client refetches what its permissions let it read. A comment line
 * every 25 s keeps proxies from closing an idle stream; `retry` tells EventSource to reconnect after 3 s.
 * Streams end when the hub shuts down, so a stop never waits for open consoles. Open streams count
 * against the caller's and the org's cap (shared with long-polls): over it, 429 before the stream opens.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../context.ts';
import { callerOf } from '../../platform/route-config.ts';
import type { StreamLimits } from '../../platform/stream-limits.ts';

const HEARTBEAT_MS = 25_000;
/**
 * A client that stops reading (or reads slower than events come) would make the hub hold every event it
 * was sent in memory, for as long as the stream stays open. Past this much unsent, the stream is closed;
 * EventSource reconnects after `retry` and the client refetches what it missed.
 */
export const MAX_UNSENT_BYTES = 1024 * 1024;

export function registerApprovalEventRoutes(app: FastifyInstance, ctx: HubContext, streams: StreamLimits) {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const res of open) res.end();
    done();
  });

  app.get(
    '/v1/approvals/events',
    { config: { permission: 'approvals:read' }, schema: { tags: ['approvals'] } },
    (req, reply) => {
      const caller = callerOf(req);
      const { orgId } = caller;
      const release = streams.acquire(caller); // throws 429 while the reply is still Fastify's
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no', // nginx: pass events through as they come
        connection: 'close', // never reused: ending the stream (a shutdown) also frees the socket
        'x-request-id': req.id,
      });
      res.write('retry: 3000\n\n');
      open.add(res);
      const send = (text: string) => {
        if (res.writableLength > MAX_UNSENT_BYTES) res.destroy();
        else res.write(text);
      };
      const stop = ctx.approvals.watch(orgId, (change) => send(`event: approval\ndata: ${JSON.stringify(change)}\n\n`));
      const heartbeat = setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      res.on('close', () => {
        clearInterval(heartbeat);
        stop();
        open.delete(res);
        release();
      });
    },
  );
}
