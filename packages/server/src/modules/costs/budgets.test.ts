import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { testDialect } from '../../testing/test-db.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

/** A clock the tests move: budgets are about calendar periods. */
let now = Date.parse('2026-11-24T18:00:00Z');
const clock = () => now;

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub({}, { clock });
});
afterAll(async () => t?.close());

async function orgIn(timezone: string) {
  const a = await t.seedOrg();
  const r = await t.request('PATCH', '/v1/org', { auth: a.apiKey, body: { timezone } });
  expect(r.status, r.text).toBe(200);
  return a;
}
async function agent(a: SeededOrg, name: string, teamId?: string) {
  const r = await t.request('POST', '/v1/agents', {
    auth: a.apiKey,
    body: { name, environment: 'prod', team_id: teamId },
  });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; name: string };
}
/** One completed run with one LLM call of `cost` USD, at the clock's time. */
async function spend(a: SeededOrg, agentName: string, cost: number, at = now) {
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: a.apiKey,
    body: {
      agent: agentName,
      status: 'completed',
      started_at: new Date(at - 1000).toISOString(),
      ended_at: new Date(at).toISOString(),
      events: [
        {
          type: 'llm_call',
          timestamp: new Date(at).toISOString(),
          payload: { model: 'gpt-4o', input_tokens: 10, output_tokens: 5, cost_usd: cost },
        },
      ],
    },
  });
  expect(r.status, r.text).toBeLessThan(300);
}
/** Enrichment prices and counts; the enforcer notifies and acts. Tests run both by hand. */
async function settle() {
  await t.hub.ctx.ingestion.drain();
  await t.hub.ctx.enrichment.catchUp();
  await t.hub.ctx.budgetEnforcer.reconcile();
}
const budget = async (a: SeededOrg, body: Record<string, unknown>) => {
  const r = await t.request('POST', '/v1/budgets', { auth: a.apiKey, body });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; spent_usd: number; period_start: string };
};
const getBudget = async (a: SeededOrg, id: string) =>
  (await t.request('GET', `/v1/budgets/${id}`, { auth: a.apiKey })).body;
const titles = async (a: SeededOrg) =>
  ((await t.request('GET', '/v1/notifications', { auth: a.owner })).body.data as { title: string }[]).map(
    (n) => n.title,
  );
const evaluate = (a: SeededOrg, agentName: string, action: Record<string, unknown> = { type: 'send_email' }) =>
  t.request('POST', '/v1/policy/evaluate', { auth: a.apiKey, body: { agent: agentName, action } });
const statusOf = async (a: SeededOrg, id: string) =>
  (await t.request('GET', `/v1/agents/${id}`, { auth: a.apiKey })).body.status as string;

