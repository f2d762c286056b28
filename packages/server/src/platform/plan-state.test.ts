/**
 * What the console's plan page reads, through the API on a real hub: `GET /v1/plans` (every plan with the
 * deployment's numbers, every feature with the cheapest plan that has it) and `GET /v1/org/plan` (the
 * org's plan and this month's usage), both held to their contracts' schemas; and the promise the console
 * builds on: for each feature the org's plan lacks, the catalogue names the same plan as the 402 sentence.
 */
import { OrgPlanSchema, PlanCatalogSchema } from '@agentops-hub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  // A hosted deployment: new orgs start on the smallest plan, sold here with 1,000 events a month.
  t = await createTestHub({
    HUB_DEFAULT_PLAN: 'starter',
    HUB_PLAN_LIMITS: JSON.stringify({ starter: { events_per_month: 1000 } }),
  });
});
afterAll(async () => {
  await t?.close();
});

/** One call per guarded feature that a plain GET (or an empty simulation) reaches. */
const CALLS: Record<string, { method: 'GET' | 'POST'; url: string; body?: unknown }> = {
  approvals: { method: 'GET', url: '/v1/approvals' },
  budgets: { method: 'GET', url: '/v1/budgets' },
  reports: { method: 'GET', url: '/v1/reports' },
  otlp: { method: 'POST', url: '/v1/traces', body: { resourceSpans: [] } },
  policy_simulation: {
    method: 'POST',
    url: '/v1/policies/simulate',
    body: {
      policy: { name: 'draft', rule: { when: { field: 'action.type', op: 'eq', value: 'x' }, then: 'block' } },
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date().toISOString(),
    },
  },
};

describe('GET /v1/plans', () => {
  it('lists the plans cheapest first with the deployment numbers, and each feature with its plan', async () => {
    const a = await t.seedOrg();
    const res = await t.request('GET', '/v1/plans', { auth: a.apiKey });
    expect(res.status, res.text).toBe(200);
    const catalog = PlanCatalogSchema.parse(res.body);
    expect(catalog.plans.map((p) => p.name)).toEqual(['starter', 'growth', 'scale']);
    expect(catalog.plans[0]).toMatchObject({ events_per_month: 1000, agents: 5, retention_days: 14 });
    expect(catalog.plans[0]!.features).toEqual(['policies']);
    const planOf = Object.fromEntries(catalog.features.map((f) => [f.feature, f.plan]));
    expect(planOf).toMatchObject({ policies: 'starter', budgets: 'growth', insights: 'scale' });
    // Per-org single sign-on is not built, so no plan lists it (docs/plans.md).
    expect(planOf).not.toHaveProperty('sso');
    expect(catalog.features.find((f) => f.feature === 'otlp')?.label).toBe('OpenTelemetry (OTLP) ingestion');
    // "The cheapest plan that has it": in that plan, and in none before it.
    for (const f of catalog.features) {
      const at = catalog.plans.findIndex((p) => p.name === f.plan);
      expect(catalog.plans[at]!.features).toContain(f.feature);
      for (const cheaper of catalog.plans.slice(0, at)) expect(cheaper.features).not.toContain(f.feature);
    }
  });

  it('is readable by a viewer and a read-only key, and not without credentials', async () => {
    const a = await t.seedOrg();
    const viewer = await t.addMember(a, 'viewer');
    expect((await t.request('GET', '/v1/plans', { auth: viewer.auth })).status).toBe(200);
    const key = await t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: 'ro', scopes: ['read'] } });
    expect((await t.request('GET', '/v1/plans', { auth: key.body.key })).status).toBe(200);
    const anon = await t.request('GET', '/v1/plans', { auth: null });
    expect(anon.status).toBe(401);
    expect(anon.headers['content-type']).toContain('application/problem+json');
  });
});

describe("the org's plan against the catalogue", () => {
  it('the org plan answer holds to its schema, usage included, and starts the month at 0%', async () => {
    const a = await t.seedOrg();
    const res = await t.request('GET', '/v1/org/plan', { auth: a.apiKey });
    expect(res.status, res.text).toBe(200);
    const plan = OrgPlanSchema.parse(res.body);
    expect(plan.plan).toBe('starter');
    expect(plan.usage).toMatchObject({ events: 0, events_per_month: 1000, percent: 0, over_limit: false });
    expect(plan.usage.month).toBe(new Date().toISOString().slice(0, 7));
  });

  it('each feature the plan lacks answers 402 naming the plan the catalogue names', async () => {
    const a = await t.seedOrg();
    const catalog = PlanCatalogSchema.parse((await t.request('GET', '/v1/plans', { auth: a.apiKey })).body);
    const plan = OrgPlanSchema.parse((await t.request('GET', '/v1/org/plan', { auth: a.apiKey })).body);
    const lacking = catalog.features.filter((f) => !plan.limits.features.includes(f.feature));
    expect(lacking.map((f) => f.feature)).toEqual(
      expect.arrayContaining(['approvals', 'budgets', 'reports', 'otlp', 'policy_simulation']),
    );
    for (const f of lacking) {
      const call = CALLS[f.feature];
      if (!call) continue; // insights have no route of their own: the report says why (docs/plans.md)
      const out = await t.request(call.method, call.url, { auth: a.apiKey, body: call.body });
      expect(out.status, `${f.feature}: ${out.text}`).toBe(402);
      expect(out.body.code).toBe('plan_feature_unavailable');
      expect(out.body.detail).toBe(
        `${f.label} is not included in your starter plan; it comes with the ${f.plan} plan. Upgrade to use it.`,
      );
    }
  });
});
