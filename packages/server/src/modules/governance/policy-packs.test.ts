import type { PolicyPackFile } from '@agentops-hub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, trustedOrgId } from '../../platform/caller.ts';
import { permissionsForRole } from '../../platform/rbac.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { budgetPort } from './budget-port.ts';
import { catalogOf, loadShippedPacks, parsePackYaml, renderPack } from './pack-catalog.ts';
import { createPolicyPackService } from './policy-packs.service.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const shipped = loadShippedPacks();

const ownerCaller = (a: SeededOrg): Caller => ({
  orgId: trustedOrgId(a.org.id),
  orgName: a.org.name,
  actor: { type: 'user', id: a.userId, name: a.email },
  userId: a.userId,
  role: 'owner',
  teamIds: [],
  permissions: permissionsForRole('owner'),
});

async function evaluate(a: SeededOrg, agent: string, action: Record<string, unknown>) {
  const r = await t.request('POST', '/v1/policy/evaluate', { auth: a.apiKey, body: { agent, action } });
  expect(r.status, r.text).toBe(200);
  return r.body.decision as string;
}
const policiesOf = async (a: SeededOrg) => (await t.request('GET', '/v1/policies', { auth: a.apiKey })).body.data;
const budgetsOf = async (a: SeededOrg) => (await t.request('GET', '/v1/budgets', { auth: a.apiKey })).body.data;
const auditOf = async (a: SeededOrg) =>
  (await t.request('GET', '/v1/audit?entity_type=policy_pack', { auth: a.apiKey })).body.data;

describe('shipped packs', () => {
  it('ships the required packs, the healthcare and fintech ones marked as starters', () => {
    const ids = shipped.list().map((p) => p.id);
    for (const id of [
      'default-saas-starter',
      'conservative-discounts',
      'support-refunds',
      'outbound-email-safety',
      'financial-transactions',
      'healthcare-starter',
      'fintech-starter',
    ])
      expect(ids).toContain(id);
    expect(shipped.get('default-saas-starter')!.name).toBe('Default SaaS Starter');
    expect(shipped.get('conservative-discounts')!.name).toBe('Conservative Discounts for Sales Agents');
    expect(shipped.get('healthcare-starter')!.starter).toBe(true);
    expect(shipped.get('fintech-starter')!.starter).toBe(true);
    expect(shipped.get('conservative-discounts')!.starter).toBe(false);
  });

  it.each(shipped.list().map((p) => [p.id, p] as const))(
    '%s validates and applies: its policies, budgets and notification settings exist',
    async (_id, pack) => {
      const a = await t.seedOrg();
      const r = await t.request('POST', `/v1/policy-packs/${pack.id}/apply`, { auth: a.apiKey, body: {} });
      expect(r.status, r.text).toBe(200);
      expect(r.body.status).toBe('applied');
      expect(r.body.policies).toHaveLength(pack.policies.length);
      expect(r.body.budgets).toHaveLength(pack.budgets.length);
      const policies = await policiesOf(a);
      expect(policies.map((p: { id: string }) => p.id).sort()).toEqual([...r.body.policies].sort());
      for (const p of policies) {
        expect(p.source).toBe(`pack:${pack.id}`);
        expect(p.status).toBe('active');
      }
      expect((await budgetsOf(a)).map((b: { id: string }) => b.id).sort()).toEqual([...r.body.budgets].sort());
      const prefs = await t.hub.ctx.notifications.getPreferences(trustedOrgId(a.org.id), '');
      for (const [topic, on] of Object.entries(pack.notifications?.email ?? {}))
        expect(prefs.email[topic as keyof typeof prefs.email]).toBe(on);
      // A plain action that no pack is about stays allowed: no rule fails closed on a missing field.
      expect(await evaluate(a, 'Neutral', { type: 'read_docs' })).toBe('ALLOW');
    },
  );

  it('refuses a pack that uses an undeclared parameter or renders to an invalid policy', () => {
    const base = `id: broken\nname: Broken\nversion: 1\ndescription: x\n`;
    expect(() =>
      parsePackYaml(
        `${base}policies:\n  - key: a\n    name: A\n    summary: s\n    rule:\n      when: { field: action.x, op: gt, value: "{{nope}}" }\n      then: block\n`,
      ),
    ).toThrow(/nope.*not declared/);
    expect(() =>
      parsePackYaml(
        `${base}policies:\n  - key: a\n    name: A\n    summary: s\n    rule:\n      when: { field: action.x, op: sorta, value: 1 }\n      then: block\n`,
      ),
    ).toThrow(/policies\.0\.rule/);
  });
});

