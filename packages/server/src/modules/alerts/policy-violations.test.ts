/**
 * `policy.violation` through the real pipeline: policy decisions made over HTTP, the alerts job's pass,
 * the webhook delivered to a real HTTP receiver. A BLOCK gives one event; a `log_only` match gives one;
 * many decisions of one subject in a minute give one event that counts them; passes run twice, or by two
 * hub processes, announce nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedOrgId } from '../../platform/caller.ts';
import { testDialect } from '../../testing/test-db.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { startWebhookReceiver, type WebhookHit } from '../../testing/webhook-receiver.ts';

let hits: WebhookHit[] = [];
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let base = '';
let t: TestHub;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ hits, base } = receiver);
  t = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

async function org() {
  const a = await t.seedOrg();
  const path = `/violations/${a.org.id}`;
  const w = await t.request('POST', '/v1/webhooks', {
    auth: a.apiKey,
    body: { url: `${base}${path}`, events: ['policy.violation'] },
  });
  expect(w.status, w.text).toBe(201);
  for (const [type, then] of [
    ['drop_table', 'block'],
    ['send_email', 'log_only'],
  ])
    expect(
      (
        await t.request('POST', '/v1/policies', {
          auth: a.apiKey,
          body: {
            name: `${then} ${type}`,
            status: 'active',
            rule: { when: { field: 'action.type', op: 'eq', value: type }, then },
          },
        })
      ).status,
    ).toBe(201);
  return { a, path };
}
const ask = (a: SeededOrg, type: string) =>
  t.request('POST', '/v1/policy/evaluate', { auth: a.apiKey, body: { agent: 'Rogue', action: { type } } });
async function pass(hub: TestHub = t) {
  await hub.hub.ctx.evaluator.drain();
  await hub.hub.ctx.violations.runPass();
  await hub.hub.ctx.jobs.drain();
}
const events = (path: string) => hits.filter((h) => h.path === path && h.event === 'policy.violation');

describe('policy.violation', () => {
  it('one event for a BLOCK, one for a log_only match, one counting a burst; never twice', async () => {
    const { a, path } = await org();
    expect((await ask(a, 'drop_table')).body.decision).toBe('BLOCK');
    await pass();
    await pass();
    expect(events(path)).toHaveLength(1);
    expect(events(path)[0]!.body.data).toMatchObject({
      kind: 'block',
      agent_name: 'Rogue',
      action_type: 'drop_table',
      count: 1,
      rules: ['block drop_table'],
    });
    expect(events(path)[0]!.body.data.title).toBe('Rogue was blocked from drop_table');

    expect((await ask(a, 'send_email')).body.decision).toBe('ALLOW');
    await ask(a, 'lookup'); // a plain allow is no violation
    await pass();
    expect(events(path)).toHaveLength(2);
    expect(events(path)[1]!.body.data).toMatchObject({ kind: 'log_only', action_type: 'send_email', count: 1 });

    for (let i = 0; i < 5; i++) await ask(a, 'drop_table');
    await pass();
    expect(events(path)).toHaveLength(3);
    expect(events(path)[2]!.body.data).toMatchObject({ kind: 'block', count: 5 });
    expect(events(path)[2]!.body.data.title).toBe('Rogue was blocked from drop_table (5 times)');

    const feed = await t.request('GET', '/v1/notifications', { auth: a.owner });
    expect(feed.body.data.map((n: { title: string }) => n.title)).toContain('Rogue was blocked from drop_table');
  });

  it('two hub processes passing at once announce a decision once', async () => {
    const second = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' }, { shareWith: { database: t.database } });
    try {
      const { a, path } = await org();
      await pass(); // the org's cursor exists
      await ask(a, 'drop_table');
      await t.hub.ctx.evaluator.drain();
      const orgId = trustedOrgId(a.org.id);
      if (testDialect() === 'postgres')
        await Promise.all([t.hub.ctx.violations.runOrg(orgId), second.hub.ctx.violations.runOrg(orgId)]);
      else {
        await t.hub.ctx.violations.runOrg(orgId);
        await second.hub.ctx.violations.runOrg(orgId);
      }
      await t.hub.ctx.jobs.drain();
      await second.hub.ctx.jobs.drain();
      expect(events(path)).toHaveLength(1);
    } finally {
      await second.hub.close();
    }
  });
});

describe('ingestion.error', () => {
  it('one event per org and subject for the items ingestion rejected, counting them', async () => {
    const a = await t.seedOrg();
    const path = `/ingestion/${a.org.id}`;
    await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${path}`, events: ['ingestion.error'] },
    });
    // A real batch with bad items: the answer names them, and ingestion hands the same list on.
    const r = await t.request('POST', '/v1/ingest/events', {
      auth: a.apiKey,
      body: {
        events: [
          { run_id: 'ie-1', agent: 'Feeder', type: 'run_started', timestamp: new Date().toISOString(), payload: {} },
          { run_id: 'ie-1', type: 'nope', timestamp: new Date().toISOString() },
          { run_id: 'ie-1', type: 'also-nope', timestamp: new Date().toISOString() },
        ],
      },
    });
    expect(r.status, r.text).toBe(202);
    expect(r.body.rejected).toHaveLength(2);
    // The route handed them on; a clean batch hands on nothing.
    const clean = await t.request('POST', '/v1/ingest/events', {
      auth: a.apiKey,
      body: { events: [{ run_id: 'ie-1', type: 'log', timestamp: new Date().toISOString(), payload: {} }] },
    });
    expect(clean.body.rejected).toEqual([]);
    const notifier = t.hub.ctx.ingestionErrors;
    expect(await notifier.flush()).toBe(1);
    expect(await notifier.flush()).toBe(0);
    await t.hub.ctx.jobs.drain();
    const got = hits.filter((h) => h.path === path && h.event === 'ingestion.error');
    expect(got).toHaveLength(1);
    expect(got[0]!.body.data).toMatchObject({ source: 'events', field: 'type', rejected: 2 });
    expect(got[0]!.body.data.title).toBe('2 events were rejected at ingestion (type)');

    // An OTLP export with a span that cannot be read: its partial success and one notice of spans.
    const now = `${Date.now()}000000`;
    const span = { spanId: '0102030405060708', name: 'broken', startTimeUnixNano: now, endTimeUnixNano: now };
    const otlp = await t.request('POST', '/v1/traces', {
      auth: a.apiKey,
      body: { resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] },
    });
    expect(otlp.status, otlp.text).toBe(200);
    expect(otlp.body.partialSuccess.rejectedSpans).toBe('1');
    expect(await notifier.flush()).toBe(1);
    await t.hub.ctx.jobs.drain();
    const spans = hits.filter((h) => h.path === path && h.event === 'ingestion.error' && h.body.data.source === 'otlp');
    expect(spans).toHaveLength(1);
    expect(spans[0]!.body.data).toMatchObject({ field: 'span', rejected: 1 });
    expect(spans[0]!.body.data.title).toBe('1 span was rejected at ingestion (span)');
  });
});
