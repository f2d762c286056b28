/**
 * Plans that switch things, through the API on a real hub: every guarded plan feature answers 402
 * `plan_feature_unavailable` (naming the feature and the plan that has it) outside the plan and works
 * inside it, OTLP on each of its paths (/v1/traces, /v1/logs, Langfuse's /api/public/otel); report
 * insights, which have no route of their own, are left out of the report with the same sentence; flags
 * switch OTLP ingestion, policy simulation and insights per org; events per month are counted from the
 * rollups of real ingestion, with one notice at 80% and one at 100%, and nothing dropped past it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCapture } from '../testing/smtp-capture.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';
import { PLANS, type PlanName } from './plans.ts';

const LIMIT = 1000;
let t: TestHub;
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
beforeAll(async () => {
  smtp = await startSmtpCapture();
  // A hosted deployment: new orgs start on the smallest plan, which it sells with 1,000 events a month.
  t = await createTestHub({
    HUB_DEFAULT_PLAN: 'starter',
    HUB_PLAN_LIMITS: JSON.stringify({ starter: { events_per_month: LIMIT } }),
    SMTP_URL: smtp.url,
  });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

/** Moves an org to another plan the way billing would: the orgs row, then the cached plan is dropped. */
async function movePlan(a: SeededOrg, plan: PlanName) {
  await t.hub.ctx.db.db.updateTable('orgs').set({ plan }).where('id', '=', a.org.id).execute();
  t.hub.ctx.plans.invalidate(a.org.id);
}

const otlp = (a: SeededOrg) =>
  t.request('POST', '/v1/traces', {
    auth: a.apiKey,
    body: { resourceSpans: [] },
  });
const otlpLogs = (a: SeededOrg) => t.request('POST', '/v1/logs', { auth: a.apiKey, body: { resourceLogs: [] } });
const langfuseOtel = (a: SeededOrg) =>
  t.request('POST', '/api/public/otel/v1/traces', { auth: a.apiKey, body: { resourceSpans: [] } });
/** The insight a first spend makes (report-insights.ts): what a report with insights says here. */
const FIRST_SPEND = 'First spend in this range';
/** One finished run with a priced model call, so this week's report has something to say. */
async function spend(a: SeededOrg) {
  const at = new Date(Date.now() - 60_000).toISOString();
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: a.apiKey,
    body: {
      agent: 'Spender',
      status: 'completed',
      started_at: at,
      ended_at: at,
      events: [{ type: 'llm_call', timestamp: at, payload: { model: 'gpt-4o', input_tokens: 10, cost_usd: 0.5 } }],
    },
  });
  expect(r.status, r.text).toBe(202);
}
/** This week's summary as HTML (the preview renders what a run would send). */
async function preview(a: SeededOrg): Promise<string> {
  const r = await t.request('POST', '/v1/reports/preview', { auth: a.apiKey, body: { template: 'weekly_summary' } });
  expect(r.status, r.text).toBe(200);
  return r.text;
}
const simulate = (a: SeededOrg) =>
  t.request('POST', '/v1/policies/simulate', {
    auth: a.apiKey,
    body: {
      policy: { name: 'draft', rule: { when: { field: 'action.type', op: 'eq', value: 'x' }, then: 'block' } },
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date().toISOString(),
    },
  });

/** One request per guarded feature, and the feature's label and the cheapest plan that has it. */
const FEATURES: { name: string; label: RegExp; plan: PlanName; call: (a: SeededOrg) => ReturnType<typeof otlp> }[] = [
  {
    name: 'approvals',
    label: /Human approvals/,
    plan: 'growth',
    call: (a) => t.request('GET', '/v1/approvals', { auth: a.apiKey }),
  },
  {
    name: 'budgets',
    label: /Budgets/,
    plan: 'growth',
    call: (a) => t.request('GET', '/v1/budgets', { auth: a.apiKey }),
  },
  {
    name: 'reports',
    label: /Scheduled reports/,
    plan: 'growth',
    call: (a) => t.request('GET', '/v1/reports', { auth: a.apiKey }),
  },
  { name: 'otlp', label: /OpenTelemetry/, plan: 'growth', call: otlp },
  { name: 'otlp (logs)', label: /OpenTelemetry/, plan: 'growth', call: otlpLogs },
  { name: 'otlp (Langfuse OTel path)', label: /OpenTelemetry/, plan: 'growth', call: langfuseOtel },
  { name: 'policy_simulation', label: /Policy simulation/, plan: 'growth', call: simulate },
];

describe('plan features', () => {
  it('the self-hosted default is the top plan', async () => {
    const plain = await createTestHub();
    try {
      const a = await plain.seedOrg();
      const plan = await plain.request('GET', '/v1/org/plan', { auth: a.apiKey });
      expect(plan.body).toMatchObject({ plan: 'scale', limits: PLANS.scale });
    } finally {
      await plain.close();
    }
  });

  for (const f of FEATURES)
    it(`${f.name}: 402 naming the feature and the ${f.plan} plan outside it, works inside it`, async () => {
      const a = await t.seedOrg();
      const out = await f.call(a);
      expect(out.status, out.text).toBe(402);
      expect(out.headers['content-type']).toContain('application/problem+json');
      expect(out.body).toMatchObject({ code: 'plan_feature_unavailable' });
      expect(out.body.detail).toMatch(f.label);
      expect(out.body.detail).toContain(`starter plan`);
      expect(out.body.detail).toContain(`the ${f.plan} plan`);
      await movePlan(a, f.plan);
      const inside = await f.call(a);
      expect(inside.status, inside.text).toBeLessThan(300);
    });

  it('insights: a report outside the scale plan says so in the 402 sentence, inside it has them', async () => {
    const a = await t.seedOrg();
    await movePlan(a, 'growth');
    await spend(a);
    const outside = await preview(a);
    expect(outside).toContain(
      'Report insights is not included in your growth plan; it comes with the scale plan. Upgrade to use it.',
    );
    expect(outside).not.toContain(FIRST_SPEND);
    await movePlan(a, 'scale');
    const inside = await preview(a);
    expect(inside).toContain(FIRST_SPEND);
    expect(inside).not.toContain('not included in your');
  });
});

