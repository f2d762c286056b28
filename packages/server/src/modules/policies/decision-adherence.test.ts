/**
 * Adherence follows an approval's outcome after the decision was recorded: a person approving or
 * rejecting it, and its time running out (first read from the clock, then stored by the expiry job),
 * change the score of every decision that names it; and a retry racing the person's decision still ends
 * with the approval's state on every decision row (without the hold in approval-requests.ts it did not,
 * on PostgreSQL). Through the API on a real hub, with an injected clock that only moves forward.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
let offset = 0;
beforeAll(async () => {
  t = await createTestHub({}, { clock: () => Date.now() + offset });
});
afterAll(async () => t?.close());

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** An active policy that asks a person before any refund (`extra`: more of the rule, such as its timeout). */
async function refundsNeedAHuman(a: SeededOrg, extra: object = {}) {
  const p = await t.request('POST', '/v1/policies', {
    auth: a.apiKey,
    body: {
      name: 'refunds need a human',
      status: 'active',
      rule: { when: { field: 'action.type', op: 'eq', value: 'refund' }, then: 'require_approval', ...extra },
    },
  });
  expect(p.status, p.text).toBe(201);
}

it('counts an approval as the person decided it, and as expired once its time ran out', async () => {
  const a = await t.seedOrg();
  await refundsNeedAHuman(a, { approval_timeout_s: 3600 });
  const start = Date.now() + offset;
  const ask = async (org: SeededOrg, amount: number, approvalId?: string) => {
    const r = await t.request('POST', '/v1/policy/evaluate', {
      auth: org.apiKey,
      body: { agent: 'Refunder', action: { type: 'refund', amount }, approval_id: approvalId },
    });
    expect(r.status, r.text).toBe(200);
    return r.body as { decision: string; approval_id: string };
  };
  const adherence = async () => {
    const r = await t.request('GET', `/v1/stats/adherence?from=${iso(start - HOUR)}&to=${iso(start + 48 * HOUR)}`, {
      auth: a.apiKey,
    });
    expect(r.status, r.text).toBe(200);
    const { from: _f, to: _t, ...counts } = r.body;
    return counts;
  };
  const decide = async (id: string, how: 'approve' | 'reject') =>
    expect((await t.request('POST', `/v1/approvals/${id}/${how}`, { auth: a.owner, body: {} })).status).toBe(200);

  const granted = await ask(a, 1);
  // The agent asks again with the same approval while it waits: a second decision naming it.
  expect(await ask(a, 1, granted.approval_id)).toMatchObject({
    decision: 'REQUIRE_APPROVAL',
    approval_id: granted.approval_id,
  });
  const refused = await ask(a, 2);
  const forgotten = await ask(a, 3);
  expect(await adherence()).toEqual({
    score: null,
    evaluated: 0,
    adherent: 0,
    blocked: 0,
    rejected: 0,
    overridden: 0,
    pending: 4,
  });

  await decide(granted.approval_id, 'approve');
  expect(await adherence()).toMatchObject({ score: 1, evaluated: 2, adherent: 2, rejected: 0, pending: 2 });

  await decide(refused.approval_id, 'reject');
  expect(await adherence()).toMatchObject({ score: 2 / 3, evaluated: 3, adherent: 2, rejected: 1, pending: 1 });

  // An hour later nobody decided the third: it counts as expired (rejected) before the expiry job runs…
  offset += HOUR + 1000;
  const lapsed = { score: 2 / 4, evaluated: 4, adherent: 2, blocked: 0, rejected: 2, overridden: 0, pending: 0 };
  expect(await adherence()).toEqual(lapsed);
  // …and the same once the job stored it as expired on the approval and on its decision.
  const statusOf = async (approvalId: string) =>
    (
      await t.hub.ctx.db.db
        .selectFrom('decisions')
        .select('approval_status')
        .where('approval_id', '=', approvalId)
        .execute()
    ).map((r) => r.approval_status);
  for (let i = 0; i < 50 && (await statusOf(forgotten.approval_id))[0] !== 'expired'; i++) {
    await t.hub.ctx.jobs.runDue();
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await statusOf(forgotten.approval_id)).toEqual(['expired']);
  expect(await statusOf(refused.approval_id)).toEqual(['rejected']);
  expect(await adherence()).toEqual(lapsed);

  // The approved action, retried, goes through: a third adherent decision naming that approval.
  expect((await ask(a, 1, granted.approval_id)).decision).toBe('ALLOW');
  expect(await statusOf(granted.approval_id)).toEqual(['approved', 'approved', 'approved']);
  expect(await adherence()).toMatchObject({ score: 3 / 5, evaluated: 5, adherent: 3, rejected: 2, pending: 0 });
});

it('keeps every decision’s approval state equal to its approval’s when a retry and a decision race', async () => {
  const a = await t.seedOrg();
  await refundsNeedAHuman(a);
  const ask = (amount: number, approvalId?: string) =>
    t.request('POST', '/v1/policy/evaluate', {
      auth: a.apiKey,
      body: { agent: 'Racer', action: { type: 'refund', amount }, approval_id: approvalId },
    });
  await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      const first = await ask(i);
      const id = first.body.approval_id as string;
      // The retry reads the approval while the person's decision may be writing it.
      const [retry, decided] = await Promise.all([
        ask(i, id),
        t.request('POST', `/v1/approvals/${id}/approve`, { auth: a.owner, body: {} }),
      ]);
      expect([retry.status, decided.status]).toEqual([200, 200]);
    }),
  );
  const rows = await t.hub.ctx.db.db
    .selectFrom('decisions as d')
    .innerJoin('approvals as p', 'p.id', 'd.approval_id')
    .select(['d.approval_status', 'p.status', 'd.approval_expires_at', 'p.expires_at'])
    .where('d.org_id', '=', a.org.id)
    .execute();
  expect(rows).toHaveLength(24);
  for (const r of rows)
    expect([r.approval_status, Number(r.approval_expires_at)]).toEqual([r.status, Number(r.expires_at)]);
});