describe('budgets API', () => {
  it('creates, lists, changes and deletes a budget; bad input names the field', async () => {
    now = Date.parse('2026-11-24T18:00:00Z');
    const a = await orgIn('UTC');
    const bot = await agent(a, 'CrudBot');
    const b = await budget(a, {
      scope: 'agent',
      scope_id: bot.id,
      amount_usd: 2.5,
      period: 'week',
      thresholds: [80, 50],
    });
    expect(b).toMatchObject({
      id: expect.stringMatching(/^bud_/),
      name: 'CrudBot weekly budget',
      scope_name: 'CrudBot',
      amount_usd: 2.5,
      thresholds: [50, 80],
      on_exceed: 'notify',
      spent_usd: 0,
      state: 'ok',
      // ISO weeks start on Monday: 2026-11-23.
      period_start: '2026-11-23T00:00:00.000Z',
      period_end: '2026-11-30T00:00:00.000Z',
    });
    const list = await t.request('GET', '/v1/budgets', { auth: a.apiKey });
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([b.id]);

    // The list names every scope (looked up together, not one query per budget).
    const other = await agent(a, 'OtherBot');
    const orgWide = await budget(a, { scope: 'org', amount_usd: 10, period: 'month' });
    const second = await budget(a, { scope: 'agent', scope_id: other.id, amount_usd: 1, period: 'day' });
    const names = (await t.request('GET', '/v1/budgets', { auth: a.apiKey })).body.data.map(
      (x: { id: string; scope_name: string | null }) => [x.id, x.scope_name],
    );
    expect(new Map(names)).toEqual(
      new Map([
        [b.id, 'CrudBot'],
        [second.id, 'OtherBot'],
        [orgWide.id, expect.any(String)],
      ]),
    );
    for (const id of [orgWide.id, second.id]) await t.request('DELETE', `/v1/budgets/${id}`, { auth: a.apiKey });

    const patched = await t.request('PATCH', `/v1/budgets/${b.id}`, {
      auth: a.apiKey,
      body: { amount_usd: 5, on_exceed: 'pause' },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ amount_usd: 5, on_exceed: 'pause' });

    const bad = await t.request('POST', '/v1/budgets', {
      auth: a.apiKey,
      body: { scope: 'agent', scope_id: bot.id, amount_usd: -5, period: 'fortnight' },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    const paths = (bad.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['amount_usd', 'period']));
    const noScope = await t.request('POST', '/v1/budgets', {
      auth: a.apiKey,
      body: { scope: 'team', amount_usd: 1, period: 'day' },
    });
    expect(noScope.status).toBe(400);
    expect(noScope.text).toContain('scope_id');
    const unknown = await t.request('POST', '/v1/budgets', {
      auth: a.apiKey,
      body: { scope: 'agent', scope_id: 'agt_nope', amount_usd: 1, period: 'day' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('scope_id');

    const del = await t.request('DELETE', `/v1/budgets/${b.id}`, { auth: a.apiKey });
    expect(del.status).toBe(204);
    expect((await t.request('GET', `/v1/budgets/${b.id}`, { auth: a.apiKey })).status).toBe(404);
    const audit = await t.request('GET', '/v1/audit?entity_type=budget', { auth: a.apiKey });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['budget.created', 'budget.updated', 'budget.deleted']),
    );
  });

  it('viewers read budgets but may not manage them; a new budget starts from what its period already spent', async () => {
    now = Date.parse('2026-11-24T18:00:00Z');
    const a = await orgIn('UTC');
    await agent(a, 'SeedBot');
    await spend(a, 'SeedBot', 0.3);
    await settle();
    const b = await budget(a, { scope: 'org', amount_usd: 1, period: 'day', thresholds: [25] });
    expect(b.spent_usd).toBe(0.3);
    await t.hub.ctx.budgetEnforcer.reconcile();
    expect(await titles(a)).toContain(`${a.org.name} (all agents) reached 25% of its daily budget ($0.30 of $1.00)`);
    const viewer = await t.addMember(a, 'viewer');
    expect((await t.request('GET', '/v1/budgets', { auth: viewer.auth })).status).toBe(200);
    const denied = await t.request('POST', '/v1/budgets', {
      auth: viewer.auth,
      body: { scope: 'org', amount_usd: 1, period: 'day' },
    });
    expect(denied.status).toBe(403);
  });
});

describe('thresholds, pause and release across a period boundary in a non-UTC time zone', () => {
  it('notifies each threshold once per period, pauses at 100%, and releases at local midnight', async () => {
    // 23:00 on Nov 24 in Los Angeles (UTC−8): the local day started at 08:00 UTC.
    now = Date.parse('2026-11-25T07:00:00Z');
    const a = await orgIn('America/Los_Angeles');
    const bot = await agent(a, 'CostBot');
    const b = await budget(a, {
      scope: 'agent',
      scope_id: bot.id,
      amount_usd: 1,
      period: 'day',
      thresholds: [50, 80, 100],
      on_exceed: 'pause',
    });
    expect(b.period_start).toBe('2026-11-24T08:00:00.000Z');

    await spend(a, 'CostBot', 0.6);
    await settle();
    expect(await getBudget(a, b.id)).toMatchObject({ spent_usd: 0.6, percent: 60, thresholds_reached: [50] });
    await spend(a, 'CostBot', 0.1);
    await settle();
    expect((await titles(a)).filter((x) => x.includes('50%'))).toEqual([
      'CostBot reached 50% of its daily budget ($0.60 of $1.00)',
    ]);
    expect(await statusOf(a, bot.id)).toBe('active');

    await spend(a, 'CostBot', 0.45);
    await settle();
    const all = await titles(a);
    expect(all).toContain('CostBot reached 80% of its daily budget ($1.15 of $1.00)');
    expect(all).toContain('CostBot reached 100% of its daily budget ($1.15 of $1.00)');
    expect(all.filter((x) => x.includes('reached 50%'))).toHaveLength(1);
    expect(await statusOf(a, bot.id)).toBe('paused');
    const blocked = await evaluate(a, 'CostBot');
    expect(blocked.body.decision).toBe('BLOCK');
    expect(JSON.stringify(blocked.body)).toMatch(/budget/i);
    expect(await getBudget(a, b.id)).toMatchObject({ state: 'pausing', spent_usd: 1.15 });

    // A person pauses a second agent covered by an org budget too: the budget release must leave it paused.
    const manual = await agent(a, 'ManualBot');
    await t.request('POST', `/v1/agents/${manual.id}/pause`, { auth: a.apiKey, body: { reason: 'by hand' } });

    // 00:30 local on Nov 25: a new period; the budget pause is released by the next reconcile.
    now = Date.parse('2026-11-25T08:30:00Z');
    await t.hub.ctx.budgetEnforcer.reconcile();
    expect(await statusOf(a, bot.id)).toBe('active');
    expect(await statusOf(a, manual.id)).toBe('paused');
    const fresh = await getBudget(a, b.id);
    expect(fresh).toMatchObject({
      spent_usd: 0,
      state: 'ok',
      period_start: '2026-11-25T08:00:00.000Z',
      thresholds_reached: [],
    });
    expect((await evaluate(a, 'CostBot')).body.decision).toBe('ALLOW');

    // The new period notifies its thresholds again, once.
    await spend(a, 'CostBot', 0.55);
    await settle();
    expect((await titles(a)).filter((x) => x.includes('reached 50%'))).toHaveLength(2);

    const audit = await t.request('GET', `/v1/audit?entity_type=budget`, { auth: a.apiKey });
    const actions = audit.body.data.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['budget.threshold_reached', 'budget.paused_agents', 'budget.released']),
    );
  });

  it('a late event for the previous period counts there, not in the running one', async () => {
    now = Date.parse('2026-11-25T12:00:00Z');
    const a = await orgIn('Asia/Tokyo');
    const bot = await agent(a, 'LateBot');
    const b = await budget(a, { scope: 'agent', scope_id: bot.id, amount_usd: 1, period: 'day' });
    // 2026-11-25T14:00Z is 23:00 in Tokyo on Nov 25 — the running local day is Nov 25 (started 2026-11-24T15:00Z)
    expect(b.period_start).toBe('2026-11-24T15:00:00.000Z');
    await spend(a, 'LateBot', 0.9, Date.parse('2026-11-24T14:59:00Z')); // 23:59 Nov 24 local: yesterday
    await spend(a, 'LateBot', 0.2, Date.parse('2026-11-24T15:01:00Z')); // 00:01 Nov 25 local: today
    await settle();
    expect(await getBudget(a, b.id)).toMatchObject({ spent_usd: 0.2 });
    expect(await titles(a)).not.toContain(expect.stringContaining('LateBot reached'));
  });
});

