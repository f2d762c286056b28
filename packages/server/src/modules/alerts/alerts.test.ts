/**
 * Alert rules end to end on a real hub and database: real ingestion, real policy decisions and
 * approvals, the evaluation pass the job runner runs, mail through a real SMTP receiver and webhooks to a
 * real HTTP receiver. Each signal is driven over its threshold and back, and each transition must give
 * exactly one notice per channel, however many passes run (and with two hub processes evaluating).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCapture } from '../../testing/smtp-capture.ts';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { testDialect } from '../../testing/test-db.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { startWebhookReceiver, type WebhookHit } from '../../testing/webhook-receiver.ts';
import { enabledRulesOfEveryOrg } from './alerts.system.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** A clock the tests move: windows, cooldowns and silences are about time. */
let now = Date.parse('2026-11-24T18:00:00Z');
const clock = () => now;

let hits: WebhookHit[] = [];
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let base = '';
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
let t: TestHub;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ hits, base } = receiver);
  smtp = await startSmtpCapture();
  // The receiver is on loopback, which the egress guard refuses unless the operator allows it.
  t = await createTestHub({ SMTP_URL: smtp.url, HUB_EGRESS_ALLOW: '127.0.0.1' }, { clock });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
  await receiver?.close();
});

const rand = () => Math.random().toString(36).slice(2, 8);

async function agent(a: SeededOrg, name: string) {
  const r = await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name, environment: 'prod' } });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; name: string };
}

/** One run of `agentName` that took `ms`, ended now (or at `at`), with an optional LLM cost in USD. */
async function run(
  a: SeededOrg,
  agentName: string,
  o: { status?: string; ms?: number; cost?: number; at?: number } = {},
) {
  const at = o.at ?? now;
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: a.apiKey,
    body: {
      agent: agentName,
      status: o.status ?? 'completed',
      started_at: new Date(at - (o.ms ?? 1000)).toISOString(),
      ended_at: new Date(at).toISOString(),
      ...(o.status === 'failed' ? { error: 'boom' } : {}),
      events: o.cost
        ? [
            {
              type: 'llm_call',
              timestamp: new Date(at).toISOString(),
              payload: { model: 'gpt-4o', input_tokens: 10, output_tokens: 5, cost_usd: o.cost },
            },
          ]
        : [],
    },
  });
  expect(r.status, r.text).toBeLessThan(300);
}

/** Ingestion and enrichment settle, then `passes` evaluation passes run, then mail and webhooks go out. */
async function evaluate(passes = 2, hub: TestHub = t) {
  await hub.hub.ctx.ingestion.drain();
  await hub.hub.ctx.enrichment.catchUp();
  await hub.hub.ctx.evaluator.drain();
  for (let i = 0; i < passes; i++) await hub.hub.ctx.alertEvaluator.runPass();
  await hub.hub.ctx.jobs.drain();
}

/** An org with a JSON webhook on its own receiver path. */
async function org() {
  const a = await t.seedOrg();
  const path = `/hook/${a.org.id}`;
  const w = await t.request('POST', '/v1/webhooks', {
    auth: a.apiKey,
    body: { url: `${base}${path}`, events: ['budget.threshold'] },
  });
  expect(w.status, w.text).toBe(201);
  return { a, path, webhookId: w.body.id as string };
}

async function rule(o: Awaited<ReturnType<typeof org>>, body: Record<string, unknown>) {
  const name = `${body.signal} ${rand()}`;
  const r = await t.request('POST', '/v1/alerts', {
    auth: o.a.apiKey,
    body: {
      name,
      window_minutes: 60,
      channels: [{ type: 'in_app' }, { type: 'email' }, { type: 'webhook', webhook_id: o.webhookId }],
      recipients: { roles: ['owner'] },
      cooldown_minutes: 0,
      ...body,
    },
  });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; name: string };
}

