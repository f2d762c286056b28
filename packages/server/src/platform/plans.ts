/**
 * Plans and feature flags: one table of what each plan includes (`PLANS`), one table of which routes
 * need which feature (`ROUTE_FEATURES`), and one guard that reads both (`guard`, bound to those routes
 * by app.ts when they are declared). Self-hosters get HUB_DEFAULT_PLAN (default `scale`, the top plan)
 * so they never meet a limit by surprise; a hosted deployment can sell `starter`/`growth`.
 *
 * A flag is on for an org when the org has an explicit override, else when the org falls inside the
 * flag's rollout percentage (a stable hash of org and flag, so an org does not flicker in and out).
 * Code that runs a flagged feature asks `featureEnabled(orgId, flag)`.
 *
 * Plans and overrides are cached per process for `CACHE_MS` so a guarded hot route (OTLP ingestion) pays
 * no query per request; a change made through this service drops its org's entry at once, other
 * processes see it within the TTL.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.ts';
import { orgScope } from '../db/org-scope.ts';
import type { Database } from '../db/schema.ts';
import type { OrgId } from './caller.ts';
import { AppError } from './errors.ts';
import { planOfOrg } from './orgs/orgs.store.ts';

export type PlanName = 'starter' | 'growth' | 'scale';
const PLAN_ORDER: readonly PlanName[] = ['starter', 'growth', 'scale'];

/**
 * Features a plan may include; each one is checked where it runs (see ROUTE_FEATURES and docs/plans.md).
 * Per-org single sign-on (SAML/OIDC) is not here because the hub has none yet: listing it would promise
 * what no route does (docs/plans.md says so; Google and Microsoft sign-in are per deployment, every plan).
 */
export type PlanFeature = 'policies' | 'approvals' | 'budgets' | 'reports' | 'otlp' | 'policy_simulation' | 'insights';

/** Words for a feature in the 402 sentence. */
export const FEATURE_LABELS: Record<PlanFeature, string> = {
  policies: 'Policies',
  approvals: 'Human approvals',
  budgets: 'Budgets',
  reports: 'Scheduled reports',
  otlp: 'OpenTelemetry (OTLP) ingestion',
  policy_simulation: 'Policy simulation',
  insights: 'Report insights',
};

export interface PlanLimits {
  agents: number;
  events_per_month: number;
  retention_days: number;
  members: number;
  features: PlanFeature[];
}

export const PLANS: Record<PlanName, PlanLimits> = {
  starter: { agents: 5, events_per_month: 100_000, retention_days: 14, members: 3, features: ['policies'] },
  growth: {
    agents: 50,
    events_per_month: 5_000_000,
    retention_days: 90,
    members: 25,
    features: ['policies', 'approvals', 'budgets', 'reports', 'otlp', 'policy_simulation'],
  },
  scale: {
    agents: 100_000,
    events_per_month: 1_000_000_000,
    retention_days: 365,
    members: 10_000,
    features: ['policies', 'approvals', 'budgets', 'reports', 'otlp', 'policy_simulation', 'insights'],
  },
};

/**
 * Flags in code: name → default rollout percentage (0–100). All three features shipped before their
 * flags did, so each rolls out to every org (100%): a flag must not take away what orgs already had.
 * An org turns one off (or back on) with an override.
 */
export const FEATURE_FLAGS: Record<string, { rollout: number; description: string }> = {
  otlp_ingest: { rollout: 100, description: 'OpenTelemetry trace ingestion' },
  policy_simulation: { rollout: 100, description: 'Simulate a policy over recorded actions' },
  insights: { rollout: 100, description: 'Computed "what changed" insights in reports' },
};
export type FeatureFlag = keyof typeof FEATURE_FLAGS;

/**
 * Which routes need which plan feature (and which flag). A route matches an entry when its method is
 * listed (or none is) and its URL is `path` or starts with `path/`. app.ts binds the guard to the /v1
 * routes; the Langfuse-compatible OTLP path (outside /v1) binds it itself (langfuse.routes.ts) from this
 * same entry. Routes reached by a link token (no caller, e.g. approval email links) are not guarded: the
 * feature was checked when the link was made.
 */