describe('GET /v1/policy-packs', () => {
  it('describes each pack, its parameters and its policies in plain words', async () => {
    const a = await t.seedOrg();
    const r = await t.request('GET', '/v1/policy-packs', { auth: a.apiKey });
    expect(r.status).toBe(200);
    const cd = r.body.data.find((p: { id: string }) => p.id === 'conservative-discounts');
    expect(cd.description).toBeTruthy();
    expect(cd.params.map((p: { name: string }) => p.name)).toContain('discount_threshold');
    expect(cd.policies[0].summary).toMatch(/20%/);
    expect(cd.policies[0].rule.when.all[1].value).toBe(20);
    expect(cd.applied).toBeNull();
    expect((await t.request('GET', '/v1/policy-packs/nope', { auth: a.apiKey })).status).toBe(404);
  });
});

describe('apply', () => {
  it('holds a large discount, refuses a huge one, lets a small one and unrelated actions through', async () => {
    const a = await t.seedOrg();
    await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'OutreachBot', type: 'outreach', environment: 'prod' },
    });
    const r = await t.request('POST', '/v1/policy-packs/conservative-discounts/apply', { auth: a.apiKey, body: {} });
    expect(r.status).toBe(200);
    expect(await evaluate(a, 'OutreachBot', { type: 'send_email', discount: 35 })).toBe('REQUIRE_APPROVAL');
    expect(await evaluate(a, 'OutreachBot', { type: 'send_email', discount: 60 })).toBe('BLOCK');
    expect(await evaluate(a, 'OutreachBot', { type: 'send_email', discount: 10 })).toBe('ALLOW');
    expect(await evaluate(a, 'OutreachBot', { type: 'send_email' })).toBe('ALLOW');
  });

  it('applying twice changes nothing and writes no second audit entry', async () => {
    const a = await t.seedOrg();
    const first = await t.request('POST', '/v1/policy-packs/default-saas-starter/apply', { auth: a.apiKey, body: {} });
    const policies1 = await policiesOf(a);
    const budgets1 = await budgetsOf(a);
    const again = await t.request('POST', '/v1/policy-packs/default-saas-starter/apply', { auth: a.apiKey, body: {} });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('unchanged');
    expect(again.body.policies.sort()).toEqual(first.body.policies.sort());
    expect(again.body.changes.every((c: { change: string }) => c.change === 'unchanged')).toBe(true);
    expect(await policiesOf(a)).toEqual(policies1);
    expect((await budgetsOf(a)).map((b: { id: string }) => b.id)).toEqual(budgets1.map((b: { id: string }) => b.id));
    const audit = await auditOf(a);
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['policy_pack.applied']);
    expect(audit[0].entity_id).toBe('default-saas-starter');
  });

  it('new parameters update what nobody changed and keep what a person changed', async () => {
    const a = await t.seedOrg();
    await t.request('POST', '/v1/policy-packs/conservative-discounts/apply', {
      auth: a.apiKey,
      body: { params: { discount_threshold: 20, max_discount: 50 } },
    });
    const [ceiling] = (await policiesOf(a)).filter((p: { name: string }) => p.name.includes('refused'));
    // A person tightens the ceiling by hand.
    const edited = await t.request('PUT', `/v1/policies/${ceiling.id}`, {
      auth: a.apiKey,
      body: { ...ceiling, name: 'Our own ceiling', rule: { ...ceiling.rule, message: 'ours' } },
    });
    expect(edited.status, edited.text).toBe(200);
    const r = await t.request('POST', '/v1/policy-packs/conservative-discounts/apply', {
      auth: a.apiKey,
      body: { params: { discount_threshold: 10, max_discount: 40 } },
    });
    expect(r.body.status).toBe('updated');
    const byKey = Object.fromEntries(r.body.changes.map((c: { key: string; change: string }) => [c.key, c.change]));
    expect(byKey['discount-approval']).toBe('update');
    expect(byKey['discount-ceiling']).toBe('conflict');
    expect(await evaluate(a, 'Bot', { type: 'send_email', discount: 15 })).toBe('REQUIRE_APPROVAL');
    const ceilingNow = (await t.request('GET', `/v1/policies/${ceiling.id}`, { auth: a.apiKey })).body;
    expect(ceilingNow.name).toBe('Our own ceiling');
    // Re-applying without params keeps the last ones.
    const again = await t.request('POST', '/v1/policy-packs/conservative-discounts/apply', {
      auth: a.apiKey,
      body: {},
    });
    expect(again.body.status).toBe('unchanged');
    // Naming one parameter keeps the others as they were.
    await t.request('POST', '/v1/policy-packs/conservative-discounts/apply', {
      auth: a.apiKey,
      body: { params: { max_trial_days: 14 } },
    });
    expect((await t.request('GET', '/v1/policy-packs/applied', { auth: a.apiKey })).body.data[0].params).toEqual({
      discount_threshold: 10,
      max_discount: 40,
      max_trial_days: 14,
    });
  });

  it('refuses unknown or mistyped parameters with the path of each', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/policy-packs/conservative-discounts/apply', {
      auth: a.apiKey,
      body: { params: { discount_threshold: 'lots', colour: 'red', max_trial_days: 2.5 } },
    });
    expect(r.status).toBe(400);
    const paths = r.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['params.colour', 'params.discount_threshold', 'params.max_trial_days']);
    expect(await policiesOf(a)).toEqual([]);
  });

  it('needs the right to create policies: a viewer cannot apply, a read key neither', async () => {
    const a = await t.seedOrg();
    const viewer = await t.addMember(a, 'viewer');
    expect((await t.request('GET', '/v1/policy-packs', { auth: viewer.auth })).status).toBe(200);
    const r = await t.request('POST', '/v1/policy-packs/support-refunds/apply', { auth: viewer.auth, body: {} });
    expect(r.status).toBe(403);
    const readKey = await t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: 'r', scopes: ['read'] } });
    const byKey = await t.request('POST', '/v1/policy-packs/support-refunds/apply', {
      auth: readKey.body.key,
      body: {},
    });
    expect(byKey.status).toBe(403);
    expect(await policiesOf(a)).toEqual([]);
  });

  it('preview shows what apply would do without doing it', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/policy-packs/support-refunds/preview', {
      auth: a.apiKey,
      body: { params: { refund_approval_usd: 75 } },
    });
    expect(r.status).toBe(200);
    expect(r.body.changes.every((c: { change: string }) => c.change === 'create')).toBe(true);
    expect(r.body.params.refund_approval_usd).toBe(75);
    expect(await policiesOf(a)).toEqual([]);
  });
});