/** How many notices of `kind` the rule sent: by email to the owner and to its webhook. */
function notices(o: Awaited<ReturnType<typeof org>>, r: { id: string; name: string }, kind: 'firing' | 'resolved') {
  const subject = `Alert ${kind}: ${r.name}`;
  const mails = smtp.messages.filter(
    (m) => m.subject === subject && (Array.isArray(m.to) ? m.to : [m.to]).some((x) => x?.text.includes(o.a.email)),
  ).length;
  const hooks = hits.filter((h) => h.path === o.path && h.event === `alert.${kind}` && h.body.data.alert_id === r.id);
  return { mails, hooks: hooks.length };
}

async function stateOf(o: Awaited<ReturnType<typeof org>>, id: string) {
  return (await t.request('GET', `/v1/alerts/${id}`, { auth: o.a.apiKey })).body.state as string;
}

/** Drives a rule over its threshold (`over`) and back (`back`), checking one notice per transition. */
async function cycle(
  o: Awaited<ReturnType<typeof org>>,
  r: { id: string; name: string },
  over: () => Promise<void>,
  back: () => Promise<void>,
) {
  await evaluate();
  expect(await stateOf(o, r.id)).toBe('ok');
  await over();
  await evaluate();
  expect(await stateOf(o, r.id)).toBe('firing');
  expect(notices(o, r, 'firing')).toEqual({ mails: 1, hooks: 1 });
  await back();
  await evaluate();
  expect(await stateOf(o, r.id)).toBe('resolved');
  expect(notices(o, r, 'firing')).toEqual({ mails: 1, hooks: 1 });
  expect(notices(o, r, 'resolved')).toEqual({ mails: 1, hooks: 1 });
  const events = await t.request('GET', `/v1/alerts/${r.id}/events`, { auth: o.a.apiKey });
  expect(events.body.data.map((e: { kind: string }) => e.kind)).toEqual(['resolved', 'firing']);
}

