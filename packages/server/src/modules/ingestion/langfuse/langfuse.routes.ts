/**
 * @module langfuse.routes
 * Langfuse-compatible ingestion, so a Langfuse user switches by changing a base URL:
 * - `POST /api/public/otel/v1/traces`: where `@langfuse/otel`'s span processor (JS v4/v5) and the Python SDK
 *   v3 export. The hub's own OTLP receiver (`/v1/traces`: its caps, gzip, partial success), with Langfuse's
 *   `langfuse.*` attributes read as well (langfuse-otel-attributes.ts).
 * - `POST /api/public/ingestion`: Langfuse's batch API (the `langfuse` v3 JS client, the Python SDK v2);
 *   207 with per-item `successes` and `errors` (langfuse-ingest.ts).
 *
 * Credentials (platform/auth/authenticate.ts, `{ basic: true }`): Basic auth whose password — Langfuse's
 * secret key — is a hub API key (`ahk_…`, scope ingest); the username, Langfuse's public key, is not a
 * credential: it may name the agent. Bearer `ahk_…` works too. The org is the key's, so a key of another org
 * can only ever write into its own org.
 *
 * These paths sit outside /v1, so they take their auth hook here rather than from app.ts, and the OTel
 * path its plan guard too: it is OTLP ingestion, so the `otlp` plan feature and the `otlp_ingest` flag
 * switch it as they switch /v1/traces (the entry in platform/plans.ts ROUTE_FEATURES). The batch API is
 * plain ingestion, like /v1/ingest/events, and on every plan. Bounded like
 * /v1/traces and /v1/ingest/*: the body limit, gzip capped at it, OTLP's caps, JSON depth (the global
 * parser), at most `MAX_BATCH_ITEMS` items, and per-org concurrency.
 *
 * @example
 * registerLangfuseRoutes(app, ctx);
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.ts';
import type { CredentialOptions } from '../../../platform/auth/authenticate.ts';
import { parseBasicAuth } from '../../../platform/auth/authenticate.ts';
import { AppError } from '../../../platform/errors.ts';
import { type PlanService, routeFeatureOf } from '../../../platform/plans.ts';
import { callerOf, type HubRouteConfig } from '../../../platform/route-config.ts';
import { createOrgConcurrency, DEFAULT_ORG_CONCURRENCY } from '../org-concurrency.ts';
import { createOtlpTracesHandler, useRawOtlpBodies } from '../otlp/otlp.routes.ts';
import type { OtlpIngestion } from '../otlp/otlp-types.ts';
import { ingestLangfuseBatch } from './langfuse-ingest.ts';
import { adaptLangfuseSpans } from './langfuse-otel-attributes.ts';

/** Items per batch: Langfuse's SDKs send 15 by default and at most ~3.5 MB. */
export const MAX_BATCH_ITEMS = 1000;
/** Batch bodies from this size take a concurrency slot (as on /v1/ingest/*). */
const HEAVY_BODY_BYTES = 64 * 1024;

type Authenticate = ((req: FastifyRequest, cfg: HubRouteConfig, opts?: CredentialOptions) => Promise<void>) & {
  fast(req: FastifyRequest, cfg: HubRouteConfig, opts?: CredentialOptions): boolean;
};

export interface LangfuseRouteDeps {
  ingestion: OtlpIngestion;
  /** The hub's database handle (`ctx.db`). */
  db: { db: Kysely<Database> };
  config: { bodyLimitBytes: number };
  authenticate: Authenticate;
  plans: Pick<PlanService, 'guard'>;
}

const OTEL_TRACES = '/api/public/otel/v1/traces';

const ROUTE_CONFIG: HubRouteConfig = { permission: 'ingest:write', rateBucket: 'ingest' };
const BASIC: CredentialOptions = { basic: true };

export function registerLangfuseRoutes(app: FastifyInstance, deps: LangfuseRouteDeps) {
  // Before the body is read: the same fast path for cached keys as /v1 routes (see app.ts).
  const authHook = (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    try {
      if (deps.authenticate.fast(req, ROUTE_CONFIG, BASIC)) return done();
    } catch (e) {
      return done(e as Error);
    }
    deps.authenticate(req, ROUTE_CONFIG, BASIC).then(() => done(), done);
  };
  const username = (req: FastifyRequest) => parseBasicAuth(req.headers.authorization)?.username;
  // After the auth hook: the org's plan must include OTLP and its flag be on (402 / 403, as on /v1/traces).
  const otlpFeature = routeFeatureOf('POST', OTEL_TRACES)!;
  const planHook = (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    try {
      const pending = deps.plans.guard(callerOf(req).orgId, otlpFeature);
      if (!pending) return done();
      pending.then(() => done(), done);
    } catch (e) {
      done(e as Error);
    }
  };

  const exportSlots = createOrgConcurrency({ limit: DEFAULT_ORG_CONCURRENCY });
  app.register(async (scope) => {
    useRawOtlpBodies(scope);
    scope.post(
      OTEL_TRACES,
      {
        config: ROUTE_CONFIG,
        onRequest: [authHook, planHook],
        preParsing: exportSlots.hook,
        schema: {
          tags: ['ingestion'],
          summary: "Langfuse's OTel endpoint: OTLP/HTTP traces, as /v1/traces, with langfuse.* attributes",
          description: 'Basic auth: any public key, a hub API key (ahk_…) as secret key. Or Bearer ahk_….',
        },
      },
      createOtlpTracesHandler(deps, (decoded, req) => adaptLangfuseSpans(decoded, { username: username(req) })),
    );
  });

  const batchSlots = createOrgConcurrency({ limit: DEFAULT_ORG_CONCURRENCY, minBytes: HEAVY_BODY_BYTES });
  app.post(
    '/api/public/ingestion',
    {
      config: ROUTE_CONFIG,
      onRequest: authHook,
      preParsing: batchSlots.hook,
      schema: {
        tags: ['ingestion'],
        summary: "Langfuse's batch ingestion API (langfuse v3 JS, Python SDK v2) → runs and events",
        description:
          'Body {batch: [{id, type, timestamp, body}], metadata?}. Answers 207 {successes: [{id, status}], ' +
          'errors: [{id, status, message, error}]}. Basic auth: any public key, a hub API key as secret key.',
      },
    },
    async (req, reply) => {
      const body = req.body as { batch?: unknown } | undefined;
      if (!body || typeof body !== 'object' || !Array.isArray(body.batch)) {
        throw new AppError('validation_failed', 'Send {"batch": [{id, type, timestamp, body}, …]}.', {
          errors: [{ path: 'batch', message: 'an array of ingestion items is required' }],
        });
      }
      if (body.batch.length > MAX_BATCH_ITEMS) {
        throw new AppError('payload_too_large', `A batch may carry at most ${MAX_BATCH_ITEMS} items.`, {
          errors: [{ path: 'batch', message: `at most ${MAX_BATCH_ITEMS} items` }],
        });
      }
      const answer = await ingestLangfuseBatch(deps, callerOf(req), body.batch, username(req));
      return reply.status(207).send(answer);
    },
  );
}
