/**
 * @module plans
 * What each plan includes (`GET /v1/plans`), the org's own plan with its usage (`GET /v1/org/plan`), and
 * the 402 a request outside the plan answers. The server's table is `platform/plans.ts`; docs/plans.md
 * says what each feature switches.
 */
import { z } from 'zod';
import { PlanSchema } from './orgs.ts';

/**
 * A feature a plan may include; each one is checked where it runs. Per-org single sign-on is not one:
 * the hub has none yet (docs/plans.md), so no plan can sell it.
 */
export const PlanFeatures = [
  'policies',
  'approvals',
  'budgets',
  'reports',
  'otlp',
  'policy_simulation',
  'insights',
] as const;
export const PlanFeatureSchema = z.enum(PlanFeatures);
export type PlanFeature = z.infer<typeof PlanFeatureSchema>;

/** A plan's limits and features, with the deployment's own numbers (HUB_PLAN_LIMITS). */
export const PlanLimitsSchema = z.object({
  agents: z.number().int(),
  events_per_month: z.number().int(),
  retention_days: z.number().int(),
  members: z.number().int(),
  features: z.array(PlanFeatureSchema),
});
export type PlanLimits = z.infer<typeof PlanLimitsSchema>;

/**
 * `GET /v1/plans`: every plan, cheapest first, and every feature with its words and the cheapest plan
 * that has it. Not org data: the same for every caller of a hub.
 * @example
 * { "plans": [{ "name": "starter", "agents": 5, "events_per_month": 100000, "retention_days": 14,
 *   "members": 3, "features": ["policies"] }, …],
 *   "features": [{ "feature": "budgets", "label": "Budgets", "plan": "growth" }, …] }
 */
export const PlanCatalogSchema = z.object({
  plans: z.array(PlanLimitsSchema.extend({ name: PlanSchema })),
  features: z.array(z.object({ feature: PlanFeatureSchema, label: z.string(), plan: PlanSchema })),
});
export type PlanCatalog = z.infer<typeof PlanCatalogSchema>;

/**
 * The org's billable events (runs plus model calls) this calendar month (UTC), against its plan. Owners
 * and admins are told at 80% and at 100%; past the limit nothing is dropped (`over_limit` is the flag).
 */
export const PlanUsageSchema = z.object({
  /** `2026-12` */
  month: z.string(),
  events: z.number(),
  events_per_month: z.number(),
  percent: z.number(),
  over_limit: z.boolean(),
});
export type PlanUsage = z.infer<typeof PlanUsageSchema>;

/** `GET /v1/org/plan`: the org's plan, its limits, each feature flag (on or off) and this month's usage. */
export const OrgPlanSchema = z.object({
  plan: PlanSchema,
  limits: PlanLimitsSchema,
  features: z.record(z.string(), z.boolean()),
  usage: PlanUsageSchema,
});
export type OrgPlan = z.infer<typeof OrgPlanSchema>;