describe('unapply', () => {
  it('removes what the pack added and nothing a person changed since', async () => {
    const a = await t.seedOrg();
    const id = trustedOrgId(a.org.id);
    await t.hub.ctx.notifications.setPreferences(id, '', { email: { policy_violations: false } });
    const mine = await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'Mine',
        status: 'active',
        rule: { when: { field: 'action.type', op: 'eq', value: 'x' }, then: 'block' },
      },
    });
    const applied = await t.request('POST', '/v1/policy-packs/default-saas-starter/apply', {
      auth: a.apiKey,
      body: {},
    });
    expect((await t.hub.ctx.notifications.getPreferences(id, '')).email.policy_violations).toBe(true);
    const [changed] = (await policiesOf(a)).filter((p: { name: string }) => p.name === 'Log every payment');
    await t.request('PUT', `/v1/policies/${changed.id}`, { auth: a.apiKey, body: { ...changed, priority: 5 } });

    const r = await t.request('POST', '/v1/policy-packs/default-saas-starter/unapply', { auth: a.apiKey });
    expect(r.status, r.text).toBe(200);
    expect(r.body.kept).toEqual([expect.objectContaining({ key: 'log-payments', entity_id: changed.id })]);
    const left = (await policiesOf(a)).map((p: { id: string }) => p.id).sort();
    expect(left).toEqual([mine.body.id, changed.id].sort());
    expect(await budgetsOf(a)).toEqual([]);
    expect(applied.body.budgets).toHaveLength(1);
    // The notification default the pack turned on is back to what it was.
    expect((await t.hub.ctx.notifications.getPreferences(id, '')).email.policy_violations).toBe(false);
    expect((await t.request('GET', '/v1/policy-packs/applied', { auth: a.apiKey })).body.data).toEqual([]);
    expect((await auditOf(a)).map((e: { action: string }) => e.action)).toEqual([
      'policy_pack.unapplied',
      'policy_pack.applied',
    ]);
    // Unapplying what is not applied is a 404; applying again starts fresh.
    expect((await t.request('POST', '/v1/policy-packs/default-saas-starter/unapply', { auth: a.apiKey })).status).toBe(
      404,
    );
    const fresh = await t.request('POST', '/v1/policy-packs/default-saas-starter/apply', { auth: a.apiKey, body: {} });
    expect(fresh.body.status).toBe('applied');
  });
});

