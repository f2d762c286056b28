/**
 * Rate limits. Two mechanisms, each where it is cheapest:
 * - Authenticated /v1 calls: fixed one-minute windows counted in memory (or across the cluster through
 *   Redis when REDIS_URL is set, in memory first while far from the limit: shared-window-counter.ts),
 *   checked in one preHandler: per API key or user (RATE_LIMIT_PER_MINUTE), a separate and larger bucket for the agent
 *   hot paths — ingestion and policy evaluation (RATE_LIMIT_INGEST_PER_MINUTE) — and a ceiling per org
 *   over all its keys and users (RATE_LIMIT_ORG_PER_MINUTE). Measured: @fastify/rate-limit on every
 *   request cost ~15% of ingestion throughput; this costs two Map lookups.
 * - Sign-in, sign-up, password reset, 2FA and every other POST to /api/auth that is not known to be
 *   harmless (unauthenticated, per client IP and family of endpoints, RATE_LIMIT_AUTH_PER_MINUTE, strict
 *   against credential stuffing): @fastify/rate-limit on the /api/auth routes only. Classified on the
 *   normalized path Better Auth routes (auth/auth-paths.ts), so `/api/auth/./sign-in/email` is sign-in.
 * - The same attempts per account as well (the email a sign-in or reset names, the user behind a pending
 *   2FA challenge), RATE_LIMIT_AUTH_PER_MINUTE across all IPs: one account cannot be guessed at from a
 *   thousand addresses.
 * Exceeding any answers 429 problem+json `rate_limited` with Retry-After.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import {
  type AuthRequestClass,
  classifyAuthRequest,
  emailOfBody,
  normalizeAuthPath,
  twoFactorIdentifierOf,
} from './auth/auth-paths.ts';
import { AUTH_COOKIE_PREFIX } from './auth/better-auth.ts';
import type { Caller } from './caller.ts';
import { AppError } from './errors.ts';
import { addRouteHook } from './route-hooks.ts';
import { createSharedWindowCounter } from './shared-window-counter.ts';
import { createWindowTable } from './window-table.ts';

const WINDOW_MS = 60_000;
const retryAfter = () => Math.max(1, Math.ceil((WINDOW_MS - (Date.now() % WINDOW_MS)) / 1000));

/** Counts hits per key in the current minute, in this process's memory (no REDIS_URL). */
function createLocalCounter() {
  const table = createWindowTable({ windowMs: WINDOW_MS, maxKeys: 200_000, fresh: (window) => ({ window, n: 0 }) });
  return (key: string): number => ++table.current(key).n;
}

/** How long a closing hub waits for Redis to take its unsent hits before it disconnects anyway. */
const CLOSE_FLUSH_MS = 1000;

export interface AuthAccountLookup {
  /** The user a pending two-factor challenge belongs to (Better Auth's verification row), if any. */
  userOfTwoFactorChallenge(identifier: string): Promise<string | undefined>;
}