export const ROUTE_FEATURES: readonly { path: string; methods?: string[]; feature: PlanFeature; flag?: FeatureFlag }[] =
  [
    { path: '/v1/approvals', feature: 'approvals' },
    { path: '/v1/budgets', feature: 'budgets' },
    { path: '/v1/reports', feature: 'reports' },
    { path: '/v1/report-runs', feature: 'reports' },
    { path: '/v1/traces', methods: ['POST'], feature: 'otlp', flag: 'otlp_ingest' },
    { path: '/v1/logs', methods: ['POST'], feature: 'otlp', flag: 'otlp_ingest' },
    { path: '/api/public/otel', methods: ['POST'], feature: 'otlp', flag: 'otlp_ingest' },
    { path: '/v1/policies/simulate', methods: ['POST'], feature: 'policy_simulation', flag: 'policy_simulation' },
  ];

export type RouteFeature = (typeof ROUTE_FEATURES)[number];

/** The entry guarding a declared route, or undefined (most routes: no hook at all). */
export function routeFeatureOf(method: string | string[], url: string): RouteFeature | undefined {
  const methods = Array.isArray(method) ? method : [method];
  return ROUTE_FEATURES.find(
    (r) =>
      (url === r.path || url.startsWith(`${r.path}/`)) &&
      (!r.methods || methods.some((m) => r.methods!.includes(m.toUpperCase()))),
  );
}

/** The cheapest plan that includes `feature`. */
export const planWith = (feature: PlanFeature): PlanName =>
  PLAN_ORDER.find((p) => PLANS[p].features.includes(feature))!;

export function inRollout(orgId: string, flag: string, percent: number): boolean {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  const h = createHash('sha256').update(`${flag}:${orgId}`).digest();
  return h.readUInt32BE(0) % 100 < percent;
}

const CACHE_MS = 30_000;

