/**
 * Rate limits. Two mechanisms, each where it is cheapest:
 * - Authenticated /v1 calls: fixed one-minute windows counted in memory (or in Redis with INCR +
 *   PEXPIRE when REDIS_URL is set, so N hub processes count together), checked in one synchronous
 *   preHandler: per API key or user (RATE_LIMIT_PER_MINUTE), a separate and larger bucket for the agent
 *   hot paths — ingestion and policy evaluation (RATE_LIMIT_INGEST_PER_MINUTE) — and a ceiling per org
 *   over all its keys and users (RATE_LIMIT_ORG_PER_MINUTE). Measured: @fastify/rate-limit on every
 *   request cost ~15% of ingestion throughput; this costs two Map lookups.
 * - Sign-in, sign-up, password reset and 2FA (unauthenticated, per client IP, RATE_LIMIT_AUTH_PER_MINUTE,
 *   strict against credential stuffing): @fastify/rate-limit on the /api/auth routes only.
 * Exceeding any answers 429 problem+json `rate_limited` with Retry-After.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Caller } from './caller.ts';
import { AppError } from './errors.ts';
import { addRouteHook } from './route-hooks.ts';

const STRICT_AUTH_PATHS =
  /^\/api\/auth\/(sign-in|sign-up|forget-password|request-password-reset|reset-password|two-factor\/verify|two-factor\/send-otp|email-otp)/;

const WINDOW_MS = 60_000;
const retryAfter = () => Math.max(1, Math.ceil((WINDOW_MS - (Date.now() % WINDOW_MS)) / 1000));

/** Counts hits per key in the current minute; returns the count (sync in memory, async in Redis). */
function createWindowCounter(redis: Redis | undefined) {
  const local = new Map<string, { window: number; n: number }>();
  return {
    local(key: string): number {
      const window = Math.floor(Date.now() / WINDOW_MS);
      const c = local.get(key);
      if (!c || c.window !== window) {
        if (local.size > 200_000) local.clear();
        local.set(key, { window, n: 1 });
        return 1;
      }
      return ++c.n;
    },
    async shared(key: string): Promise<number> {
      const k = `hub-rl:${key}:${Math.floor(Date.now() / WINDOW_MS)}`;
      const n = await redis!.incr(k);
      if (n === 1) await redis!.pexpire(k, WINDOW_MS + 1000);
      return n;
    },
  };
}

export async function registerRateLimits(app: FastifyInstance, config: Config, _ctx: unknown) {
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 })
    : undefined;
  if (redis) app.addHook('onClose', async () => void redis.disconnect());
  const counter = createWindowCounter(redis);
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

  // One preHandler per authenticated route, with the route's bucket in its closure (route-hooks.ts).
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/') || route.config?.auth === 'public') return;
    const ingest = route.config?.rateBucket === 'ingest';
    const callerMax = ingest ? ingestPerMinute : perMinute;
    addRouteHook(route, 'preHandler', (req, reply, done) => {
      if (!req.caller) return done();
      const k = keys(req.caller);
      const callerKey = ingest ? k.ingest : k.api;
      if (!redis) {
        const n = counter.local(callerKey);
        reply.header('x-ratelimit-limit', callerMax).header('x-ratelimit-remaining', Math.max(0, callerMax - n));
        if (n > callerMax) return done(refusal('caller', callerMax));
        if (counter.local(k.org) > orgPerMinute) return done(refusal('org', orgPerMinute));
        return done();
      }
      Promise.all([counter.shared(callerKey), counter.shared(k.org)])
        .then(([n, o]) => {
          reply.header('x-ratelimit-limit', callerMax).header('x-ratelimit-remaining', Math.max(0, callerMax - n));
          if (n > callerMax) throw refusal('caller', callerMax);
          if (o > orgPerMinute) throw refusal('org', orgPerMinute);
          done();
        })
        .catch((e) => done(e));
    });
  });

  const isStrictAuth = (req: FastifyRequest) => req.method === 'POST' && STRICT_AUTH_PATHS.test(req.url);
  await app.register(rateLimit, {
    // Only routes that opt in (config.rateLimit): the Better Auth mount.
    global: false,
    redis,
    nameSpace: 'hub-rl-auth-',
    max: (req) => (isStrictAuth(req) ? config.rateLimit.authPerMinute : perMinute),
    timeWindow: WINDOW_MS,
    keyGenerator: (req) => `auth:${req.ip}:${isStrictAuth(req) ? req.url.split('?')[0] : 'other'}`,
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