describe('feature flags where the feature runs', () => {
  it('OTLP ingestion and policy simulation follow the org override; other orgs keep the rollout', async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    await movePlan(a, 'scale');
    await movePlan(b, 'scale');
    for (const [flag, call] of [
      ['otlp_ingest', otlp],
      ['policy_simulation', simulate],
    ] as const) {
      const off = await t.request('PUT', `/v1/org/features/${flag}`, { auth: a.apiKey, body: { enabled: false } });
      expect(off.body.features[flag]).toBe(false);
      const refused = await call(a);
      expect(refused.status, refused.text).toBe(403);
      expect(refused.body.detail).toContain(`feature flag ${flag}`);
      expect((await call(b)).status).toBeLessThan(300);
      await t.request('PUT', `/v1/org/features/${flag}`, { auth: a.apiKey, body: { enabled: true } });
      expect((await call(a)).status).toBeLessThan(300);
    }
    for (const call of [otlpLogs, langfuseOtel]) {
      await t.request('PUT', '/v1/org/features/otlp_ingest', { auth: a.apiKey, body: { enabled: false } });
      const refused = await call(a);
      expect(refused.status, refused.text).toBe(403);
      expect(refused.body.detail).toContain('feature flag otlp_ingest');
      await t.request('PUT', '/v1/org/features/otlp_ingest', { auth: a.apiKey, body: { enabled: null } });
      expect((await call(a)).status).toBeLessThan(300);
    }
  });

  it('insights are on by default (they existed before the flag); an org with the flag off is told why', async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    for (const o of [a, b]) {
      await movePlan(o, 'scale');
      await spend(o);
    }
    expect((await t.request('GET', '/v1/org/plan', { auth: a.apiKey })).body.features.insights).toBe(true);
    await t.request('PUT', '/v1/org/features/insights', { auth: a.apiKey, body: { enabled: false } });
    const off = await preview(a);
    expect(off).toContain(
      'Report insights is switched off for this org (feature flag insights). An admin can turn it on with PUT /v1/org/features/insights.',
    );
    expect(off).not.toContain(FIRST_SPEND);
    expect(await preview(b)).toContain(FIRST_SPEND);
    await t.request('PUT', '/v1/org/features/insights', { auth: a.apiKey, body: { enabled: true } });
    expect(await preview(a)).toContain(FIRST_SPEND);
  });
});

describe('events per month', () => {
  it('counts runs and model calls from the rollups, notifies once at 80% and once at 100%, drops nothing', async () => {
    const a = await t.seedOrg();
    const limit = LIMIT;
    const at = new Date().toISOString();
    /** One run with `calls` model calls, in batches of 1000 events (the batch limit). */
    async function ingest(runId: string, calls: number) {
      const first = await t.request('POST', '/v1/ingest/run', {
        auth: a.apiKey,
        body: { run_id: runId, agent: 'Chatty', status: 'running', started_at: at },
      });
      expect(first.status, first.text).toBe(202);
      for (let done = 0; done < calls; done += 1000) {
        const events = Array.from({ length: Math.min(1000, calls - done) }, (_, i) => ({
          run_id: runId,
          event_id: `${runId}-${done + i}`,
          type: 'llm_call',
          timestamp: at,
          payload: { model: 'gpt-4o-mini', input_tokens: 1, output_tokens: 1 },
        }));
        const r = await t.request('POST', '/v1/ingest/events', { auth: a.apiKey, body: { events } });
        expect(r.status, r.text).toBe(202);
        expect(r.body.rejected ?? []).toEqual([]);
      }
      await t.hub.ctx.ingestion.drain();
      await t.hub.ctx.enrichment.catchUp();
    }
    const usage = async () => (await t.request('GET', '/v1/org/plan', { auth: a.apiKey })).body.usage;
    const notices = async () =>
      ((await t.request('GET', '/v1/notifications', { auth: a.owner })).body.data as { type: string; title: string }[])
        .filter((n) => n.type === 'plan.usage')
        .map((n) => n.title);

    await ingest('usage-1', 0.8 * limit - 1);
    expect(await usage()).toMatchObject({ events: 0.8 * limit, events_per_month: limit, over_limit: false });
    await t.hub.ctx.planUsage.notifyAll();
    await t.hub.ctx.planUsage.notifyAll();
    expect(await notices()).toEqual(['Your org used 80% of its monthly events']);

    await ingest('usage-2', 0.2 * limit + 99);
    expect(await usage()).toMatchObject({ events: limit + 100, over_limit: true });
    await t.hub.ctx.planUsage.notifyAll();
    await t.hub.ctx.planUsage.notifyAll();
    expect((await notices()).sort()).toEqual([
      'Your org reached 100% of its monthly events',
      'Your org used 80% of its monthly events',
    ]);
    await t.hub.ctx.jobs.drain();
    const mail = await smtp.waitFor(a.email, /reached 100% of its monthly events/);
    expect(mail.text).toContain('Nothing is dropped');
    // Past the limit, ingestion still accepts.
    const more = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: { agent: 'Chatty', status: 'completed', started_at: at, ended_at: at },
    });
    expect(more.status, more.text).toBe(202);
  });
});