describe('alert rules API', () => {
  it('creates, reads, changes, lists and deletes a rule, audited; bad input names the field', async () => {
    const o = await org();
    const bot = await agent(o.a, `CrudBot-${rand()}`);
    const r = await rule(o, { signal: 'failed_runs', threshold: 3, scope: { type: 'agent', value: bot.name } });
    expect(r).toMatchObject({ state: 'ok', enabled: true, scope: { type: 'agent', value: bot.name } });
    const got = await t.request('GET', `/v1/alerts/${r.id}`, { auth: o.a.apiKey });
    expect(got.body).toMatchObject({ id: r.id, signal: 'failed_runs', threshold: 3, cooldown_minutes: 0 });
    const patched = await t.request('PATCH', `/v1/alerts/${r.id}`, { auth: o.a.apiKey, body: { threshold: 5 } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.threshold).toBe(5);
    const list = await t.request('GET', '/v1/alerts', { auth: o.a.apiKey });
    expect(list.body.data.map((x: { id: string }) => x.id)).toContain(r.id);

    const bad = async (body: Record<string, unknown>, field: string) => {
      const res = await t.request('POST', '/v1/alerts', {
        auth: o.a.apiKey,
        body: {
          name: 'x',
          signal: 'failed_runs',
          window_minutes: 60,
          threshold: 1,
          channels: [{ type: 'email' }],
          ...body,
        },
      });
      expect(res.status, res.text).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.body.errors ?? res.body)).toContain(field);
    };
    await bad({ signal: 'nope' }, 'signal');
    await bad({ window_minutes: 1 }, 'window_minutes');
    await bad({ signal: 'failure_rate', threshold: 20 }, 'threshold');
    await bad({ channels: [] }, 'channels');
    await bad({ channels: [{ type: 'webhook', webhook_id: 'whk_nope' }] }, 'channels.0.webhook_id');
    await bad({ channels: [{ type: 'slack', webhook_id: o.webhookId }] }, 'channels.0.webhook_id');
    await bad({ scope: { type: 'agent', value: 'NoSuchBot' } }, 'scope.value');
    await bad({ scope: { type: 'team', value: 'team_nope' } }, 'scope.value');
    await bad({ recipients: { team_id: 'team_nope' } }, 'recipients.team_id');

    const del = await t.request('DELETE', `/v1/alerts/${r.id}`, { auth: o.a.apiKey });
    expect(del.status).toBe(204);
    expect((await t.request('GET', `/v1/alerts/${r.id}`, { auth: o.a.apiKey })).status).toBe(404);
    const audit = await t.request('GET', `/v1/audit?entity_type=alert&entity_id=${r.id}`, { auth: o.a.apiKey });
    expect(audit.body.data.map((e: { action: string }) => e.action).sort()).toEqual([
      'alert.created',
      'alert.deleted',
      'alert.updated',
    ]);
  });

  it('test-fires through every channel without moving the state, Slack-formatted for a Slack webhook', async () => {
    const o = await org();
    const slackPath = `/slack/${o.a.org.id}`;
    const slack = await t.request('POST', '/v1/webhooks', {
      auth: o.a.apiKey,
      body: { url: `${base}${slackPath}`, events: ['budget.threshold'], format: 'slack' },
    });
    const r = await rule(o, {
      signal: 'cost_usd',
      threshold: 10,
      channels: [{ type: 'email' }, { type: 'slack', webhook_id: slack.body.id }, { type: 'in_app' }],
    });
    const fired = await t.request('POST', `/v1/alerts/${r.id}/test`, { auth: o.a.apiKey });
    expect(fired.status, fired.text).toBe(201);
    expect(fired.body).toMatchObject({ kind: 'test', alert_id: r.id });
    await t.hub.ctx.jobs.drain();
    const mail = await smtp.waitFor(o.a.email, new RegExp(`Test alert: ${r.name}`));
    expect(mail.text).toContain('This is a test');
    const hit = hits.find((h) => h.path === slackPath)!;
    expect(hit.body.text).toContain(`Test alert: ${r.name}`);
    const feed = await t.request('GET', '/v1/notifications', { auth: o.a.owner });
    expect(feed.body.data.map((n: { title: string }) => n.title)).toContain(`Test alert: ${r.name}`);
    expect(await stateOf(o, r.id)).toBe('ok');
  });
});