describe('upgrade to a newer pack version', () => {
  it('offers the upgrade with a diff, changes nothing until asked, then keeps what a person changed', async () => {
    const a = await t.seedOrg();
    const caller = ownerCaller(a);
    const v1 = shipped.get('support-refunds')!;
    await t.request('POST', '/v1/policy-packs/support-refunds/apply', { auth: a.apiKey, body: {} });
    const credit = (await policiesOf(a)).find((p: { name: string }) => p.name.startsWith('Account credits'));
    await t.request('PUT', `/v1/policies/${credit.id}`, { auth: a.apiKey, body: { ...credit, priority: 99 } });
    const before = await policiesOf(a);

    // Version 2 changes the ceiling rule, drops the credit and no-amount rules, adds a chargeback rule.
    const v2: PolicyPackFile = {
      ...v1,
      version: 2,
      policies: [
        v1.policies[0]!,
        { ...v1.policies[1]!, summary: 'Refunds over the ceiling are refused (v2).' },
        {
          key: 'chargebacks',
          name: 'Chargebacks need approval',
          summary: 'Disputing a chargeback waits for a person.',
          status: 'active',
          rule: { when: { field: 'action.type', op: 'eq', value: 'dispute_chargeback' }, then: 'require_approval' },
        },
      ],
    };
    v2.policies[1] = { ...v2.policies[1]!, priority: 61 };
    const ctx = t.hub.ctx;
    const packsV2 = createPolicyPackService({
      db: ctx.db.db,
      audit: ctx.audit,
      clock: Date.now,
      catalog: catalogOf([v2]),
      policies: ctx.policies,
      notifications: ctx.notifications,
      budgets: () => budgetPort(ctx.budgets),
    });

    const offer = await packsV2.apply(caller, 'support-refunds', {});
    expect(offer.status).toBe('upgrade_available');
    expect(offer.applied_version).toBe(1);
    const diff = Object.fromEntries(offer.changes.map((c) => [c.key, c.change]));
    expect(diff).toMatchObject({
      'refund-approval': 'unchanged',
      'refund-ceiling': 'update',
      chargebacks: 'create',
      'refund-without-amount': 'remove',
      'credit-approval': 'conflict',
    });
    expect(await policiesOf(a)).toEqual(before);
    const recs = await packsV2.applications(trustedOrgId(a.org.id));
    expect(recs[0]).toMatchObject({ version: 1, upgrade_available: true });

    const up = await packsV2.apply(caller, 'support-refunds', { upgrade: true });
    expect(up.status).toBe('upgraded');
    const names = (await policiesOf(a)).map((p: { name: string }) => p.name).sort();
    expect(names).toEqual(
      [
        'Account credits over $50 need approval',
        'Chargebacks need approval',
        'Refunds over $1000 are refused',
        'Refunds over $50 need approval',
      ].sort(),
    );
    expect((await packsV2.applications(trustedOrgId(a.org.id)))[0]).toMatchObject({
      version: 2,
      upgrade_available: false,
    });
    expect((await packsV2.apply(caller, 'support-refunds', {})).status).toBe('unchanged');
  });
});