describe('throttle and estimated cost', () => {
  it('throttles a spent agent to its trickle until the budget is raised', async () => {
    now = Date.parse('2026-11-24T18:00:10Z');
    const a = await orgIn('UTC');
    const bot = await agent(a, 'ChattyBot');
    const b = await budget(a, {
      scope: 'agent',
      scope_id: bot.id,
      amount_usd: 0.5,
      period: 'month',
      on_exceed: 'throttle',
      throttle_per_minute: 2,
    });
    expect((await evaluate(a, 'ChattyBot')).status).toBe(200);
    await spend(a, 'ChattyBot', 0.6);
    await settle();
    expect(await getBudget(a, b.id)).toMatchObject({ state: 'throttling' });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await evaluate(a, 'ChattyBot'));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 429, 429]);
    expect(answers[2]!.headers['retry-after']).toBeDefined();
    expect(answers[2]!.body.detail).toMatch(/throttled by budget/);
    // Ingestion is throttled too.
    const ingest = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: { agent: 'ChattyBot', status: 'running', started_at: new Date(now).toISOString() },
    });
    expect(ingest.status).toBe(429);
    // Another agent of the org is not.
    await agent(a, 'QuietBot');
    expect((await evaluate(a, 'QuietBot')).status).toBe(200);

    const raised = await t.request('PATCH', `/v1/budgets/${b.id}`, { auth: a.apiKey, body: { amount_usd: 5 } });
    expect(raised.body.state).toBe('ok');
    expect((await evaluate(a, 'ChattyBot')).status).toBe(200);
  });

  it('BLOCKs an action whose estimated cost would take a pause budget past its amount', async () => {
    now = Date.parse('2026-11-24T18:00:00Z');
    const a = await orgIn('UTC');
    const team = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'Ops' } });
    const bot = await agent(a, 'PlannerBot', team.body.id);
    await budget(a, { scope: 'team', scope_id: team.body.id, amount_usd: 1, period: 'day', on_exceed: 'pause' });
    await spend(a, 'PlannerBot', 0.5);
    await settle();
    const tooMuch = await evaluate(a, 'PlannerBot', { type: 'generate_report', estimated_cost_usd: 0.6 });
    expect(tooMuch.body.decision).toBe('BLOCK');
    expect(tooMuch.body.reasons[0].message).toMatch(
      /Budget "Ops daily budget" would be exceeded: \$0\.50 spent \+ \$0\.60/,
    );
    const fits = await evaluate(a, 'PlannerBot', { type: 'generate_report', estimated_cost_usd: 0.4 });
    expect(fits.body.decision).toBe('ALLOW');
    const bad = await evaluate(a, 'PlannerBot', { type: 'x', estimated_cost_usd: -1 });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('estimated_cost_usd');
    expect(await statusOf(a, bot.id)).toBe('active');
  });
});