describe('signals over the threshold and back: one FIRING and one RESOLVED notice each', () => {
  it('failed runs (the window moves on)', async () => {
    const o = await org();
    const bot = await agent(o.a, `FailBot-${rand()}`);
    const r = await rule(o, { signal: 'failed_runs', threshold: 3, scope: { type: 'agent', value: bot.id } });
    await cycle(
      o,
      r,
      async () => {
        for (let i = 0; i < 3; i++) await run(o.a, bot.name, { status: 'failed' });
      },
      async () => {
        now += 2 * HOUR;
      },
    );
  });

  it('failure rate (good runs bring it down)', async () => {
    const o = await org();
    const bot = await agent(o.a, `RateBot-${rand()}`);
    const r = await rule(o, { signal: 'failure_rate', threshold: 0.5, scope: { type: 'agent', value: bot.name } });
    await cycle(
      o,
      r,
      async () => {
        await run(o.a, bot.name, { status: 'failed' });
        await run(o.a, bot.name, { status: 'failed' });
        await run(o.a, bot.name);
      },
      async () => {
        for (let i = 0; i < 6; i++) await run(o.a, bot.name);
      },
    );
  });

  it('p95 latency', async () => {
    const o = await org();
    const bot = await agent(o.a, `SlowBot-${rand()}`);
    const r = await rule(o, { signal: 'latency_p95_ms', threshold: 5000, scope: { type: 'agent', value: bot.id } });
    await cycle(
      o,
      r,
      async () => {
        for (let i = 0; i < 3; i++) await run(o.a, bot.name, { ms: 12_000 });
      },
      async () => {
        now += 2 * HOUR;
        for (let i = 0; i < 3; i++) await run(o.a, bot.name, { ms: 200 });
      },
    );
  });

  it('cost in the window, by tag scope', async () => {
    const o = await org();
    const tag = `tag-${rand()}`;
    const name = `CostBot-${rand()}`;
    const made = await t.request('POST', '/v1/agents', {
      auth: o.a.apiKey,
      body: { name, environment: 'prod', tags: [tag] },
    });
    expect(made.status, made.text).toBe(201);
    const r = await rule(o, { signal: 'cost_usd', threshold: 1, scope: { type: 'tag', value: tag } });
    await cycle(
      o,
      r,
      async () => run(o.a, name, { cost: 1.5 }),
      async () => {
        now += 2 * HOUR;
      },
    );
  });

  it('cost spike against the 7-day baseline', async () => {
    const o = await org();
    const bot = await agent(o.a, `SpikeBot-${rand()}`);
    // A baseline: $1.68 over the week before, so $0.01 per hour on average.
    await run(o.a, bot.name, { cost: 1.68, at: now - 3 * 24 * HOUR });
    const r = await rule(o, { signal: 'cost_spike', threshold: 5, scope: { type: 'agent', value: bot.id } });
    await cycle(
      o,
      r,
      async () => run(o.a, bot.name, { cost: 0.5 }),
      async () => {
        now += 2 * HOUR;
      },
    );
  });

  it('BLOCKed actions', async () => {
    const o = await org();
    const bot = await agent(o.a, `BlockBot-${rand()}`);
    const p = await t.request('POST', '/v1/policies', {
      auth: o.a.apiKey,
      body: {
        name: 'no drops',
        status: 'active',
        rule: { when: { field: 'action.type', op: 'eq', value: 'drop_table' }, then: 'block' },
      },
    });
    expect(p.status, p.text).toBe(201);
    const r = await rule(o, { signal: 'blocked_actions', threshold: 2, window_minutes: 30 });
    await cycle(
      o,
      r,
      async () => {
        for (let i = 0; i < 2; i++) {
          const d = await t.request('POST', '/v1/policy/evaluate', {
            auth: o.a.apiKey,
            body: { agent: bot.name, action: { type: 'drop_table' } },
          });
          expect(d.body.decision, d.text).toBe('BLOCK');
        }
      },
      async () => {
        now += 31 * MIN;
      },
    );
  });

  it('approvals waiting longer than the window (deciding resolves it)', async () => {
    const o = await org();
    const bot = await agent(o.a, `AskBot-${rand()}`);
    await t.requireApprovalFor(o.a, 'refund');
    const r = await rule(o, { signal: 'approvals_waiting', threshold: 1, window_minutes: 10 });
    let approvalId = '';
    await cycle(
      o,
      r,
      async () => {
        const d = await t.request('POST', '/v1/policy/evaluate', {
          auth: o.a.apiKey,
          body: { agent: bot.name, action: { type: 'refund', amount: 5 } },
        });
        approvalId = d.body.approval_id;
        expect(approvalId, d.text).toBeTruthy();
        await evaluate();
        expect(await stateOf(o, r.id)).toBe('ok'); // not waiting long enough yet
        now += 11 * MIN;
      },
      async () => {
        const ok = await t.request('POST', `/v1/approvals/${approvalId}/approve`, { auth: o.a.owner, body: {} });
        expect(ok.status, ok.text).toBe(200);
      },
    );
  });

  it('an agent silent for the window (a new run resolves it)', async () => {
    const o = await org();
    const bot = await agent(o.a, `QuietBot-${rand()}`);
    await run(o.a, bot.name);
    const r = await rule(o, {
      signal: 'agent_silent',
      threshold: 1,
      window_minutes: 30,
      scope: { type: 'agent', value: bot.id },
    });
    await cycle(
      o,
      r,
      async () => {
        now += 31 * MIN;
      },
      async () => run(o.a, bot.name),
    );
  });
});

