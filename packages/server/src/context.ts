/**
 * The composition root: opens the database, applies migrations, and wires every service with the
 * narrow dependencies it declares. Kept to wiring only; longer than 400 lines because every service is wired here.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import { type Db, openDatabase } from './db/database.ts';
import { migrateHub } from './db/migrate.ts';
import { EVENT_PARTITION_MONTHS_AHEAD, ensureEventPartitions } from './db/partitions.ts';
import { createAgentService } from './modules/agents/agents.service.ts';
import { createAgentStore } from './modules/agents/agents.store.ts';
import { createAlertsModule } from './modules/alerts/alerts.module.ts';
import { deriveLinkSecret } from './modules/approvals/approval-links.ts';
import { createApprovalService } from './modules/approvals/approvals.service.ts';
import { createControlService } from './modules/controls/controls.service.ts';
import { createBudgetEnforcer } from './modules/costs/budget-enforcer.ts';
import { createBudgetLedger } from './modules/costs/budget-ledger.system.ts';
import { createBudgetService } from './modules/costs/budgets.service.ts';
import { createBudgetStore } from './modules/costs/budgets.store.ts';
import { createCostQuoter } from './modules/costs/cost-quoter.system.ts';
import { createCostService } from './modules/costs/costs.service.ts';
import { createPriceOverrideService } from './modules/costs/price-overrides.service.ts';
import { createPriceOverrideStore } from './modules/costs/price-overrides.store.ts';
import { createPricer, loadShippedPriceTable } from './modules/costs/pricing.ts';
import { normalizeUsage } from './modules/costs/usage-normalizer.ts';
import { budgetPort } from './modules/governance/budget-port.ts';
import { createDataRightsService, EXPORT_QUEUE, type ExportJob } from './modules/governance/data-rights.service.ts';
import { loadShippedPacks } from './modules/governance/pack-catalog.ts';
import { createPolicyPackService } from './modules/governance/policy-packs.service.ts';
import { createAgentResolver } from './modules/ingestion/agent-resolver.ts';
import { createEnrichment } from './modules/ingestion/enrichment.ts';
import { createIngestionService } from './modules/ingestion/ingestion.service.ts';
import { createRetention } from './modules/ingestion/retention.ts';
import { createMcpEndpointService } from './modules/mcp-endpoints/mcp-endpoints.service.ts';
import { actionHash } from './modules/policies/engine/action-hash.ts';
import { hubContext } from './modules/policies/engine/context.ts';
import {
  type CompiledPolicySet,
  compilePolicySet,
  evaluate as evaluatePolicySet,
  type PolicyInput,
} from './modules/policies/engine/policy-set.ts';
import { createEvaluator, type PolicyEngine } from './modules/policies/evaluate.service.ts';
import { recordApprovalOutcome } from './modules/policies/index.ts';
import { createPolicyService } from './modules/policies/policies.service.ts';
import { createPolicyStore } from './modules/policies/policies.store.ts';
import { createSimulator } from './modules/policies/simulate.service.ts';
import { createPrivacyModule } from './modules/privacy/privacy.module.ts';
import { createReportSources } from './modules/reports/report-sources.ts';
import { createReportService } from './modules/reports/reports.service.ts';
import { createRunService } from './modules/runs/runs.service.ts';
import { createStatsService } from './modules/stats/stats.service.ts';
import { createApiKeyService } from './platform/api-keys/api-keys.service.ts';
import { createApiKeyStore } from './platform/api-keys/api-keys.store.ts';
import { createAuditStore } from './platform/audit/audit.store.ts';
import { createAuthenticator } from './platform/auth/authenticate.ts';
import { authOptions, createAuth, migrateAuth } from './platform/auth/better-auth.ts';
import { createSignupGate } from './platform/auth/signup-gate.ts';
import { createControlBus } from './platform/control-bus.ts';
import { createEgressGuard } from './platform/egress/egress.ts';
import { createJobRunner } from './platform/jobs/job-runner.ts';
import { workForOrg } from './platform/jobs/org-jobs.system.ts';
import { chain } from './platform/maybe-promise.ts';
import { createMailer } from './platform/notifications/mailer.ts';
import { createNotificationService } from './platform/notifications/notifications.service.ts';
import { createOrgService } from './platform/orgs/orgs.service.ts';
import { createOrgStore } from './platform/orgs/orgs.store.ts';
import { createPlanService } from './platform/plans.ts';
import { createSecretBox, resolveEncryptionKey } from './platform/secret-box.ts';
import { createWebhookService } from './platform/webhooks/webhooks.service.ts';

export async function createHubContext(
  config: Config,
  opts: { clock?: () => number; log: FastifyBaseLogger; db?: Db },
) {
  const clock = opts.clock ?? Date.now;
  const log = opts.log;
  const db =
    opts.db ?? openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, prepare: config.pgPrepare });
  const encryptionKey = resolveEncryptionKey(config.encryptionKey, config.dataDir, (m) => log.warn(m));
  const secretBox = createSecretBox(encryptionKey);

  const jobs = createJobRunner({ db, log, clock });
  const mailer = createMailer({ db, config, jobs, log, clock });
  const orgStore = createOrgStore(db.db);
  const signupGate = createSignupGate({
    policy: config.signup,
    initEmail: config.init.userEmail,
    countUsers: orgStore.countUsers,
    hasOpenInvitationFor: orgStore.hasOpenInvitationFor,
    clock,
  });
  const betterAuthOptions = authOptions(config, db, mailer, encryptionKey, signupGate);
  await migrateAuth(betterAuthOptions);
  await migrateHub(db);
  // PostgreSQL: keep monthly event partitions created ahead (a no-op on SQLite).
  await ensureEventPartitions(db, clock(), EVENT_PARTITION_MONTHS_AHEAD);
  const auth = createAuth(betterAuthOptions);

  const bus = await createControlBus({ databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, log });
  const audit = createAuditStore(db.db, db.dialect);
  const plans = createPlanService({ db: db.db, config, clock });
  const apiKeys = createApiKeyService({
    db: db.db,
    store: createApiKeyStore(db.db),
    audit,
    existingAgents: async (orgId, ids) => new Set((await createAgentStore(db.db).forOrg(orgId).namesOf(ids)).keys()),
    clock,
    // Other processes drop the key from their caches too.
    onRevoke: (keyHash) => void bus.publish('api_key.revoked', { key_hash: keyHash }).catch(() => {}),
  });
  bus.subscribe('api_key.revoked', (d) => apiKeys.evictByHash(String(d.key_hash)));
  const orgs = createOrgService({ db: db.db, store: orgStore, audit, config, mailer, plans, clock });
  // Every outbound request made for a user (webhooks, reports, approval callbacks) goes through it.
  const egress = createEgressGuard({ allow: config.egressAllow });
  const webhooks = createWebhookService({ db, audit, secretBox, jobs, clock, log, egress });
  // Hosted MCP endpoints (served in app.ts, which owns the routes the hosted gateway calls in process).
  const mcpEndpoints = createMcpEndpointService({
    db,
    audit,
    secretBox,
    egress,
    clock,
    // Every process ends the deleted endpoint's sessions (app.ts subscribes its hosting).
    onRemoved: (orgId, id) => void bus.publish('mcp_endpoint.deleted', { org_id: orgId, id }).catch(() => {}),
  });
  const notifications = createNotificationService({ db, mailer, webhooks, clock, log });
  // The ingest resolver caches agents; it is created below and dropped for an org on any agent change.
  let onAgentsChanged = (_orgId: string) => {};
  const agents = createAgentService({
    db: db.db,
    store: createAgentStore(db.db),
    audit,
    secretBox,
    plans,
    clock,
    onChange: (orgId) => {
      onAgentsChanged(orgId);
      void bus.publish('agents.changed', { org_id: orgId }).catch(() => {});
    },
  });
  const pricer = createPricer(loadShippedPriceTable());
  const priceOverrides = createPriceOverrideService({
    db: db.db,
    store: createPriceOverrideStore(db.db),
    audit,
    clock,
    onChange: (orgId) => void bus.publish('price_overrides.changed', { org_id: orgId }).catch(() => {}),
  });
  bus.subscribe('price_overrides.changed', (d) => priceOverrides.invalidate(String(d.org_id)));
  const quoter = createCostQuoter(pricer, priceOverrides);
  // Budgets count spend inside enrichment (exact); the enforcer, made below, acts on what it reached.
  let afterEnrichment = (_orgs: Set<string>, _crossings: number) => {};
  const enrichment = createEnrichment({
    db: db.db,
    dialect: db.dialect,
    sqlite: db.sqlite,
    quoter,
    log,
    ledger: createBudgetLedger({ clock }),
    onEnriched: (orgs, crossings) => afterEnrichment(orgs, crossings),
  });
  const agentResolver = createAgentResolver({ agents, clock, keyBinding: apiKeys.agentBinding });
  onAgentsChanged = (orgId) => agentResolver.invalidate(orgId);
  bus.subscribe('agents.changed', (d) => agentResolver.invalidate(String(d.org_id)));
  const controls = createControlService({
    db: db.db,
    audit,
    bus,
    notifications,
    clock,
    log,
    onAgentChanged: (orgId) => agentResolver.invalidate(orgId),
  });
  const budgetStore = createBudgetStore(db.db);
  const budgetEnforcer = createBudgetEnforcer({
    db: db.db,
    store: budgetStore,
    audit,
    notifications,
    controls,
    clock,
    log,
  });
  afterEnrichment = (orgs, crossings) => budgetEnforcer.afterEnrichment(orgs, crossings);
  const budgets = createBudgetService({
    db: db.db,
    dialect: db.dialect,
    store: budgetStore,
    audit,
    clock,
    settle: () => enrichment.settle(),
    events: {
      changed: (orgId) => budgetsChanged(orgId),
      removed: (orgId) => budgetsChanged(orgId),
    },
  });
  function budgetsChanged(orgId: string) {
    budgetEnforcer.invalidate(orgId);
    void budgetEnforcer.reconcile(new Set([orgId]));
    void bus.publish('budgets.changed', { org_id: orgId }).catch(() => {});
  }
  bus.subscribe('budgets.changed', (d) => budgetEnforcer.invalidate(String(d.org_id)));
  jobs.work('budgets.reconcile', async () => budgetEnforcer.reconcile());
  const costs = createCostService({ db: db.db, clock, settle: () => enrichment.settle() });
  // Ingestion and evaluation resolve agents through the budget throttle (a no-op without spent throttle budgets).
  const resolver: typeof agentResolver = {
    ...agentResolver,
    resolve(orgId, actor, idOrName, env) {
      return chain(agentResolver.resolve(orgId, actor, idOrName, env), (agent) =>
        chain(budgetEnforcer.admit(orgId, agent), () => agent),
      );
    },
  };
  const privacy = createPrivacyModule({ db, config, audit, clock, hashSecret: encryptionKey, agents, bus, jobs });
  const ingestion = createIngestionService({
    db: db.db,
    sqlite: db.sqlite,
    controls,
    privacy,
    resolver,
    clock,
    normalizeLlmPayload: (payload) => {
      const usage = normalizeUsage(payload);
      return usage ? { ...payload, ...usage, model: usage.model ?? payload.model } : payload;
    },
    onCommitted: () => enrichment.kick(),
    // The alerts module is made below; by the first request it exists.
    onRejected: (orgId, source, rejected) => alertsModule.ingestionErrors.record(orgId, source, rejected),
  });
  const policyStore = createPolicyStore(db.db);
  const approvals = createApprovalService({
    db: db.db,
    audit,
    bus,
    notifications,
    mailer,
    webhooks,
    jobs,
    memberships: orgs,
    onOutcome: recordApprovalOutcome,
    ruleOf: async (exec, orgId, policyId) => {
      const row = await policyStore.forOrg(orgId, exec).get(policyId);
      return row ? JSON.parse(row.rule) : null;
    },
    publicUrl: config.publicUrl,
    linkSecret: deriveLinkSecret(encryptionKey),
    clock,
    log,
    // The service hands its deps to the callback job (approval-jobs.ts), which posts through this guard.
    egress,
  });
  const engine: PolicyEngine<CompiledPolicySet> = {
    compile: (ps) => compilePolicySet(ps as PolicyInput[]),
    evaluate: (set, input, opts) => evaluatePolicySet(set, input, opts),
    actionHash: (agentId, action) => actionHash(agentId, action as Record<string, unknown>),
    context: (now, timezone, environment) => ({ ...hubContext(now, timezone, environment) }),
  };
  let onPoliciesChanged = (_orgId: string) => {};
  const policies = createPolicyService({
    db: db.db,
    store: policyStore,
    audit,
    clock,
    onChange: (orgId) => {
      onPoliciesChanged(orgId);
      void bus.publish('policies.changed', { org_id: orgId }).catch(() => {});
    },
  });
  const evaluator = createEvaluator({
    db: db.db,
    sqlite: db.sqlite,
    engine,
    loadActive: (orgId) => policies.active(orgId),
    orgs,
    policies: policyStore,
    resolver,
    controls,
    budgets: budgetEnforcer,
    approvals,
    audit,
    callbackUrls: egress,
    // Decision rows, approvals and audit entries keep what the agent's capture level keeps.
    privacy,
    clock,
  });
  onPoliciesChanged = (orgId) => evaluator.invalidate(orgId);
  bus.subscribe('policies.changed', (d) => evaluator.invalidate(String(d.org_id)));
  const simulatePolicy = createSimulator({ db: db.db, engine });
  const retention = createRetention({ db: db.db, dialect: db.dialect, dataDir: config.dataDir, plans, clock, log });
  jobs.work('retention', async () => retention.runAll());
  const runs = createRunService({ db: db.db, dialect: db.dialect, quoter });
  const stats = createStatsService({ db: db.db, clock });
  const alertsModule = createAlertsModule({ db, audit, notifications, webhooks, orgs, plans, jobs, clock, log });
  const reports = createReportService({
    db: db.db,
    audit,
    jobs,
    mailer,
    webhooks,
    sources: createReportSources({
      orgs,
      stats,
      costs,
      budgets: { list: (orgId) => budgets.list({ orgId }) },
      agents,
      runs,
      approvals,
      audit,
      plans,
    }),
    publicUrl: config.publicUrl,
    // Count what was ingested a moment ago: enrichment prices and rolls it up behind ingestion.
    settle: () => enrichment.catchUp(),
    clock,
    log,
  });
  const policyPacks = createPolicyPackService({
    db: db.db,
    audit,
    clock,
    catalog: loadShippedPacks(),
    policies,
    notifications,
    budgets: () => budgetPort(budgets),
  });
  const dataRights = createDataRightsService({
    db: db.db,
    dialect: db.dialect,
    dataDir: config.dataDir,
    audit,
    secretBox,
    jobs,
    clock,
    services: {
      members: (orgId) => orgs.members.list(orgId),
      teams: (orgId) => orgs.members.listTeams(orgId),
      invitations: (orgId) => orgs.invitations.list(orgId),
      apiKeys: (orgId) => apiKeys.list(orgId),
    },
    onOrgDeleted: async (orgId, keyHashes) => {
      for (const h of keyHashes) apiKeys.evictByHash(h);
      onPoliciesChanged(orgId);
      onAgentsChanged(orgId);
      // One message at a time: the bus's connection takes one query at once.
      for (const h of keyHashes) await bus.publish('api_key.revoked', { key_hash: h }).catch(() => {});
      await bus.publish('policies.changed', { org_id: orgId }).catch(() => {});
      await bus.publish('agents.changed', { org_id: orgId }).catch(() => {});
    },
  });
  workForOrg<ExportJob>(
    jobs,
    EXPORT_QUEUE,
    (p) => p.org_id,
    (orgId, payload, job) => dataRights.runExport(orgId, payload, job),
    { leaseMs: 30 * 60_000 },
  );
  const authenticate = createAuthenticator({
    apiKeys,
    auth,
    memberships: orgs,
    trustedOrigins: [config.publicUrl, ...config.corsOrigins],
  });

  return {
    config,
    db,
    clock,
    log,
    secretBox,
    privacy,
    auth,
    audit,
    bus,
    plans,
    apiKeys,
    orgs,
    agents,
    pricer,
    priceOverrides,
    resolver,
    controls,
    approvals,
    policies,
    evaluator,
    simulatePolicy,
    ingestion,
    enrichment,
    retention,
    runs,
    stats,
    ...alertsModule,
    reports,
    policyPacks,
    dataRights,
    costs,
    budgets,
    budgetEnforcer,
    jobs,
    mailer,
    webhooks,
    egress,
    mcpEndpoints,
    notifications,
    authenticate,
    async close() {
      evaluator.stop();
      await evaluator.drain();
      await evaluator.flushHits();
      await ingestion.drain();
      await enrichment.stop();
      await jobs.stop();
      await bus.close();
      await db.close();
    },
  };
}

export type HubContext = Awaited<ReturnType<typeof createHubContext>>;
