/**
 * Agent stats through the API on a real hub: the adherence score per agent and per run, from real policy
 * decisions (a BLOCK, an approval rejected, an approval granted, a monitor-mode match, plain allows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

describe('adherence', () => {
  it('scores an agent and each run: share of evaluated actions with no block, rejection or override', async () => {
    const a = await t.seedOrg();
    const bot = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'AdhBot', environment: 'prod' },
    });
    expect(bot.status, bot.text).toBe(201);
    const policy = async (name: string, type: string, then: string) => {
      const r = await t.request('POST', '/v1/policies', {
        auth: a.apiKey,
        body: { name, status: 'active', rule: { when: { field: 'action.type', op: 'eq', value: type }, then } },
      });
      expect(r.status, r.text).toBe(201);
    };
    await policy('no drops', 'drop_table', 'block');
    await policy('refunds need a human', 'refund', 'require_approval');
    await policy('watch emails', 'send_email', 'log_only');
    const run = async (runId: string) => {
      const r = await t.request('POST', '/v1/ingest/run', {
        auth: a.apiKey,
        body: { run_id: runId, agent: 'AdhBot', status: 'completed', started_at: new Date().toISOString() },
      });
      expect(r.status, r.text).toBeLessThan(300);
    };
    const ask = async (runId: string, type: string) => {
      const r = await t.request('POST', '/v1/policy/evaluate', {
        auth: a.apiKey,
        body: { agent: 'AdhBot', run_id: runId, action: { type, amount: 1 } },
      });
      expect(r.status, r.text).toBe(200);
      return r.body as { decision: string; approval_id?: string };
    };
    await run('adh-clean');
    await run('adh-messy');
    // The clean run: two plain allows and an approval a person granted.
    await ask('adh-clean', 'lookup');
    await ask('adh-clean', 'lookup');
    const granted = await ask('adh-clean', 'refund');
    expect(
      (await t.request('POST', `/v1/approvals/${granted.approval_id}/approve`, { auth: a.owner, body: {} })).status,
    ).toBe(200);
    // The messy run: a block, a rejected approval, a monitor match, one allow and one approval still waiting.
    expect((await ask('adh-messy', 'drop_table')).decision).toBe('BLOCK');
    const refused = await ask('adh-messy', 'refund');
    expect(
      (await t.request('POST', `/v1/approvals/${refused.approval_id}/reject`, { auth: a.owner, body: {} })).status,
    ).toBe(200);
    await ask('adh-messy', 'send_email');
    await ask('adh-messy', 'lookup');
    await ask('adh-messy', 'refund');
    await t.hub.ctx.evaluator.drain();
    await t.hub.ctx.ingestion.drain();

    const s = await t.request('GET', `/v1/stats/agents/${bot.body.id}`, { auth: a.apiKey });
    expect(s.status, s.text).toBe(200);
    // 7 evaluated (8 decisions, 1 pending): 4 adherent, 1 blocked, 1 rejected, 1 overridden.
    expect(s.body.adherence).toEqual({
      score: 4 / 7,
      evaluated: 7,
      adherent: 4,
      blocked: 1,
      rejected: 1,
      overridden: 1,
      pending: 1,
    });
    const byRun = new Map(s.body.latest_runs.map((r: { id: string; adherence: unknown }) => [r.id, r.adherence]));
    expect(byRun.get('adh-clean')).toMatchObject({ score: 1, evaluated: 3, adherent: 3 });
    expect(byRun.get('adh-messy')).toMatchObject({
      score: 0.25,
      evaluated: 4,
      blocked: 1,
      rejected: 1,
      overridden: 1,
      pending: 1,
    });
  });

  it('has no score for an agent that asked nothing', async () => {
    const a = await t.seedOrg();
    const bot = await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Quiet', environment: 'prod' } });
    const s = await t.request('GET', `/v1/stats/agents/${bot.body.id}`, { auth: a.apiKey });
    expect(s.body.adherence).toMatchObject({ score: null, evaluated: 0 });
  });
});