describe('recommendations', () => {
  it('ranks the discount pack first for a SaaS org with an outreach agent, with reasons', async () => {
    const a = await t.seedOrg();
    await t.request('PATCH', '/v1/org', { auth: a.apiKey, body: { industry: 'SaaS' } });
    await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'OutreachBot', type: 'outreach', environment: 'prod', tags: ['sales'] },
    });
    const r = await t.request('GET', '/v1/policy-packs/recommendations', { auth: a.apiKey });
    expect(r.status).toBe(200);
    const ids = r.body.data.map((p: { id: string }) => p.id);
    expect(ids[0]).toBe('conservative-discounts');
    expect(ids).toContain('default-saas-starter');
    expect(ids).not.toContain('healthcare-starter');
    expect(ids).not.toContain('fintech-starter');
    const top = r.body.data[0];
    expect(top.reasons.join(' ')).toMatch(/SaaS/);
    expect(top.reasons.join(' ')).toMatch(/OutreachBot/);
    for (const p of r.body.data) expect(p.reasons.length).toBeGreaterThan(0);

    await t.request('POST', '/v1/policy-packs/conservative-discounts/apply', { auth: a.apiKey, body: {} });
    const after = (await t.request('GET', '/v1/policy-packs/recommendations', { auth: a.apiKey })).body.data;
    expect(after.at(-1)).toMatchObject({ id: 'conservative-discounts', applied: true });
  });

  it('offers the healthcare starter to a clinic, and a support pack to an org with a support agent', async () => {
    const a = await t.seedOrg();
    await t.request('PATCH', '/v1/org', { auth: a.apiKey, body: { industry: 'healthcare' } });
    await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'Desk', type: 'support', environment: 'prod', tags: ['refunds'] },
    });
    const data = (await t.request('GET', '/v1/policy-packs/recommendations', { auth: a.apiKey })).body.data;
    const ids = data.map((p: { id: string }) => p.id);
    expect(ids[0]).toBe('healthcare-starter');
    expect(data[0].starter).toBe(true);
    expect(ids).toContain('support-refunds');
    expect(ids).not.toContain('fintech-starter');
  });
});

describe('rendering', () => {
  it('keeps typed values where a parameter is the whole value and writes text inside strings', () => {
    const r = renderPack(shipped.get('financial-transactions')!, {
      allowed_currencies: ['GBP'],
      payment_approval_usd: 250,
    });
    const currency = r.policies.find((p) => p.key === 'allowed-currencies')!;
    expect(JSON.stringify(currency.body.rule.when)).toContain('["GBP"]');
    expect(r.policies.find((p) => p.key === 'payment-approval')!.body.name).toBe('Payments over 250 need approval');
  });
});
