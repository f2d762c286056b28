/**
 * Plans and feature flags. Self-hosters get HUB_DEFAULT_PLAN (default `scale`, generous limits) so they
 * never meet a limit by surprise; a hosted deployment can sell `starter`/`growth`. A flag is on for an
 * org when the org has an explicit override, else when the org falls inside the flag's rollout
 * percentage (a stable hash of org and flag, so an org does not flicker in and out).
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { OrgId } from './caller.ts';
import { AppError } from './errors.ts';

export type PlanName = 'starter' | 'growth' | 'scale';

export interface PlanLimits {
  agents: number;
  events_per_month: number;
  retention_days: number;
  members: number;
  features: string[];
}

export const PLANS: Record<PlanName, PlanLimits> = {
  starter: { agents: 5, events_per_month: 100_000, retention_days: 14, members: 3, features: ['policies'] },
  growth: {
    agents: 50,
    events_per_month: 5_000_000,
    retention_days: 90,
    members: 25,
    features: ['policies', 'approvals', 'budgets', 'reports'],
  },
  scale: {
    agents: 100_000,
    events_per_month: 1_000_000_000,
    retention_days: 365,
    members: 10_000,
    features: ['policies', 'approvals', 'budgets', 'reports', 'sso', 'audit_export', 'mcp_gateway'],
  },
};

/** Flags in code: name → default rollout percentage (0–100). */
export const FEATURE_FLAGS: Record<string, { rollout: number; description: string }> = {
  otlp_ingest: { rollout: 100, description: 'OpenTelemetry trace ingestion' },
  policy_simulation: { rollout: 100, description: 'Simulate a policy over recorded actions' },
  insights: { rollout: 0, description: 'Computed "what changed" insights in reports' },
};

export function inRollout(orgId: string, flag: string, percent: number): boolean {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  const h = createHash('sha256').update(`${flag}:${orgId}`).digest();
  return h.readUInt32BE(0) % 100 < percent;
}

export function createPlanService(deps: { db: Kysely<Database>; config: Config }) {
  // `exec` must be the caller's transaction when there is one: on SQLite the single connection is held
  // by the open transaction, and a query on the root handle would wait for it forever.
  async function planOf(orgId: OrgId, exec: Kysely<Database> | Transaction<Database> = deps.db): Promise<PlanName> {
    const org = await exec.selectFrom('orgs').select('plan').where('id', '=', orgId).executeTakeFirst();
    return (org?.plan as PlanName) ?? deps.config.defaultPlan;
  }
  return {
    defaultPlan: () => deps.config.defaultPlan,
    limits: async (orgId: OrgId) => PLANS[await planOf(orgId)],
    /** Throws plan_limit_reached with words a person understands. */
    async assertWithin(
      orgId: OrgId,
      limit: 'agents' | 'members',
      current: number,
      exec?: Kysely<Database> | Transaction<Database>,
    ) {
      const plan = await planOf(orgId, exec);
      const max = PLANS[plan][limit];
      if (current >= max)
        throw new AppError(
          'plan_limit_reached',
          `Your ${plan} plan allows ${max} ${limit}; you have ${current}. Upgrade the plan or remove some first.`,
          { limit, max, plan },
        );
    },
    async flags(orgId: OrgId): Promise<Record<string, boolean>> {
      const overrides = await deps.db
        .selectFrom('org_feature_flags')
        .select(['flag', 'enabled'])
        .where('org_id', '=', orgId)
        .execute();
      const byFlag = new Map(overrides.map((o) => [o.flag, Number(o.enabled) === 1]));
      return Object.fromEntries(
        Object.entries(FEATURE_FLAGS).map(([flag, f]) => [flag, byFlag.get(flag) ?? inRollout(orgId, flag, f.rollout)]),
      );
    },
    async setFlag(orgId: OrgId, flag: string, enabled: boolean | null, now = Date.now()) {
      if (!FEATURE_FLAGS[flag])
        throw new AppError('validation_failed', `Unknown feature flag ${flag}`, {
          errors: [{ path: 'flag', message: `one of ${Object.keys(FEATURE_FLAGS).join(', ')}` }],
        });
      if (enabled === null) {
        await deps.db.deleteFrom('org_feature_flags').where('org_id', '=', orgId).where('flag', '=', flag).execute();
        return;
      }
      await deps.db
        .insertInto('org_feature_flags')
        .values({ org_id: orgId, flag, enabled: enabled ? 1 : 0, updated_at: now })
        .onConflict((oc) => oc.columns(['org_id', 'flag']).doUpdateSet({ enabled: enabled ? 1 : 0, updated_at: now }))
        .execute();
    },
  };
}
export type PlanService = ReturnType<typeof createPlanService>;
