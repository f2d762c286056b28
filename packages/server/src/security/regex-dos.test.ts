// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
/**
 * Finding 1 of the security review, reproduced as reported:
 * - `^(.|.)*Q$` passed validation (only nested quantifiers and backreferences were refused) and ran on
 *   JavaScript's backtracking RegExp: a viewer or `read` key froze the hub 12.8 s through
 *   `POST /v1/policies/simulate` over one recorded 28-character action, and an `ingest` key froze it 8 s
 *   on `POST /v1/policy/evaluate` against `{not: {… matches '^([a-z0-9]|[a-z])+$'}}`; every extra
 *   character doubled it. Now patterns run on RE2 (linear time), what RE2 cannot run is refused with
 *   400 naming the field, and simulating needs the permission that writes policies and is bounded in
 *   rows and time.
 * - Decision rows kept the whole action (up to the 8 MB body limit): now a summary marked `_truncated`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileMatcher } from '../modules/policies/engine/pattern.ts';
import { compilePolicySet, evaluate as evaluateSet, type PolicyInput } from '../modules/policies/engine/policy-set.ts';
import { createSimulator } from '../modules/policies/simulate.service.ts';
import { MAX_STORED_JSON } from '../modules/policies/stored-action.ts';
import type { OrgId } from '../platform/caller.ts';
import { type Auth, createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

/** Generous for a shared CI machine; the reported requests took 8–12.8 s and doubled per character. */
const QUICK_MS = 500;

const window = () => ({
  from: new Date(Date.now() - 60_000).toISOString(),
  to: new Date(Date.now() + 60_000).toISOString(),
});
const evaluate = (auth: string, body: object) => t.request('POST', '/v1/policy/evaluate', { auth, body });
const simulate = (auth: Auth, when: object, extra: object = {}) =>
  t.request('POST', '/v1/policies/simulate', {
    auth,
    body: { policy: { name: 'draft', rule: { when, then: 'block' } }, ...window(), ...extra },
  });
const keyWith = async (a: SeededOrg, scope: string) =>
  (await t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: scope, scopes: [scope] } })).body
    .key as string;

async function orgWithAgent() {
  const a = await t.seedOrg();
  await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Outreach', environment: 'prod' } });
  return a;
}

