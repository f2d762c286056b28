import { DecisionSchema } from '@agentops-hub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
let clockOffset = 0;
beforeAll(async () => {
  // A movable clock, so approval expiry is tested without waiting.
  t = await createTestHub({}, { clock: () => Date.now() + clockOffset });
});
afterAll(async () => t?.close());

const discountPolicy = (extra: object = {}) => ({
  name: 'Discounts over 10% need a human',
  status: 'active',
  priority: 100,
  rule: {
    when: {
      all: [
        { field: 'action.type', op: 'eq', value: 'send_email' },
        { field: 'action.discount', op: 'gt', value: 10 },
      ],
    },
    then: 'require_approval',
    approval_timeout_s: 3600,
    ...extra,
  },
});
const evaluate = (a: SeededOrg, body: object) => t.request('POST', '/v1/policy/evaluate', { auth: a.apiKey, body });
const setup = async () => {
  const a = await t.seedOrg();
  await t.request('POST', '/v1/agents', {
    auth: a.apiKey,
    body: { name: 'Outreach', environment: 'prod', tags: ['outbound_email'] },
  });
  return a;
};

describe('policies API', () => {
  it('keeps every version with who and when, and rolls back by writing a new version', async () => {
    const a = await setup();
    const p = await t.request('POST', '/v1/policies', { auth: a.apiKey, body: discountPolicy() });
    expect(p.status).toBe(201);
    const v2 = await t.request('PUT', `/v1/policies/${p.body.id}`, {
      auth: a.apiKey,
      body: { ...discountPolicy(), rule: { when: discountPolicy().rule.when, then: 'block' } },
    });
    expect(v2.body).toMatchObject({ version: 2, rule: { then: 'block' } });
    expect((await evaluate(a, { agent: 'Outreach', action: { type: 'send_email', discount: 20 } })).body.decision).toBe(
      'BLOCK',
    );
    const back = await t.request('POST', `/v1/policies/${p.body.id}/rollback`, {
      auth: a.apiKey,
      body: { version: 1 },
    });
    expect(back.body).toMatchObject({ version: 3, rule: { then: 'require_approval' } });
    expect((await evaluate(a, { agent: 'Outreach', action: { type: 'send_email', discount: 20 } })).body.decision).toBe(
      'REQUIRE_APPROVAL',
    );
    const versions = await t.request('GET', `/v1/policies/${p.body.id}/versions`, { auth: a.apiKey });
    expect(versions.body.data.map((v: { version: number; change: string }) => [v.version, v.change])).toEqual([
      [3, 'rolled_back'],
      [2, 'updated'],
      [1, 'created'],
    ]);
    expect(versions.body.data[0].changed_by).toBeTruthy();
    const audit = await t.request('GET', `/v1/audit?entity_type=policy&entity_id=${p.body.id}`, { auth: a.apiKey });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
      'policy.rolled_back',
      'policy.updated',
      'policy.created',
    ]);
  });

  it('accepts YAML, answers YAML, and names the path of every error', async () => {
    const a = await setup();
    const yaml = 'name: Y\nstatus: active\nrule:\n  when: { field: action.type, op: eq, value: wire }\n  then: block\n';
    const p = await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      raw: yaml,
      headers: { 'content-type': 'application/yaml' },
    });
    expect(p.status).toBe(201);
    const back = await t.request('GET', `/v1/policies/${p.body.id}`, {
      auth: a.apiKey,
      headers: { accept: 'application/yaml' },
    });
    expect(back.headers['content-type']).toContain('yaml');
    expect(back.text).toContain('then: block');
    const broken = await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      raw: 'name: [unclosed',
      headers: { 'content-type': 'application/yaml' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].path).toBe('(yaml)');
    const bad = await t.request('POST', '/v1/policies/validate', {
      auth: a.apiKey,
      body: {
        name: 'x',
        rule: {
          when: {
            all: [
              { field: 'action.amount', op: 'gt', value: 1 },
              { field: 'action.x', op: 'bigger', value: 1 },
            ],
          },
          then: 'nope',
        },
      },
    });
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['rule.when.all.1.op', 'rule.then']),
    );
  });

  it('monitor mode records what it would have done without changing the answer', async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'Watch big sends',
        status: 'active',
        rule: { when: { field: 'action.type', op: 'eq', value: 'send_email' }, then: 'log_only' },
      },
    });
    const r = await evaluate(a, { agent: 'Outreach', action: { type: 'send_email', discount: 1 } });
    expect(r.body.decision).toBe('ALLOW');
    expect(r.body.monitors[0]).toMatchObject({ name: 'Watch big sends', effect: 'log_only' });
  });

  it("answers exactly the contract's Decision on every path (the route writes it without re-checking)", async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: discountPolicy({ approvers: { roles: ['admin'] } }),
    });
    await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'Watch refunds',
        status: 'active',
        rule: { when: { field: 'action.type', op: 'eq', value: 'refund' }, then: 'log_only' },
      },
    });
    const action = { type: 'send_email', discount: 20 };
    const plain = await evaluate(a, { agent: 'Outreach', action: { type: 'lookup' } });
    const monitored = await evaluate(a, { agent: 'Outreach', action: { type: 'refund' } });
    const asked = await evaluate(a, { agent: 'Outreach', action, idempotency_key: 'shape-1' });
    const replayed = await evaluate(a, { agent: 'Outreach', action, idempotency_key: 'shape-1' });
    for (const r of [plain, monitored, asked, replayed]) {
      expect(r.status).toBe(200);
      // Parsing drops keys the schema does not know: equal means the answer had none.
      expect(DecisionSchema.parse(r.body)).toStrictEqual(r.body);
    }
    expect(plain.body).toStrictEqual({ decision: 'ALLOW', decision_id: expect.any(String), reasons: [] });
    expect(monitored.body.monitors).toStrictEqual([
      { policy_id: expect.any(String), name: 'Watch refunds', effect: 'log_only', priority: 0 },
    ]);
    // The rule's approval settings (approvers, timeout) are not reasons: they stay off the wire.
    expect(asked.body.reasons).toStrictEqual([
      { policy_id: expect.any(String), name: discountPolicy().name, effect: 'require_approval', priority: 100 },
    ]);
    expect(replayed.body).toMatchObject({ replayed: true, approval_id: asked.body.approval_id });
  });

  it('defaults to deny when the org says so', async () => {
    const a = await setup();
    expect((await evaluate(a, { agent: 'Outreach', action: { type: 'anything' } })).body.decision).toBe('ALLOW');
    await t.request('PATCH', '/v1/org', { auth: a.apiKey, body: { settings: { default_deny: true } } });
    await new Promise((r) => setTimeout(r, 5100)); // org settings are cached for 5 s
    expect((await evaluate(a, { agent: 'Outreach', action: { type: 'anything' } })).body.decision).toBe('BLOCK');
  });

  it('the same idempotency key returns the same decision and approval', async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', { auth: a.apiKey, body: discountPolicy() });
    const body = { agent: 'Outreach', action: { type: 'send_email', discount: 30 }, idempotency_key: 'retry-1' };
    const first = await evaluate(a, body);
    const second = await evaluate(a, body);
    expect(second.body).toMatchObject({
      decision_id: first.body.decision_id,
      approval_id: first.body.approval_id,
      replayed: true,
    });
    const pending = await t.request('GET', '/v1/approvals?status=pending', { auth: a.apiKey });
    expect(pending.body.data).toHaveLength(1);
  });

  it('an allowed call with an idempotency key is recorded once, however many retries race it', async () => {
    const a = await setup();
    const body = { agent: 'Outreach', action: { type: 'lookup' }, idempotency_key: 'allow-race-1' };
    // Sent at once, so they meet in the same grouped commit: one row wins the key, the others answer it.
    const answers = await Promise.all(Array.from({ length: 6 }, () => evaluate(a, body)));
    const ids = new Set(answers.map((r) => r.body.decision_id));
    expect(answers.map((r) => r.status)).toStrictEqual([200, 200, 200, 200, 200, 200]);
    expect(ids.size).toBe(1);
    expect(answers.every((r) => r.body.decision === 'ALLOW')).toBe(true);
    const later = await evaluate(a, body);
    expect(later.body).toMatchObject({ decision_id: [...ids][0], replayed: true });
    // Another key is another decision.
    const other = await evaluate(a, { ...body, idempotency_key: 'allow-race-2' });
    expect(other.body.decision_id).not.toBe(later.body.decision_id);
    expect(other.body.replayed).toBeUndefined();
    // An allow stays out of the audit log, keyed or not.
    const audit = await t.request('GET', '/v1/audit?limit=100', { auth: a.apiKey });
    expect(audit.body.data.filter((e: { action: string }) => e.action.startsWith('policy.decision'))).toHaveLength(0);
  });

  it('links decisions and approvals to the run timeline', async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', { auth: a.apiKey, body: discountPolicy() });
    await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: { run_id: 'run-with-decision', agent: 'Outreach', status: 'running', started_at: new Date().toISOString() },
    });
    const d = await evaluate(a, {
      agent: 'Outreach',
      action: { type: 'send_email', discount: 50 },
      run_id: 'run-with-decision',
    });
    const run = await t.request('GET', '/v1/runs/run-with-decision', { auth: a.apiKey });
    expect(run.body.decisions[0]).toMatchObject({ id: d.body.decision_id, decision: 'REQUIRE_APPROVAL' });
    expect(run.body.approvals[0]).toMatchObject({ id: d.body.approval_id, status: 'pending' });
  });

  it('keeps a plain decision recorded while another transaction is open, when that one rolls back', async () => {
    // Plain decisions are committed synchronously when the connection is free (decisions.store.ts); on
    // SQLite, inside an open transaction the write would have become part of it. It must wait instead.
    const a = await setup();
    await evaluate(a, { agent: 'Outreach', action: { type: 'lookup' } }); // agent, settings and set cached
    let during: ReturnType<typeof evaluate> | undefined;
    const rolledBack = t.hub.ctx.db.db.transaction().execute(async (trx) => {
      await trx.selectFrom('decisions').select('id').limit(1).execute();
      during = evaluate(a, { agent: 'Outreach', action: { type: 'lookup' } });
      await new Promise((r) => setTimeout(r, 50)); // the decision is queued and flushed meanwhile
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    const r = await during!;
    expect(r.status).toBe(200);
    const row = await t.hub.ctx.db.db
      .selectFrom('decisions')
      .select(['id', 'decision'])
      .where('id', '=', r.body.decision_id)
      .executeTakeFirst();
    expect(row).toEqual({ id: r.body.decision_id, decision: 'ALLOW' });
  });

  it('simulates a draft over recorded actions', async () => {
    const a = await setup();
    await evaluate(a, { agent: 'Outreach', action: { type: 'refund', amount: 900 } });
    await evaluate(a, { agent: 'Outreach', action: { type: 'refund', amount: 5 } });
    const sim = await t.request('POST', '/v1/policies/simulate', {
      auth: a.apiKey,
      body: {
        policy: { name: 'draft', rule: { when: { field: 'action.amount', op: 'gt', value: 100 }, then: 'block' } },
        from: new Date(Date.now() - 60_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
      },
    });
    expect(sim.body).toMatchObject({ actions: 2, would_decide: { BLOCK: 1, ALLOW: 1 }, changed_from_recorded: 1 });
  });
});

describe('approvals', () => {
  it('long-poll wakes on the decision; the approval is used once; deciding twice is 409', async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', { auth: a.apiKey, body: discountPolicy() });
    const action = { type: 'send_email', discount: 15 };
    const req = await evaluate(a, { agent: 'Outreach', action });
    const waiting = t.request('GET', `/v1/approvals/${req.body.approval_id}?wait=10`, { auth: a.apiKey });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const ok = await t.request('POST', `/v1/approvals/${req.body.approval_id}/approve`, {
      auth: a.owner,
      body: { comment: 'fine' },
    });
    expect(ok.status).toBe(200);
    const waited = await waiting;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(waited.body).toMatchObject({ status: 'approved', comment: 'fine' });
    // A different action cannot ride on this approval.
    expect(
      (await evaluate(a, { agent: 'Outreach', action: { ...action, discount: 99 }, approval_id: req.body.approval_id }))
        .body.decision,
    ).not.toBe('ALLOW');
    expect((await evaluate(a, { agent: 'Outreach', action, approval_id: req.body.approval_id })).body.decision).toBe(
      'ALLOW',
    );
    expect(
      (await evaluate(a, { agent: 'Outreach', action, approval_id: req.body.approval_id })).body.decision,
    ).not.toBe('ALLOW');
    expect(
      (await t.request('POST', `/v1/approvals/${req.body.approval_id}/reject`, { auth: a.owner, body: {} })).status,
    ).toBe(409);
    const audit = await t.request('GET', `/v1/audit?entity_type=approval&entity_id=${req.body.approval_id}`, {
      auth: a.apiKey,
    });
    expect(audit.body.data[0]).toMatchObject({ action: 'approval.approved', reason: 'fine' });
  });

  it('expires after the policy timeout: expired means BLOCK, and it can no longer be decided', async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', { auth: a.apiKey, body: discountPolicy({ approval_timeout_s: 60 }) });
    const action = { type: 'send_email', discount: 25 };
    const req = await evaluate(a, { agent: 'Outreach', action });
    clockOffset = 61_000;
    try {
      const got = await t.request('GET', `/v1/approvals/${req.body.approval_id}`, { auth: a.apiKey });
      expect(got.body.status).toBe('expired');
      expect(
        (await t.request('POST', `/v1/approvals/${req.body.approval_id}/approve`, { auth: a.owner, body: {} })).status,
      ).toBe(409);
      expect((await evaluate(a, { agent: 'Outreach', action, approval_id: req.body.approval_id })).body.decision).toBe(
        'BLOCK',
      );
      expect((await t.request('GET', '/v1/approvals?status=expired', { auth: a.apiKey })).body.data).toHaveLength(1);
    } finally {
      clockOffset = 0;
    }
  });

  it('approvers: viewers never decide; a policy can name the roles that may', async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: discountPolicy({ approvers: { roles: ['admin'] } }),
    });
    const viewer = await t.addMember(a, 'viewer');
    const member = await t.addMember(a, 'member');
    const admin = await t.addMember(a, 'admin');
    const req = await evaluate(a, { agent: 'Outreach', action: { type: 'send_email', discount: 12 } });
    const id = req.body.approval_id;
    expect((await t.request('POST', `/v1/approvals/${id}/approve`, { auth: viewer.auth, body: {} })).status).toBe(403);
    expect((await t.request('POST', `/v1/approvals/${id}/approve`, { auth: member.auth, body: {} })).status).toBe(403);
    expect((await t.request('POST', `/v1/approvals/${id}/approve`, { auth: admin.auth, body: {} })).status).toBe(200);
  });

  it('two concurrent decisions: exactly one wins', async () => {
    const a = await setup();
    await t.request('POST', '/v1/policies', { auth: a.apiKey, body: discountPolicy() });
    const req = await evaluate(a, { agent: 'Outreach', action: { type: 'send_email', discount: 33 } });
    const results = await Promise.all([
      t.request('POST', `/v1/approvals/${req.body.approval_id}/approve`, { auth: a.owner, body: {} }),
      t.request('POST', `/v1/approvals/${req.body.approval_id}/reject`, { auth: a.owner, body: {} }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
  });
});

tenantIsolationSuite('policies', () => t, {
  create: async (a) =>
    (
      await t.request('POST', '/v1/policies', {
        auth: a.apiKey,
        body: { ...discountPolicy(), name: 'iso-policy-marker' },
      })
    ).body,
  routes: (id) => [
    ['GET', `/v1/policies/${id}`],
    ['PUT', `/v1/policies/${id}`, discountPolicy()],
    ['DELETE', `/v1/policies/${id}`],
    ['GET', `/v1/policies/${id}/versions`],
    ['POST', `/v1/policies/${id}/rollback`, { version: 1 }],
  ],
  list: ['/v1/policies'],
  marker: () => 'iso-policy-marker',
});

tenantIsolationSuite('approvals', () => t, {
  create: async (a) => {
    await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Outreach', environment: 'prod' } });
    await t.request('POST', '/v1/policies', { auth: a.apiKey, body: discountPolicy() });
    const r = await evaluate(a, { agent: 'Outreach', action: { type: 'send_email', discount: 77 } });
    return { id: r.body.approval_id };
  },
  routes: (id) => [
    ['GET', `/v1/approvals/${id}`],
    ['POST', `/v1/approvals/${id}/approve`, {}],
    ['POST', `/v1/approvals/${id}/reject`, {}],
  ],
  list: ['/v1/approvals'],
});
