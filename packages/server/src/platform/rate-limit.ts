/**
 * Rate limits, through @fastify/rate-limit (shared through Redis when REDIS_URL is set, so N hub
 * processes count together):
 * - API calls: per API key (or per user session), RATE_LIMIT_PER_MINUTE;
 * - ingestion and policy evaluation (routes with rateBucket 'ingest'): per key, RATE_LIMIT_INGEST_PER_MINUTE;
 * - sign-in, sign-up, password reset and 2FA verification: per client IP, RATE_LIMIT_AUTH_PER_MINUTE,
 *   much stricter, against credential stuffing.
 * Exceeding either answers 429 problem+json `rate_limited` with Retry-After.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { AppError } from './errors.ts';

const STRICT_AUTH_PATHS =
  /^\/api\/auth\/(sign-in|sign-up|forget-password|request-password-reset|reset-password|two-factor\/verify|two-factor\/send-otp|email-otp)/;

/**
 * The per-org ceiling over all of an org's keys and users. @fastify/rate-limit keys one bucket per
 * route, so this second, coarser bucket is a fixed one-minute window kept in memory, or in Redis
 * (INCR + PEXPIRE) when several hub processes share the load.
 */
function createOrgLimiter(perMinute: number, redis: Redis | undefined) {
  const local = new Map<string, { window: number; n: number }>();
  return async (orgId: string): Promise<number | null> => {
    const window = Math.floor(Date.now() / 60_000);
    const retryAfterS = Math.max(1, 60 - Math.floor((Date.now() % 60_000) / 1000));
    let n: number;
    if (redis) {
      const key = `hub-rl-org:${orgId}:${window}`;
      n = await redis.incr(key);
      if (n === 1) await redis.pexpire(key, 61_000);
    } else {
      const c = local.get(orgId);
      if (!c || c.window !== window) {
        if (local.size > 100_000) local.clear();
        local.set(orgId, { window, n: 1 });
        n = 1;
      } else n = ++c.n;
    }
    return n > perMinute ? retryAfterS : null;
  };
}

export async function registerRateLimits(app: FastifyInstance, config: Config, _ctx: unknown) {
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 })
    : undefined;
  if (redis) app.addHook('onClose', async () => void redis.disconnect());

  const isStrictAuth = (req: FastifyRequest) => req.method === 'POST' && STRICT_AUTH_PATHS.test(req.url);

  const orgLimited = createOrgLimiter(config.rateLimit.orgPerMinute, redis);
  app.addHook('preHandler', async (req) => {
    if (!req.caller) return;
    const retryAfterS = await orgLimited(req.caller.orgId);
    if (retryAfterS !== null)
      throw new AppError(
        'rate_limited',
        `Your organization made more than ${config.rateLimit.orgPerMinute} requests this minute. Retry in ${retryAfterS} s.`,
        { retryAfterS },
      );
  });

  await app.register(rateLimit, {
    global: true,
    // After authentication (onRequest), so the bucket is the key or the user, not a shared IP.
    hook: 'preHandler',
    redis,
    nameSpace: 'hub-rl-',
    max: (req) =>
      isStrictAuth(req)
        ? config.rateLimit.authPerMinute
        : req.routeOptions.config.rateBucket === 'ingest'
          ? config.rateLimit.ingestPerMinute
          : config.rateLimit.perMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => {
      if (isStrictAuth(req)) return `auth:${req.ip}:${req.url.split('?')[0]}`;
      const c = req.caller;
      // Agents' ingest and evaluate traffic has its own, larger bucket than API reads and writes.
      const bucket = req.routeOptions.config.rateBucket === 'ingest' ? 'ingest:' : '';
      if (c?.keyId) return `${bucket}key:${c.keyId}`;
      if (c?.actor.id) return `${bucket}user:${c.actor.id}`;
      return `ip:${req.ip}`;
    },
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
    errorResponseBuilder: (_req, ctx) => {
      const retryAfterS = Math.max(1, Math.ceil(ctx.ttl / 1000));
      return new AppError(
        'rate_limited',
        `Too many requests: the limit is ${ctx.max} a minute. Retry in ${retryAfterS} s.`,
        {
          retryAfterS,
        },
      );
    },
  });
}