describe('policy patterns run in linear time', () => {
  it('simulating ^(.|.)*Q$ over recorded 28-character actions answers in milliseconds, /healthz meanwhile', async () => {
    const a = await orgWithAgent();
    // As reported: one recorded 28-character action that does not match (2^28 paths for a backtracker).
    expect(
      (await evaluate(a.apiKey, { agent: 'Outreach', action: { type: 'post', text: 'a'.repeat(28) } })).status,
    ).toBe(200);
    // And one that does, so the answer is not merely fast.
    await evaluate(a.apiKey, { agent: 'Outreach', action: { type: 'post', text: `${'a'.repeat(27)}Q` } });

    const started = performance.now();
    const [sim, health] = await Promise.all([
      simulate(a.apiKey, { field: 'action.text', op: 'matches', value: '^(.|.)*Q$' }),
      t.request('GET', '/healthz'),
    ]);
    const elapsed = performance.now() - started;
    expect(health.status).toBe(200);
    expect(sim.status).toBe(200);
    expect(sim.body).toMatchObject({
      actions: 2,
      matched: 1,
      would_decide: { BLOCK: 1, ALLOW: 1 },
      truncated: false,
      truncated_reason: null,
      rows_examined: 2,
    });
    expect(elapsed).toBeLessThan(QUICK_MS);
  });

  it('simulating needs the permission that writes policies: viewers and read keys get 403', async () => {
    const a = await orgWithAgent();
    const viewer = await t.addMember(a, 'viewer');
    const readKey = await keyWith(a, 'read');
    const when = { field: 'action.text', op: 'matches', value: '^(.|.)*Q$' };
    expect((await simulate(viewer.auth, when)).status).toBe(403);
    expect((await simulate(readKey, when)).status).toBe(403);
    // They still read and validate policies.
    expect((await t.request('GET', '/v1/policies', { auth: readKey })).status).toBe(200);
    const admin = await t.addMember(a, 'admin');
    expect((await simulate(admin.auth, when)).status).toBe(200);
  });

  it('the live path: an ingest key against `not matches ^([a-z0-9]|[a-z])+$` is answered quickly and rightly', async () => {
    const a = await orgWithAgent();
    const created = await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'Handles are lowercase letters and digits',
        status: 'active',
        rule: { when: { not: { field: 'action.handle', op: 'matches', value: '^([a-z0-9]|[a-z])+$' } }, then: 'block' },
      },
    });
    expect(created.status).toBe(201);
    const ingest = await keyWith(a, 'ingest');
    const attacker = `${'a'.repeat(40)}!`;
    const started = performance.now();
    const blocked = await evaluate(ingest, { agent: 'Outreach', action: { type: 'rename', handle: attacker } });
    expect(performance.now() - started).toBeLessThan(QUICK_MS);
    expect(blocked.status).toBe(200);
    expect(blocked.body.decision).toBe('BLOCK');
    const fine = await evaluate(ingest, { agent: 'Outreach', action: { type: 'rename', handle: 'a'.repeat(40) } });
    expect(fine.body.decision).toBe('ALLOW');
  });

  it('refuses what RE2 cannot run (backreferences, lookaround) with 400 naming the field', async () => {
    const a = await orgWithAgent();
    const policy = (value: string) => ({
      name: 'Repeated words',
      rule: { when: { all: [{ field: 'action.text', op: 'matches', value }] }, then: 'block' },
    });
    for (const value of ['\\b(\\w+) \\1\\b', 'secret(?!-ok)']) {
      const r = await t.request('POST', '/v1/policies', { auth: a.apiKey, body: policy(value) });
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'rule.when.all.0.value' })]),
      );
      const v = await t.request('POST', '/v1/policies/validate', { auth: a.apiKey, body: policy(value) });
      expect(v.body).toMatchObject({ valid: false, errors: [{ path: 'rule.when.all.0.value' }] });
      expect((await simulate(a.apiKey, policy(value).rule.when)).status).toBe(400);
    }
    expect((await t.request('GET', '/v1/policies', { auth: a.apiKey })).body.data).toHaveLength(0);
  });
});

describe('simulation is bounded', () => {
  it('stops at its row budget and says so', async () => {
    const a = await orgWithAgent();
    for (const amount of [1, 2, 3]) await evaluate(a.apiKey, { agent: 'Outreach', action: { type: 'refund', amount } });
    const when = { field: 'action.amount', op: 'gt', value: 0 };
    const cut = await simulate(a.apiKey, when, { max_actions: 2 });
    expect(cut.body).toMatchObject({ actions: 2, rows_examined: 2, truncated: true, truncated_reason: 'max_actions' });
    const whole = await simulate(a.apiKey, when, { max_actions: 3 });
    expect(whole.body).toMatchObject({ actions: 3, truncated: false, truncated_reason: null });
  });

  it('reads in pages and stops at its time budget', async () => {
    const a = await orgWithAgent();
    for (const amount of [1, 2, 3]) await evaluate(a.apiKey, { agent: 'Outreach', action: { type: 'refund', amount } });
    const engine = {
      compile: (ps: unknown[]) => compilePolicySet(ps as PolicyInput[]),
      evaluate: evaluateSet,
    };
    const draft = { name: 'd', rule: { when: { field: 'action.amount', op: 'gt', value: 1 }, then: 'block' } };
    const from = Date.now() - 60_000;
    const to = Date.now() + 60_000;
    const orgId = a.org.id as OrgId;
    const paged = createSimulator({ db: t.hub.ctx.db.db, engine, limits: { pageSize: 1 } });
    expect(await paged(orgId, draft, from, to)).toMatchObject({ rows_examined: 3, matched: 2, truncated: false });
    const hurried = createSimulator({ db: t.hub.ctx.db.db, engine, limits: { budgetMs: -1 } });
    expect(await hurried(orgId, draft, from, to)).toMatchObject({
      rows_examined: 0,
      truncated: true,
      truncated_reason: 'time_budget',
    });
  });
});

