/**
 * Builds the hub from its configuration: database, services, HTTP app. No globals: tests build it the
 * same way (`buildHub(loadConfig({...}))`), many times in one process. `main.ts` only reads the
 * environment and listens.
 */
import { readFileSync } from 'node:fs';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import { createHubContext, type HubContext } from './context.ts';
import { registerAgentRoutes } from './modules/agents/agents.routes.ts';
import { registerAlertRoutes } from './modules/alerts/alerts.routes.ts';
import { registerApprovalRoutes } from './modules/approvals/approvals.routes.ts';
import { registerControlRoutes } from './modules/controls/controls.routes.ts';
import { registerBudgetRoutes } from './modules/costs/budgets.routes.ts';
import { registerCostRoutes } from './modules/costs/costs.routes.ts';
import { registerPriceRoutes } from './modules/costs/prices.routes.ts';
import { registerGovernanceRoutes } from './modules/governance/governance.routes.ts';
import { registerIngestionRoutes } from './modules/ingestion/ingestion.routes.ts';
import { registerLangfuseRoutes } from './modules/ingestion/langfuse/langfuse.routes.ts';
import { registerOtlpRoutes } from './modules/ingestion/otlp/otlp.routes.ts';
import { createMcpHosting, registerMcpEndpointRoutes } from './modules/mcp-endpoints/index.ts';
import { registerPolicyRoutes } from './modules/policies/policies.routes.ts';
import { registerPrivacyRoutes } from './modules/privacy/privacy.routes.ts';
import { registerReportRoutes } from './modules/reports/reports.routes.ts';
import { registerRunRoutes } from './modules/runs/runs.routes.ts';
import { registerStatsRoutes } from './modules/stats/stats.routes.ts';
import { registerApiKeyRoutes } from './platform/api-keys/api-keys.routes.ts';
import { registerAuditRoutes } from './platform/audit/audit.routes.ts';
import { registerAuthRoutes } from './platform/auth/auth.routes.ts';
import { createTwoFactorChallengeLookup } from './platform/auth/better-auth.ts';
import { registerErrorHandler } from './platform/error-handler.ts';
import { registerJsonBodyParser } from './platform/json-body.ts';
import { registerNotificationRoutes } from './platform/notifications/notifications.routes.ts';
import { registerObservability } from './platform/observability.ts';
import { registerOrgRoutes } from './platform/orgs/orgs.routes.ts';
import { registerPlanStateRoutes } from './platform/plan-state.routes.ts';
import { routeFeatureOf } from './platform/plans.ts';
import { registerRateLimits } from './platform/rate-limit.ts';
import { lazyChildLogger } from './platform/request-logger.ts';
import type { HubRouteConfig } from './platform/route-config.ts';
import { addRouteHook } from './platform/route-hooks.ts';
import { registerSecurityHeaders } from './platform/security-headers.ts';
import { registerWebhookRoutes } from './platform/webhooks/webhooks.routes.ts';
import { registerConsole } from './web-console.ts';

export type HubApp = FastifyInstance;

/** One-time tokens travel in URLs (email verification, password reset, invitations): keep them out of logs. */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/reset-password\/)[^/?]+/, '$1[redacted]')
    .replace(/([?&](?:token|code|otp|callbackURL)=)[^&]*/gi, '$1[redacted]');
}

export interface Hub {
  app: FastifyInstance;
  ctx: HubContext;
  /** Starts background work (job runner, schedules). Tests may leave it off and drain jobs by hand. */
  startWorkers(): Promise<void>;
  close(): Promise<void>;
}