describe('cooldown and several hub processes', () => {
  it('does not fire again within the cooldown after a RESOLVED', async () => {
    const o = await org();
    const bot = await agent(o.a, `FlapBot-${rand()}`);
    const r = await rule(o, {
      signal: 'failed_runs',
      threshold: 1,
      cooldown_minutes: 240,
      scope: { type: 'agent', value: bot.id },
    });
    await run(o.a, bot.name, { status: 'failed' });
    await evaluate();
    now += 2 * HOUR;
    await evaluate();
    expect(await stateOf(o, r.id)).toBe('resolved');
    await run(o.a, bot.name, { status: 'failed' });
    await evaluate();
    expect(await stateOf(o, r.id)).toBe('resolved');
    expect(notices(o, r, 'firing')).toEqual({ mails: 1, hooks: 1 });
    now += 5 * HOUR;
    await run(o.a, bot.name, { status: 'failed' });
    await evaluate();
    expect(await stateOf(o, r.id)).toBe('firing');
    expect(notices(o, r, 'firing')).toEqual({ mails: 2, hooks: 2 });
  });

  it('two hub processes evaluating the same rule at once send one notice per transition', async () => {
    const second = await createTestHub(
      { SMTP_URL: smtp.url, HUB_EGRESS_ALLOW: '127.0.0.1' },
      { clock, shareWith: { database: t.database } },
    );
    try {
      const o = await org();
      const bot = await agent(o.a, `TwinBot-${rand()}`);
      const r = await rule(o, { signal: 'failed_runs', threshold: 2, scope: { type: 'agent', value: bot.id } });
      for (let i = 0; i < 2; i++) await run(o.a, bot.name, { status: 'failed' });
      await evaluate(0);
      // Both processes read the rule in the same state and both decide it must fire…
      const rows = async (hub: TestHub) =>
        (await enabledRulesOfEveryOrg(hub.hub.ctx.db.db)).find((x) => x.row.id === r.id)!;
      const v1 = await t.hub.ctx.alertEvaluator.judge(await rows(t), now);
      const v2 = await second.hub.ctx.alertEvaluator.judge(await rows(second), now);
      expect([v1.next, v2.next]).toEqual(['firing', 'firing']);
      // …and only the first to move it announces it.
      const made = [await second.hub.ctx.alertEvaluator.apply(v2, now), await t.hub.ctx.alertEvaluator.apply(v1, now)];
      expect(made).toEqual([true, false]);
      // Whole passes at once, too: on PostgreSQL truly concurrent (SQLite has one writer process).
      now += 2 * HOUR;
      if (testDialect() === 'postgres')
        await Promise.all([t.hub.ctx.alertEvaluator.runPass(), second.hub.ctx.alertEvaluator.runPass()]);
      else {
        await t.hub.ctx.alertEvaluator.runPass();
        await second.hub.ctx.alertEvaluator.runPass();
      }
      await t.hub.ctx.jobs.drain();
      await second.hub.ctx.jobs.drain();
      expect(notices(o, r, 'firing')).toEqual({ mails: 1, hooks: 1 });
      expect(notices(o, r, 'resolved')).toEqual({ mails: 1, hooks: 1 });
    } finally {
      await second.hub.close();
    }
  });
});

tenantIsolationSuite('alerts', () => t, {
  create: async (a) => {
    const r = await t.request('POST', '/v1/alerts', {
      auth: a.apiKey,
      body: {
        name: `Iso ${rand()}`,
        signal: 'failed_runs',
        window_minutes: 60,
        threshold: 1,
        channels: [{ type: 'in_app' }],
      },
    });
    return r.body;
  },
  routes: (id) => [
    ['GET', `/v1/alerts/${id}`],
    ['GET', `/v1/alerts/${id}/events`],
    ['PATCH', `/v1/alerts/${id}`, { threshold: 9 }],
    ['POST', `/v1/alerts/${id}/test`],
    ['DELETE', `/v1/alerts/${id}`],
  ],
  list: ['/v1/alerts'],
});
