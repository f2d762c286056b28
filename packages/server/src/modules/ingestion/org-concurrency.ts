/**
 * @module org-concurrency
 * At most N heavy ingestion requests of one org in this process at once, so one key cannot occupy it with
 * decoding (security finding 3: fourteen OTLP exports from one key took the hub down). The next one is
 * answered 429 with `Retry-After: 1` — OTLP exporters and the SDKs retry on it — before its body is read.
 *
 * Cheap on the hot path: a Map counter, taken in a route's `preParsing` hook (after authentication, before
 * the body is read) and given back when the response is closed: `close` fires on every end of a response,
 * sent, failed or dropped by the client, so a slot cannot leak. Small REST bodies (below `minBytes`) take
 * no slot: they are bounded by the body size, and an agent's many small concurrent posts are the normal case.
 *
 * @example
 * const slots = createOrgConcurrency({ limit: 4 });
 * app.post('/v1/traces', { preParsing: slots.hook, … }, handler);
 */
import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { AppError } from '../../platform/errors.ts';

export interface OrgConcurrencyOptions {
  /** Requests of one org at once. */
  limit: number;
  /** A request that declares a smaller body (Content-Length) takes no slot; 0: every request takes one. */
  minBytes?: number;
}

export const DEFAULT_ORG_CONCURRENCY = 4;

export function createOrgConcurrency(opts: OrgConcurrencyOptions) {
  const active = new Map<string, number>();
  const minBytes = opts.minBytes ?? 0;

  /** A release function, or undefined when the org already has `limit` requests in flight. */
  function tryAcquire(orgId: string): (() => void) | undefined {
    const n = active.get(orgId) ?? 0;
    if (n >= opts.limit) return undefined;
    active.set(orgId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (active.get(orgId) ?? 1) - 1;
      if (left > 0) active.set(orgId, left);
      else active.delete(orgId);
    };
  }

  /** Takes a slot for the request's org, released when its response closes; the refusal otherwise. */
  function admit(request: FastifyRequest, reply: FastifyReply): AppError | undefined {
    const orgId = request.caller?.orgId;
    // No caller: the auth hook has answered already. A declared small body: cheap, no slot.
    if (!orgId || Number(request.headers['content-length']) < minBytes) return undefined;
    const release = tryAcquire(orgId);
    if (!release)
      return new AppError(
        'rate_limited',
        `At most ${opts.limit} ingestion requests of one org are processed at once.`,
        {
          retryAfterS: 1,
        },
      );
    reply.raw.once('close', release);
    return undefined;
  }

  /** Route `preParsing` hook (OTLP: decoding is the heavy part): a slot, or 429 before the body is read. */
  function hook(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: RequestPayload,
    done: (err?: Error | null, payload?: RequestPayload) => void,
  ) {
    const refused = admit(request, reply);
    return refused ? done(refused) : done(null, payload);
  }

  /**
   * The same as an `onRequest` hook, placed after the route's auth hook (see ingestion.routes.ts): still
   * before the body is read. A route's first `preParsing` hook costs every request a pipeline stage (~10%
   * of single-event ingestion, `npm run bench -- ingest`: single_ratio 0.38 with it, 0.43 without), while
   * every /v1 route already has an onRequest stage (authentication), so this adds only a call.
   */
  function requestHook(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    const refused = admit(request, reply);
    return refused ? done(refused) : done();
  }

  return { tryAcquire, hook, requestHook, inFlight: (orgId: string) => active.get(orgId) ?? 0 };
}

export type OrgConcurrency = ReturnType<typeof createOrgConcurrency>;