export async function buildHub(config: Config, opts: { clock?: () => number; logger?: boolean } = {}): Promise<Hub> {
  const https = config.tls.cert
    ? { key: readFileSync(config.tls.key!), cert: readFileSync(config.tls.cert) }
    : undefined;
  const app = Fastify({
    ...(https ? { https } : {}),
    logger:
      opts.logger === false
        ? false
        : {
            level: config.logLevel,
            // Never log credentials: the auth header, cookies, and anything that names a secret.
            redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
            serializers: {
              req: (req: { method: string; url: string; ip?: string }) => ({
                method: req.method,
                url: redactUrl(req.url),
                ip: req.ip,
              }),
            },
          },
    // Each request's child logger is made when it first logs (most never do): see request-logger.ts.
    ...(opts.logger === false ? {} : { childLoggerFactory: lazyChildLogger }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : `req_${crypto.randomUUID()}`;
    },
    requestIdHeader: false,
    ajv: { customOptions: { coerceTypes: false } },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  registerJsonBodyParser(app);

  const ctx = await createHubContext(config, { clock: opts.clock, log: app.log });

  // Every /v1 route must say who may call it; a route that forgets fails the start, not a pentest.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const cfg = (route.config ?? {}) as { permission?: string; auth?: string };
    if (!cfg.permission && !cfg.auth) throw new Error(`route ${route.method} ${route.url} declares no permission`);
  });

  registerSecurityHeaders(app, { hsts: config.publicUrl.startsWith('https://') });
  // First, so that its per-route hook reaches every route declared after it (the docs included).
  registerObservability(app, ctx.db, ctx.enrichment);
  // Without configured origins the console is same-origin and no CORS header is ever sent, so the
  // plugin (a hook on every request) is left out entirely.
  if (config.corsOrigins.length)
    await app.register(cors, {
      origin: config.corsOrigins,
      credentials: true,
      exposedHeaders: ['x-request-id', 'retry-after'],
    });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AgentOps Hub API',
        version: '1.0.0',
        description: 'Runs, events, costs, policies with human approval, emergency controls and audit for AI agents.',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: ahk_…' },
          session: { type: 'apiKey', in: 'cookie', name: 'agentops.session_token' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await registerRateLimits(app, config, createTwoFactorChallengeLookup(ctx.db));
  // Each /v1 route gets its own auth hook with its config in the closure (see route-hooks.ts).
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return;
    const cfg: HubRouteConfig = route.config ?? {};
    addRouteHook(route, 'onRequest', (request, _reply, done) => {
      try {
        // Agents' cached API keys are answered synchronously; everything else takes the async path.
        if (ctx.authenticate.fast(request, cfg)) return done();
      } catch (e) {
        return done(e as Error);
      }
      ctx.authenticate(request, cfg).then(() => done(), done);
    });
    // Routes of a plan feature (platform/plans.ts ROUTE_FEATURES) check the org's plan and flag after auth.
    const planned = routeFeatureOf(route.method, route.url);
    if (planned)
      addRouteHook(route, 'onRequest', (request, _reply, done) => {
        if (!request.caller) return done();
        try {
          const pending = ctx.plans.guard(request.caller.orgId, planned);
          if (!pending) return done();
          pending.then(() => done(), done);
        } catch (e) {
          done(e as Error);
        }
      });
  });

  registerAuthRoutes(app, ctx);
  registerOrgRoutes(app, ctx);
  registerPlanStateRoutes(app, ctx);
  registerApiKeyRoutes(app, ctx);
  registerAgentRoutes(app, ctx);
  registerControlRoutes(app, ctx);
  registerPolicyRoutes(app, ctx);
  registerApprovalRoutes(app, ctx);
  registerPriceRoutes(app, ctx);
  registerIngestionRoutes(app, ctx);
  registerOtlpRoutes(app, ctx);
  registerLangfuseRoutes(app, ctx);
  registerRunRoutes(app, ctx);
  registerPrivacyRoutes(app, ctx);
  registerStatsRoutes(app, ctx);
  registerAlertRoutes(app, ctx);
  registerCostRoutes(app, ctx);
  registerBudgetRoutes(app, ctx);
  registerGovernanceRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerNotificationRoutes(app, ctx);
  registerWebhookRoutes(app, ctx);
  // The hosted MCP gateway asks this app's own routes (app.inject), with the client's API key.
  const mcpHosting = createMcpHosting({
    endpoints: ctx.mcpEndpoints,
    egress: ctx.egress,
    inject: app.inject.bind(app),
    evaluate: (caller, input, done) => ctx.evaluator.evaluate(caller, input, done as never),
    log: app.log,
    maxGateways: config.mcpGateways,
  });
  app.addHook('onClose', () => mcpHosting.close());
  ctx.bus.subscribe('mcp_endpoint.deleted', (d) => mcpHosting.closeEndpoint(String(d.org_id), String(d.id)));
  ctx.bus.subscribe('api_key.revoked', (d) => mcpHosting.closeKey(String(d.key_hash)));
  registerMcpEndpointRoutes(app, { mcpEndpoints: ctx.mcpEndpoints, mcpHosting });
  registerReportRoutes(app, ctx);
  await registerConsole(app, ctx);

  await app.ready();
  return {
    app,
    ctx,
    async startWorkers() {
      // Daily, at a quiet hour: archive and drop what is past each org's plan retention.
      await ctx.jobs.schedule('retention', '17 3 * * *', { queue: 'retention' });
      // Every minute: budgets release their pauses and throttles when a period rolls over, and any
      // threshold left un-notified by a crash is notified.
      await ctx.jobs.schedule('budgets.reconcile', '* * * * *', { queue: 'budgets.reconcile' });
      void ctx.budgetEnforcer.reconcile();
      // Every minute: alert rules are evaluated (one pass across processes: a schedule fires once).
      await ctx.jobs.schedule('alerts.evaluate', '* * * * *', { queue: 'alerts.evaluate' });
      // Hourly: events this month against the plan, with notices at 80% and 100%.
      await ctx.jobs.schedule('plans.usage', '7 * * * *', { queue: 'plans.usage' });
      await ctx.jobs.start();
      ctx.enrichment.start();
    },
    async close() {
      await app.close();
      await ctx.close();
    },
  };
}