describe('stored actions are bounded', () => {
  it('a decision on a 1 MB action is made on the whole action and stored as a marked summary', async () => {
    const a = await orgWithAgent();
    await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'No uploads of flagged files',
        status: 'active',
        rule: { when: { field: 'action.meta.flags.blocked', op: 'eq', value: true }, then: 'block' },
      },
    });
    await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: { run_id: 'run-big-action', agent: 'Outreach', status: 'running', started_at: new Date().toISOString() },
    });
    const big = {
      type: 'upload',
      name: 'report.pdf',
      bytes: 1_000_000,
      body: 'x'.repeat(1_000_000),
      meta: { flags: { blocked: true } },
    };
    const d = await evaluate(a.apiKey, { agent: 'Outreach', action: big, run_id: 'run-big-action' });
    // The nested flag is dropped from what is stored, so BLOCK shows the full action was evaluated.
    expect(d.body.decision).toBe('BLOCK');
    const small = await evaluate(a.apiKey, {
      agent: 'Outreach',
      action: { type: 'upload', name: 'a.txt', meta: { flags: { blocked: false } } },
      run_id: 'run-big-action',
    });

    const run = await t.request('GET', '/v1/runs/run-big-action', { auth: a.apiKey });
    const byId = new Map(run.body.decisions.map((x: { id: string }) => [x.id, x]));
    const stored = (byId.get(d.body.decision_id) as { action: Record<string, unknown> }).action;
    expect(stored).toMatchObject({
      type: 'upload',
      name: 'report.pdf',
      bytes: 1_000_000,
      _truncated: true,
      _dropped_keys: ['meta'],
    });
    expect(stored._original_size).toBeGreaterThan(1_000_000);
    expect(String(stored.body).length).toBeLessThanOrEqual(1025);
    expect(JSON.stringify(stored).length).toBeLessThanOrEqual(MAX_STORED_JSON);
    expect((byId.get(small.body.decision_id) as { action: unknown }).action).toEqual({
      type: 'upload',
      name: 'a.txt',
      meta: { flags: { blocked: false } },
    });

    // The audit entry of the block keeps the same summary, not the megabyte.
    const audit = await t.request('GET', `/v1/audit?entity_type=decision&entity_id=${d.body.decision_id}`, {
      auth: a.apiKey,
    });
    expect(audit.body.data[0].changes.action).toMatchObject({ _truncated: true, name: 'report.pdf' });
  });

  it("an approval's stored action is a summary too, and the approval still binds the full action", async () => {
    const a = await orgWithAgent();
    await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'Uploads need a human',
        status: 'active',
        rule: { when: { field: 'action.type', op: 'eq', value: 'upload' }, then: 'require_approval' },
      },
    });
    const big = { type: 'upload', name: 'big.bin', body: 'y'.repeat(200_000) };
    const first = await evaluate(a.apiKey, { agent: 'Outreach', action: big });
    expect(first.body.decision).toBe('REQUIRE_APPROVAL');
    const approval = await t.request('GET', `/v1/approvals/${first.body.approval_id}`, { auth: a.apiKey });
    expect(approval.body.action).toMatchObject({ type: 'upload', name: 'big.bin', _truncated: true });
    await t.request('POST', `/v1/approvals/${first.body.approval_id}/approve`, { auth: a.owner, body: {} });
    const again = (action: object) =>
      evaluate(a.apiKey, { agent: 'Outreach', action, approval_id: first.body.approval_id });
    // Only the exact full action is approved: the stored summary does not pass for it.
    expect((await again(approval.body.action)).body.decision).not.toBe('ALLOW');
    expect((await again(big)).body.decision).toBe('ALLOW');
  });
});

describe('the reported patterns, timed where they run', () => {
  // The HTTP tests above allow for a loaded machine; the match itself is what froze the event loop, and
  // it must take well under the 50 ms at the reported sizes and beyond (it takes microseconds).
  it.each([
    ['^(.|.)*Q$', `${'a'.repeat(28)}`],
    ['^(.|.)*Q$', `${'a'.repeat(4000)}`],
    ['^([a-z0-9]|[a-z])+$', `${'a'.repeat(40)}!`],
    ['^([a-z0-9]|[a-z])+$', `${'a'.repeat(4000)}!`],
  ])('%s over %#: under 50 ms', (pattern, subject) => {
    const matcher = compileMatcher(pattern);
    expect(matcher).not.toBeNull();
    const started = performance.now();
    const matched = matcher!.test(subject);
    expect(performance.now() - started).toBeLessThan(50);
    expect(matched).toBe(false);
  });
});
