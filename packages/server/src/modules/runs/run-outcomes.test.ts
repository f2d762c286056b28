/**
 * Run outcomes end to end on a real hub: runs ended the way the SDKs end them when `guard()` is refused
 * (a BLOCK decision → `PolicyBlockedError`, the kill switch → `AgentPausedError`) are listed by
 * `GET /v1/runs?status=blocked|paused`, kept out of `status=failed`, and counted apart in the hourly
 * rollups, so the overview's success rate leaves them out at any volume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();
const enrich = () => t.hub.ctx.enrichment.catchUp();

/** Sends a finished run as the SDK does (`error: {name, message}` when it threw). */
async function endRun(a: SeededOrg, runId: string, agent: string, status: string, error?: unknown, at = Date.now()) {
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: a.apiKey,
    body: { run_id: runId, agent, status, started_at: iso(at - 1000), ended_at: iso(at), error },
  });
  expect(r.status, r.text).toBe(202);
}

const ids = async (a: SeededOrg, query: string) => {
  const r = await t.request('GET', `/v1/runs?${query}`, { auth: a.apiKey });
  expect(r.status, r.text).toBe(200);
  return (r.body.data as { id: string }[]).map((x) => x.id).sort();
};

describe('runs by outcome', () => {
  let a: SeededOrg;
  beforeAll(async () => {
    a = await t.seedOrg();
    // What makes a run blocked: the policy engine said BLOCK, and the SDK's guard() threw.
    const policy = await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'no drops',
        status: 'active',
        rule: { when: { field: 'action.type', op: 'eq', value: 'drop_table' }, then: 'block' },
      },
    });
    expect(policy.status, policy.text).toBe(201);
    const decision = await t.request('POST', '/v1/policy/evaluate', {
      auth: a.apiKey,
      body: { agent: 'OpsBot', run_id: 'r-blocked', action: { type: 'drop_table' } },
    });
    expect(decision.body.decision).toBe('BLOCK');
    await endRun(a, 'r-blocked', 'OpsBot', 'failed', { name: 'PolicyBlockedError', message: 'no drops' });
    await endRun(a, 'r-tool-blocked', 'OpsBot', 'failed', { name: 'ToolBlockedError', message: 'refused' });
    // What makes a run paused: the kill switch (or a pause), and the SDK's guard() threw.
    const kill = await t.request('POST', '/v1/controls/kill-switch', {
      auth: a.owner,
      body: { engaged: true, reason: 'test' },
    });
    expect(kill.status, kill.text).toBeLessThan(300);
    await endRun(a, 'r-paused', 'OpsBot', 'failed', { name: 'AgentPausedError', message: 'kill switch' });
    await t.request('POST', '/v1/controls/kill-switch', { auth: a.owner, body: { engaged: false } });
    // Real failures, whatever their message says.
    await endRun(a, 'r-failed', 'OpsBot', 'failed', { name: 'TypeError', message: 'Blocked and Paused in a message' });
    await endRun(a, 'r-timeout', 'OpsBot', 'failed', 'timeout');
    await endRun(a, 'r-bare', 'OpsBot', 'failed');
    await endRun(a, 'r-done', 'OpsBot', 'completed');
    await endRun(a, 'r-done-2', 'OtherBot', 'completed');
    const running = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: { run_id: 'r-running', agent: 'OpsBot', status: 'running', started_at: iso(Date.now()) },
    });
    expect(running.status).toBe(202);
    await enrich();
  });

  it('filters by every outcome the console shows, each run under exactly one', async () => {
    expect(await ids(a, 'status=blocked')).toEqual(['r-blocked', 'r-tool-blocked']);
    expect(await ids(a, 'status=paused')).toEqual(['r-paused']);
    expect(await ids(a, 'status=failed')).toEqual(['r-bare', 'r-failed', 'r-timeout']);
    expect(await ids(a, 'status=completed')).toEqual(['r-done', 'r-done-2']);
    expect(await ids(a, 'status=running')).toEqual(['r-running']);
    expect(await ids(a, 'status=blocked&agent=OtherBot')).toEqual([]);
  });

  it('says each run its outcome beside its stored status', async () => {
    const list = await t.request('GET', '/v1/runs?limit=50', { auth: a.apiKey });
    const by = new Map((list.body.data as { id: string; status: string; outcome: string }[]).map((r) => [r.id, r]));
    expect(by.get('r-blocked')).toMatchObject({ status: 'failed', outcome: 'blocked' });
    expect(by.get('r-paused')).toMatchObject({ status: 'failed', outcome: 'paused' });
    expect(by.get('r-failed')).toMatchObject({ status: 'failed', outcome: 'failed' });
    const one = await t.request('GET', '/v1/runs/r-tool-blocked', { auth: a.apiKey });
    expect(one.body.outcome).toBe('blocked');
  });

  it('answers 400 naming the field for a status no run can have', async () => {
    const r = await t.request('GET', '/v1/runs?status=stopped', { auth: a.apiKey });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain('status');
    expect(r.text).toContain('blocked');
  });

  it('counts blocked and paused runs apart in the overview; the success rate leaves them out', async () => {
    const o = await t.request('GET', '/v1/stats/overview', { auth: a.apiKey });
    expect(o.status, o.text).toBe(200);
    expect(o.body).toMatchObject({ runs: 9, completed: 2, failed: 3, blocked: 2, paused: 1, running: 1 });
    expect(o.body.success_rate).toBeCloseTo(2 / 5);
    const ops = o.body.top_agents.find((x: { name: string }) => x.name === 'OpsBot');
    expect(ops).toMatchObject({ runs: 8, failed: 3, blocked: 2, paused: 1 });
    const s = await t.request('GET', '/v1/stats/agents/OpsBot', { auth: a.apiKey });
    expect(s.body).toMatchObject({ completed: 1, failed: 3, blocked: 2, paused: 1 });
    expect(s.body.failure_rate).toBeCloseTo(3 / 4);
    // The org's adherence: the one evaluated action was blocked.
    const adh = await t.request('GET', '/v1/stats/adherence', { auth: a.apiKey });
    expect(adh.body).toMatchObject({ score: 0, evaluated: 1, blocked: 1 });
  });
});

