/**
 * Decision rows follow the agent's capture level: an evaluation is decided on the whole action (a rule
 * on the e-mail address still blocks), but the decision row, the approval, its audit entry and the
 * approvers' notifications keep only what the agent's level keeps; proven by searching the stored bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgScope } from '../../db/org-scope.ts';
import { trustedOrgId } from '../../platform/caller.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { ORIGINALS, RULES, sentence } from './fixtures.testing.ts';
import { storedText } from './stored-text.testing.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const evaluate = (a: SeededOrg, agent: string, action: object, context?: object) =>
  t.request('POST', '/v1/policy/evaluate', { auth: a.apiKey, body: { agent, action, context } });

const decisionsOf = (a: SeededOrg) =>
  orgScope(t.hub.ctx.db.db, trustedOrgId(a.org.id))
    .selectFrom('decisions')
    .select(['agent_id', 'action_type', 'action', 'context', 'decision'])
    .orderBy('id')
    .execute();

describe('decision rows and the capture level', () => {
  it('keep only what the agent keeps, while the decision is made on the whole action', async () => {
    const a = await t.seedOrg();
    const put = await t.request('PUT', '/v1/privacy', { auth: a.apiKey, body: { capture: 'redacted', rules: RULES } });
    expect(put.status).toBe(200);
    const quiet = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'Quiet', environment: 'prod' },
    });
    await t.request('PUT', `/v1/privacy/agents/${quiet.body.id}`, {
      auth: a.apiKey,
      body: { capture: 'metadata_only' },
    });
    await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Loud', environment: 'prod' } });
    const block = await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'no mail to example.com',
        status: 'active',
        rule: {
          when: {
            all: [
              { field: 'action.type', op: 'eq', value: 'email.send' },
              { field: 'action.to', op: 'matches', value: '@example\\.com$' },
            ],
          },
          then: 'block',
        },
      },
    });
    expect(block.status, block.text).toBe(201);
    await t.requireApprovalFor(a, 'refund');

    const mail = { type: 'email.send', to: 'ann.lee@example.com', body: sentence };
    // Blocked on the address itself: the engine saw it, whatever is kept.
    expect((await evaluate(a, 'Quiet', mail, { customer: 'bob+vip@shop.co.uk' })).body.decision).toBe('BLOCK');
    expect((await evaluate(a, 'Loud', mail)).body.decision).toBe('BLOCK');
    const refund = { type: 'refund', amount: 40, card: '4111 1111 1111 1111', note: sentence };
    const asked = await evaluate(a, 'Loud', refund, { customer: 'CUST-778812' });
    expect(asked.body.decision, asked.text).toBe('REQUIRE_APPROVAL');
    expect((await evaluate(a, 'Quiet', { type: 'lookup', email: 'ann.lee@example.com' })).body.decision).toBe('ALLOW');

    const rows = await decisionsOf(a);
    expect(rows.map((r) => [r.action_type, r.decision])).toEqual([
      ['email.send', 'BLOCK'],
      ['email.send', 'BLOCK'],
      ['refund', 'REQUIRE_APPROVAL'],
      ['lookup', 'ALLOW'],
    ]);
    // metadata_only: no text at all; the type and the hub's context keys stay.
    expect(JSON.parse(rows[0]!.action)).toEqual({ type: 'email.send', to: '[omitted]', body: '[omitted]' });
    expect(JSON.parse(rows[0]!.context)).toMatchObject({ customer: '[omitted]', environment: 'prod' });
    expect(JSON.parse(rows[3]!.action)).toEqual({ type: 'lookup', email: '[omitted]' });
    // redacted: the detectors' labels and the org's rules.
    expect(JSON.parse(rows[1]!.action)).toMatchObject({ type: 'email.send', to: '[EMAIL]' });
    expect(JSON.parse(rows[2]!.action)).toMatchObject({ type: 'refund', amount: 40, card: '[CARD]' });
    expect(JSON.parse(rows[2]!.context).customer).toMatch(/^\[#[0-9a-f]{16}\]$/);

    const approvals = await t.request('GET', '/v1/approvals', { auth: a.apiKey });
    expect(approvals.body.data[0].action).toMatchObject({ type: 'refund', amount: 40, card: '[CARD]' });

    // The whole database (decisions, approvals, audit log, notifications, the mail outbox) as bytes.
    const stored = await storedText(t);
    expect(stored).toContain('[CARD]');
    for (const v of ORIGINALS) expect(stored.includes(v), v).toBe(false);
  });

  it('an org with the default settings keeps the action as sent', async () => {
    const a = await t.seedOrg();
    await t.requireApprovalFor(a, 'refund');
    const action = { type: 'refund', amount: 5, email: 'kept@example.org' };
    expect((await evaluate(a, 'Plain', action, { ref: 'r-1' })).body.decision).toBe('REQUIRE_APPROVAL');
    const [row] = await decisionsOf(a);
    expect(JSON.parse(row!.action)).toEqual(action);
    expect(JSON.parse(row!.context)).toMatchObject({ ref: 'r-1' });
  });
});