export function createPlanService(deps: { db: Kysely<Database>; config: Config; clock?: () => number }) {
  const now = deps.clock ?? Date.now;
  // The built-in table with the deployment's own numbers (HUB_PLAN_LIMITS) laid over it; features stay.
  const table = Object.fromEntries(
    PLAN_ORDER.map((p) => [p, { ...PLANS[p], ...deps.config.planLimits?.[p] }]),
  ) as Record<PlanName, PlanLimits>;
  const cache = new Map<string, { at: number; plan: PlanName; overrides: Map<string, boolean> }>();

  // `exec` must be the caller's transaction when there is one: on SQLite the single connection is held
  // by the open transaction, and a query on the root handle would wait for it forever.
  async function planOf(orgId: OrgId, exec: Kysely<Database> | Transaction<Database> = deps.db): Promise<PlanName> {
    return ((await planOfOrg(exec, orgId)) as PlanName | undefined) ?? deps.config.defaultPlan;
  }

  /** The org's plan and flag overrides, from the per-process cache. */
  async function orgState(orgId: OrgId) {
    const hit = cache.get(orgId);
    if (hit && now() - hit.at < CACHE_MS) return hit;
    const rows = await orgScope(deps.db, orgId).selectFrom('org_feature_flags').select(['flag', 'enabled']).execute();
    const state = {
      at: now(),
      plan: await planOf(orgId),
      overrides: new Map(rows.map((o) => [o.flag, Number(o.enabled) === 1])),
    };
    cache.set(orgId, state);
    return state;
  }

  const flagOn = (orgId: string, flag: string, overrides: Map<string, boolean>) =>
    overrides.get(flag) ?? inRollout(orgId, flag, FEATURE_FLAGS[flag]?.rollout ?? 0);

  type OrgState = { plan: PlanName; overrides: Map<string, boolean> };

  /**
   * Why `feature` cannot run for the org, or null when it can: 402 plan_feature_unavailable naming the
   * feature and the plan that has it, else (when the feature has a flag) 403 naming the flag that is off.
   */
  function refusal(orgId: string, state: OrgState, feature: PlanFeature, flag?: FeatureFlag): AppError | null {
    if (!PLANS[state.plan].features.includes(feature)) {
      const needed = planWith(feature);
      return new AppError(
        'plan_feature_unavailable',
        `${FEATURE_LABELS[feature]} is not included in your ${state.plan} plan; it comes with the ${needed} plan. Upgrade to use it.`,
        { feature, plan: state.plan, required_plan: needed },
      );
    }
    if (flag && !flagOn(orgId, flag, state.overrides))
      return new AppError(
        'forbidden',
        `${FEATURE_LABELS[feature]} is switched off for this org (feature flag ${flag}). An admin can turn it on with PUT /v1/org/features/${flag}.`,
        { flag },
      );
    return null;
  }

  return {
    defaultPlan: () => deps.config.defaultPlan,
    /**
     * What each plan includes, cheapest first, with this deployment's numbers (HUB_PLAN_LIMITS), and each
     * feature with its words and the cheapest plan that has it: what `GET /v1/plans` answers, so the
     * console can say what the org's plan lacks and which plan brings it without a copy of this table.
     */
    catalog: () => ({
      plans: PLAN_ORDER.map((name) => ({ name, ...table[name] })),
      features: (Object.keys(FEATURE_LABELS) as PlanFeature[]).map((feature) => ({
        feature,
        label: FEATURE_LABELS[feature],
        plan: planWith(feature),
      })),
    }),
    limits: async (orgId: OrgId) => table[await planOf(orgId)],
    /** Drops the cached plan and flags of an org (after a plan change). */
    invalidate: (orgId: string) => void cache.delete(orgId),
    /** Throws plan_limit_reached with words a person understands. */
    async assertWithin(
      orgId: OrgId,
      limit: 'agents' | 'members',
      current: number,
      exec?: Kysely<Database> | Transaction<Database>,
    ) {
      const plan = await planOf(orgId, exec);
      const max = table[plan][limit];
      if (current >= max)
        throw new AppError(
          'plan_limit_reached',
          `Your ${plan} plan allows ${max} ${limit}; you have ${current}. Upgrade the plan or remove some first.`,
          { limit, max, plan },
        );
    },
    /** The one plan check: 402 when the org's plan does not include `feature`. */
    async requireFeature(orgId: OrgId, feature: PlanFeature) {
      const no = refusal(orgId, await orgState(orgId), feature);
      if (no) throw no;
    },
    /**
     * For a feature that runs inside another answer (report insights inside a report): the error the
     * guard would throw (plan, then flag), or null when the feature may run, so that answer can say why
     * it left the feature out in the same words as the 402 or 403.
     */
    async unavailable(orgId: OrgId, feature: PlanFeature, flag?: FeatureFlag): Promise<AppError | null> {
      return refusal(orgId, await orgState(orgId), feature, flag);
    },
    /**
     * The route guard: the plan must include the route's feature (402), and its flag must be on for the
     * org (403 naming the flag). It is bound only to the routes in ROUTE_FEATURES. With the org's
     * state cached it answers synchronously (undefined, or a throw): no promise on the OTLP hot path.
     */
    guard(orgId: OrgId, entry: RouteFeature): Promise<void> | undefined {
      const check = (state: OrgState) => {
        const no = refusal(orgId, state, entry.feature, entry.flag);
        if (no) throw no;
      };
      const hit = cache.get(orgId);
      if (hit && now() - hit.at < CACHE_MS) return void check(hit);
      return orgState(orgId).then(check);
    },
    /** Whether `flag` is on for the org (override, else rollout): ask it where the flagged feature runs. */
    async featureEnabled(orgId: OrgId, flag: FeatureFlag) {
      return flagOn(orgId, flag, (await orgState(orgId)).overrides);
    },
    async flags(orgId: OrgId): Promise<Record<string, boolean>> {
      const { overrides } = await orgState(orgId);
      return Object.fromEntries(Object.keys(FEATURE_FLAGS).map((flag) => [flag, flagOn(orgId, flag, overrides)]));
    },
    async setFlag(orgId: OrgId, flag: string, enabled: boolean | null, at = now()) {
      if (!FEATURE_FLAGS[flag])
        throw new AppError('validation_failed', `Unknown feature flag ${flag}`, {
          errors: [{ path: 'flag', message: `one of ${Object.keys(FEATURE_FLAGS).join(', ')}` }],
        });
      const scope = orgScope(deps.db, orgId);
      if (enabled === null) await scope.deleteFrom('org_feature_flags').where('flag', '=', flag).execute();
      else
        await scope
          .insertInto('org_feature_flags', { flag, enabled: enabled ? 1 : 0, updated_at: at })
          .onConflict((oc) => oc.columns(['org_id', 'flag']).doUpdateSet({ enabled: enabled ? 1 : 0, updated_at: at }))
          .execute();
      cache.delete(orgId);
    },
  };
}
export type PlanService = ReturnType<typeof createPlanService>;