describe('exact counting under concurrency', () => {
  it('many parallel ingest requests crossing thresholds: exact total, one notification per threshold', async () => {
    now = Date.parse('2026-11-24T18:00:00Z');
    const a = await orgIn('Europe/Paris');
    const bot = await agent(a, 'BurstBot');
    const b = await budget(a, {
      scope: 'agent',
      scope_id: bot.id,
      amount_usd: 1,
      period: 'day',
      thresholds: [25, 50, 75, 100],
    });
    // A second hub on the same database enriches concurrently (on PostgreSQL: another process's enricher).
    const second = await createTestHub({}, { clock, shareWith: { database: t.database } });
    try {
      t.hub.ctx.enrichment.start();
      if (testDialect() === 'postgres') second.hub.ctx.enrichment.start();
      const n = 60;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? second : t).request('POST', '/v1/ingest/run', {
            auth: a.apiKey,
            body: {
              agent: 'BurstBot',
              status: 'completed',
              started_at: new Date(now - 1000).toISOString(),
              ended_at: new Date(now).toISOString(),
              events: [
                {
                  type: 'llm_call',
                  timestamp: new Date(now).toISOString(),
                  payload: { model: 'gpt-4o', input_tokens: 1, output_tokens: 1, cost_usd: 0.023 },
                },
              ],
            },
          }),
        ),
      );
      await t.hub.ctx.enrichment.stop();
      await second.hub.ctx.enrichment.stop();
      await second.hub.ctx.ingestion.drain();
      await settle();
      await second.hub.ctx.budgetEnforcer.reconcile();
      // 60 × $0.023 = $1.38, exactly.
      expect(await getBudget(a, b.id)).toMatchObject({ spent_usd: 1.38, thresholds_reached: [25, 50, 75, 100] });
      const all = await titles(a);
      for (const pct of [25, 50, 75, 100])
        expect(
          all.filter((x) => x.includes(`reached ${pct}%`)),
          `${pct}%`,
        ).toHaveLength(1);
    } finally {
      await second.hub.close();
    }
  });
});

tenantIsolationSuite('budgets', () => t, {
  create: async (a) => {
    const bot = await agent(a, `IsoBot-${Math.random().toString(36).slice(2, 7)}`);
    const r = await t.request('POST', '/v1/budgets', {
      auth: a.apiKey,
      body: { scope: 'agent', scope_id: bot.id, amount_usd: 3, period: 'day' },
    });
    return r.body;
  },
  routes: (id) => [
    ['GET', `/v1/budgets/${id}`],
    ['PATCH', `/v1/budgets/${id}`, { amount_usd: 9 }],
    ['DELETE', `/v1/budgets/${id}`],
  ],
  list: ['/v1/budgets'],
});