describe('rollups follow a run that changes outcome', () => {
  it('moves a run from blocked to completed and back without counting it twice', async () => {
    const a = await t.seedOrg();
    const stats = async () => (await t.request('GET', '/v1/stats/overview', { auth: a.apiKey })).body;
    await endRun(a, 'r-1', 'Bot', 'failed', { name: 'PolicyBlockedError', message: 'no' });
    await enrich();
    expect(await stats()).toMatchObject({ runs: 1, blocked: 1, failed: 0, completed: 0 });
    await endRun(a, 'r-1', 'Bot', 'completed', null);
    await enrich();
    expect(await stats()).toMatchObject({ runs: 1, blocked: 0, failed: 0, completed: 1 });
    await endRun(a, 'r-1', 'Bot', 'failed', { name: 'AgentPausedError', message: 'paused' });
    await enrich();
    expect(await stats()).toMatchObject({ runs: 1, blocked: 0, paused: 1, failed: 0, completed: 0 });
    expect((await stats()).success_rate).toBe(0);
  });
});

describe('org adherence', () => {
  it('counts every agent of the org over the range, and no other org', async () => {
    const a = await t.seedOrg();
    const other = await t.seedOrg();
    for (const org of [a, other]) {
      const p = await t.request('POST', '/v1/policies', {
        auth: org.apiKey,
        body: {
          name: 'watch',
          status: 'active',
          rule: { when: { field: 'action.type', op: 'eq', value: 'send_email' }, then: 'log_only' },
        },
      });
      expect(p.status, p.text).toBe(201);
    }
    const ask = async (org: SeededOrg, agent: string, type: string) => {
      const r = await t.request('POST', '/v1/policy/evaluate', { auth: org.apiKey, body: { agent, action: { type } } });
      expect(r.status, r.text).toBe(200);
    };
    await ask(a, 'One', 'lookup');
    await ask(a, 'Two', 'lookup');
    await ask(a, 'Two', 'send_email');
    await ask(other, 'Elsewhere', 'send_email');
    await t.hub.ctx.evaluator.drain();
    const o = await t.request('GET', '/v1/stats/adherence', { auth: a.apiKey });
    expect(o.status, o.text).toBe(200);
    expect(o.body).toMatchObject({
      score: 2 / 3,
      evaluated: 3,
      adherent: 2,
      blocked: 0,
      rejected: 0,
      overridden: 1,
      pending: 0,
    });
    const past = await t.request('GET', `/v1/stats/adherence?from=${iso(0)}&to=${iso(3_600_000)}`, {
      auth: a.apiKey,
    });
    expect(past.body).toMatchObject({ score: null, evaluated: 0, from: iso(0) });
    expect((await t.request('GET', '/v1/stats/adherence?from=yesterday', { auth: a.apiKey })).status).toBe(400);
  });
});