export async function registerRateLimits(app: FastifyInstance, config: Config, accounts: AuthAccountLookup) {
  // Auto-pipelining: the Redis commands of one turn of the event loop go in one write.
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1, enableAutoPipelining: true })
    : undefined;
  const local = createLocalCounter();
  // With Redis, counted across the cluster (far from a limit in memory first: shared-window-counter.ts).
  const shared = redis ? createSharedWindowCounter(redis, { windowMs: WINDOW_MS }) : undefined;
  const count = (key: string, limit: number) => (shared ? shared.count(key, limit) : local(key));
  if (redis)
    app.addHook('onClose', async () => {
      // The last hits are sent and answered before the connection goes (not `quit()`: it would wait for ever
      // on a Redis that is down).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([shared!.flush(), new Promise((r) => (timer = setTimeout(r, CLOSE_FLUSH_MS)))]);
      clearTimeout(timer);
      redis.disconnect();
    });
  const { perMinute, ingestPerMinute, orgPerMinute } = config.rateLimit;

  // The bucket keys of a caller, made once per caller object (API-key callers are cached objects, so
  // the hot paths do not build three strings per request).
  const keysOf = new WeakMap<Caller, { api: string; ingest: string; org: string }>();
  function keys(c: Caller) {
    let k = keysOf.get(c);
    if (!k) {
      const who = c.keyId ? `key:${c.keyId}` : `user:${c.actor.id}`;
      k = { api: who, ingest: `ingest:${who}`, org: `org:${c.orgId}` };
      keysOf.set(c, k);
    }
    return k;
  }
  function refusal(kind: 'caller' | 'org', max: number): AppError {
    const retryAfterS = retryAfter();
    return new AppError(
      'rate_limited',
      kind === 'org'
        ? `Your organization made more than ${max} requests this minute. Retry in ${retryAfterS} s.`
        : `Too many requests: the limit is ${max} a minute. Retry in ${retryAfterS} s.`,
      { retryAfterS },
    );
  }

  /** The caller's headers, and the refusal when the caller's bucket or the org's ceiling is used up. */
  function verdict(reply: FastifyReply, callerMax: number, n: number, o: number): AppError | undefined {
    reply.header('x-ratelimit-limit', callerMax).header('x-ratelimit-remaining', Math.max(0, callerMax - n));
    if (n > callerMax) return refusal('caller', callerMax);
    if (o > orgPerMinute) return refusal('org', orgPerMinute);
    return undefined;
  }

  // One preHandler per authenticated route, with the route's bucket in its closure (route-hooks.ts).
  app.addHook('onRoute', (route) => {
    // Every /v1 route, and the compatible ingestion paths outside it (Langfuse's /api/public/…), which
    // authenticate API keys themselves and say so by naming their bucket.
    const counted = route.url.startsWith('/v1/') || (route.config?.rateBucket === 'ingest' && route.config?.permission);
    if (!counted || route.config?.auth === 'public') return;
    const ingest = route.config?.rateBucket === 'ingest';
    const callerMax = ingest ? ingestPerMinute : perMinute;
    addRouteHook(route, 'preHandler', (req, reply, done) => {
      if (!req.caller) return done();
      const k = keys(req.caller);
      const n = count(ingest ? k.ingest : k.api, callerMax);
      const o = count(k.org, orgPerMinute);
      // Counted in memory (the usual case, with or without Redis): answered in this turn.
      if (typeof n === 'number' && typeof o === 'number') return done(verdict(reply, callerMax, n, o));
      Promise.all([n, o]).then(([n, o]) => done(verdict(reply, callerMax, n, o)), done);
    });
  });

  // Classified once per request, from the path Better Auth will route (see auth-paths.ts).
  const classOf = new WeakMap<FastifyRequest, AuthRequestClass>();
  const authClass = (req: FastifyRequest) => {
    let c = classOf.get(req);
    if (!c) {
      c = classifyAuthRequest(req.method, normalizeAuthPath(req.url));
      classOf.set(req, c);
    }
    return c;
  };
  const authMax = config.rateLimit.authPerMinute;

  // Per account: after the body is parsed, count the attempt against the account it names.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/auth/')) return;
    addRouteHook(route, 'preHandler', (req, _reply, done) => {
      const c = authClass(req);
      if (!c.account) return done();
      accountOf(req, c)
        .then(async (account) => {
          if (!account) return done();
          const key = `auth-account:${c.family}:${account}`;
          const n = await count(key, authMax);
          if (n > authMax) {
            const retryAfterS = retryAfter();
            return done(
              new AppError(
                'rate_limited',
                `Too many attempts for this account: the limit is ${authMax} a minute. Retry in ${retryAfterS} s.`,
                { retryAfterS },
              ),
            );
          }
          done();
        })
        .catch((e) => done(e));
    });
  });
  async function accountOf(req: FastifyRequest, c: AuthRequestClass): Promise<string | undefined> {
    if (c.account === 'email') return emailOfBody(req.body);
    const id = twoFactorIdentifierOf(req.headers.cookie, AUTH_COOKIE_PREFIX);
    if (!id) return undefined;
    return (await accounts.userOfTwoFactorChallenge(id)) ?? id;
  }

  await app.register(rateLimit, {
    // Only routes that opt in (config.rateLimit): the Better Auth mount.
    global: false,
    redis,
    nameSpace: 'hub-rl-auth-',
    max: (req) => (authClass(req).strict ? authMax : perMinute),
    timeWindow: WINDOW_MS,
    keyGenerator: (req) => {
      const c = authClass(req);
      return `auth:${req.ip}:${c.strict ? c.family : 'other'}`;
    },
    errorResponseBuilder: (_req, ctx) => {
      const retryAfterS = Math.max(1, Math.ceil(ctx.ttl / 1000));
      return new AppError(
        'rate_limited',
        `Too many attempts: the limit is ${ctx.max} a minute. Retry in ${retryAfterS} s.`,
        {
          retryAfterS,
        },
      );
    },
  });
}
