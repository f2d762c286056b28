/**
 * Reports over time, with an injected clock that only moves forward: insights computed from two real
 * periods of ingested runs (cost driver, failure rate, approvals waiting), and schedules run by the
 * job runner, including the catch-up after downtime (one run, not one per missed occurrence) and
 * at-least-once jobs that still send once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCapture } from '../../testing/smtp-capture.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { nextRunOf } from './report-schedule.ts';

const DAY = 86_400_000;
let t: TestHub;
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
let offset = 0;
const now0 = Date.now();

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await createTestHub({ SMTP_URL: smtp.url }, { clock: () => Date.now() + offset });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

async function run(a: SeededOrg, agent: string, at: number, failed: boolean, cost?: number) {
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: a.apiKey,
    body: {
      agent,
      status: failed ? 'failed' : 'completed',
      started_at: new Date(at).toISOString(),
      ended_at: new Date(at + 2000).toISOString(),
      events:
        cost === undefined
          ? []
          : [
              {
                type: 'llm_call',
                timestamp: new Date(at + 1000).toISOString(),
                payload: { model: 'gpt-4o', input_tokens: 10, output_tokens: 10, cost_usd: cost },
              },
            ],
    },
  });
  expect(r.status).toBe(202);
}

const runsOf = async (a: SeededOrg, reportId: string) =>
  (await t.request('GET', `/v1/reports/${reportId}/runs`, { auth: a.apiKey })).body.data as any[];

describe('insights', () => {
  it('names the cost driver, the agent whose failure rate doubled, and approvals waiting over a day', async () => {
    const a = await t.seedOrg();
    // Previous week: CostBot $1.00, FlakyBot fails 1 of 10. This week: CostBot $1.40, FlakyBot fails 2 of 10.
    for (let i = 0; i < 4; i++) await run(a, 'CostBot', now0 - 8 * DAY + i * 60_000, false, 0.25);
    for (let i = 0; i < 10; i++) await run(a, 'FlakyBot', now0 - 9 * DAY + i * 60_000, i === 0);
    for (let i = 0; i < 4; i++) await run(a, 'CostBot', now0 - 2 * DAY + i * 60_000, false, 0.35);
    for (let i = 0; i < 10; i++) await run(a, 'FlakyBot', now0 - DAY + i * 60_000, i < 2);
    const policy = await t.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'Refunds need a person',
        status: 'active',
        rule: {
          when: { field: 'action.type', op: 'eq', value: 'refund' },
          then: 'require_approval',
          approval_timeout_s: 5 * 86_400,
        },
      },
    });
    expect(policy.status).toBe(201);
    const ev = await t.request('POST', '/v1/policy/evaluate', {
      auth: a.apiKey,
      body: { agent: 'FlakyBot', action: { type: 'refund', amount: 120 } },
    });
    expect(ev.body.decision).toBe('REQUIRE_APPROVAL');
    offset = 2 * DAY; // the approval has now waited two days

    const rep = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Ops weekly', template: 'weekly_summary', recipients: ['ops@acme.test'] },
    });
    const ran = await t.request('POST', `/v1/reports/${rep.body.id}/run`, { auth: a.apiKey, body: {} });
    expect(ran.status).toBe(201);
    const s = ran.body.summary;
    expect(s).toMatchObject({
      runs: 14,
      failed: 2,
      cost_usd: 1.4,
      previous_cost_usd: 1,
      cost_change_pct: 40,
      pending_approvals: 1,
    });
    expect(s.insights).toEqual(
      expect.arrayContaining([
        'Cost up 40% on the previous period ($1.40 vs $1.00), driven by CostBot (+$0.40).',
        'Failure rate of FlakyBot doubled: 10% to 20% (2 of 10 runs failed).',
        '1 approval has waited more than a day (oldest: refund by FlakyBot, 2 days).',
      ]),
    );
    const html = (await t.request('GET', `/v1/report-runs/${ran.body.id}.html`, { auth: a.apiKey })).text;
    expect(html).toContain('driven by CostBot (+$0.40)');
    expect(html).toContain('+40% vs $1.00');
    expect(html).toContain('Refunds need a person'); // the approval-required decision, by policy
  });
});

describe('schedules on the job runner', () => {
  it('a hub down for three Mondays sends one weekly report when it is back, for the latest week, then keeps the cadence', async () => {
    const a = await t.seedOrg();
    const tz = 'America/New_York';
    const rep = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: {
        name: 'NY weekly',
        template: 'weekly_summary',
        schedule: 'weekly',
        timezone: tz,
        recipients: ['ny@acme.test'],
      },
    });
    expect(rep.status).toBe(201);
    const first = Date.parse(rep.body.next_run_at);
    expect(
      new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', hourCycle: 'h23' }).format(
        first,
      ),
    ).toBe('Mon, 08');
    await t.hub.ctx.jobs.runDue();
    expect(await runsOf(a, rep.body.id)).toHaveLength(0); // not due yet

    // Down from before the first occurrence until a day after the fourth.
    const second = nextRunOf('0 8 * * 1', tz, first);
    const third = nextRunOf('0 8 * * 1', tz, second);
    const fourth = nextRunOf('0 8 * * 1', tz, third);
    offset = fourth + DAY - Date.now();
    await t.hub.ctx.jobs.drain();
    await t.hub.ctx.jobs.drain();
    const runs = await runsOf(a, rep.body.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      trigger: 'schedule',
      scheduled_for: new Date(first).toISOString(),
      period_to: new Date(fourth).toISOString(),
      period_from: new Date(fourth - 7 * DAY).toISOString(),
    });
    const mails = async () => {
      await t.hub.ctx.jobs.drain();
      return smtp.messages.filter((m) => JSON.stringify(m.to).includes('ny@acme.test')).length;
    };
    const end = Date.now() + 10_000;
    while ((await mails()) < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(await mails()).toBe(1);

    // The schedule moved on to the next Monday, which runs normally.
    const report = await t.request('GET', `/v1/reports/${rep.body.id}`, { auth: a.apiKey });
    const fifth = nextRunOf('0 8 * * 1', tz, fourth);
    expect(report.body.next_run_at).toBe(new Date(fifth).toISOString());
    offset = fifth + 60_000 - Date.now();
    await t.hub.ctx.jobs.drain();
    const after = await runsOf(a, rep.body.id);
    expect(after).toHaveLength(2);
    expect(after[0].scheduled_for).toBe(new Date(fifth).toISOString());
    const end2 = Date.now() + 10_000;
    while ((await mails()) < 2 && Date.now() < end2) await new Promise((r) => setTimeout(r, 50));
    expect(await mails()).toBe(2);
  });

  it('one occurrence handled twice (at-least-once jobs) keeps one run and sends once', async () => {
    const a = await t.seedOrg();
    const rep = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Twice', template: 'policy_violations', schedule: '0 9 * * *', recipients: ['twice@acme.test'] },
    });
    const due = Date.parse(rep.body.next_run_at) - DAY; // an occurrence in the past
    const payload = { org_id: a.org.id, report_id: rep.body.id };
    await t.hub.ctx.jobs.send('report.run', payload, { singletonKey: `first-claim:${due}` });
    await t.hub.ctx.jobs.send('report.run', payload, { singletonKey: `second-claim:${due}` });
    await t.hub.ctx.jobs.drain();
    const runs = await runsOf(a, rep.body.id);
    expect(runs).toHaveLength(1);
    expect(runs[0].scheduled_for).toBe(new Date(due).toISOString());
    await t.hub.ctx.jobs.drain();
    expect(smtp.messages.filter((m) => JSON.stringify(m.to).includes('twice@acme.test'))).toHaveLength(1);
  });

  it('a paused or deleted report stops its schedule', async () => {
    const a = await t.seedOrg();
    const rep = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Paused', template: 'cost_breakdown', schedule: 'monthly' },
    });
    const paused = await t.request('PATCH', `/v1/reports/${rep.body.id}`, { auth: a.apiKey, body: { enabled: false } });
    expect(paused.body).toMatchObject({ enabled: false, next_run_at: null });
    offset = Date.parse(rep.body.next_run_at) + DAY - Date.now();
    await t.hub.ctx.jobs.drain();
    expect(await runsOf(a, rep.body.id)).toHaveLength(0);
    // Running by hand still works while the schedule is paused.
    expect((await t.request('POST', `/v1/reports/${rep.body.id}/run`, { auth: a.apiKey, body: {} })).status).toBe(201);
    await t.request('DELETE', `/v1/reports/${rep.body.id}`, { auth: a.apiKey });
    const left = await t.hub.ctx.db.db
      .selectFrom('schedules')
      .select('name')
      .where('name', '=', `report:${rep.body.id}`)
      .execute();
    expect(left).toEqual([]);
  });
});
