/**
 * Webhooks through the HTTP API on a real hub and database; deliveries go to a real local HTTP server.
 * Jobs are run with `jobs.runDue()` and time moves with an injected clock, so retries need no waiting.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';
import { trustedOrgId } from '../caller.ts';
import { signPayload, verifySignature } from './webhook-signature.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver whose answers are scripted per path: a list of statuses, the last one repeating. */
function startReceiver() {
  const received: Received[] = [];
  const script = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      const statuses = script.get(path) ?? [200];
      const status = statuses.length > 1 ? statuses.shift()! : statuses[0]!;
      res.statusCode = status;
      res.end(status >= 400 ? 'receiver says no' : 'ok');
    });
  });
  return {
    received,
    script,
    async listen() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let t: TestHub;
let offset = 0;
const clock = () => Date.now() + offset;
const receiver = startReceiver();
let base: string;

beforeAll(async () => {
  base = await receiver.listen();
  // The receiver is on loopback, which the egress guard refuses unless the operator allows it.
  t = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' }, { clock });
});
afterAll(async () => {
  await t?.close();
  await receiver.close();
});

const jobs = () => t.hub.ctx.jobs;
let pathSeq = 0;
const newPath = () => `/hook-${pathSeq++}`;

describe('webhook signatures', () => {
  it('verifies the HMAC of the exact raw body and rejects a tampered body, a wrong secret or a bad header', () => {
    const body = '{"event":"approval.requested","data":{"amount":10}}';
    const header = signPayload('whsec_test_secret', body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_test_secret', body, header)).toBe(true);
    expect(verifySignature('whsec_test_secret', Buffer.from(body), header)).toBe(true);
    expect(verifySignature('whsec_test_secret', body.replace('10', '11'), header)).toBe(false);
    expect(verifySignature('whsec_other_secret', body, header)).toBe(false);
    expect(verifySignature('whsec_test_secret', body, header.slice(0, -1))).toBe(false);
    expect(verifySignature('whsec_test_secret', body, undefined)).toBe(false);
    expect(verifySignature('whsec_test_secret', body, ['a', 'b'])).toBe(false);
  });
});

describe('webhooks API', () => {
  it('creates a webhook, shows its secret once, stores it sealed, and audits create and delete', async () => {
    const a = await t.seedOrg();
    const created = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: {
        url: `${base}${newPath()}`,
        events: ['approval.requested', 'budget.threshold'],
        description: 'ops channel',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      format: 'json',
      active: true,
      events: ['approval.requested', 'budget.threshold'],
    });
    expect(created.body.id).toMatch(/^whk_/);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);

    const list = await t.request('GET', '/v1/webhooks', { auth: a.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    expect(list.text).not.toContain(secret);
    expect(list.body.data[0]).not.toHaveProperty('secret');

    const stored = await t.hub.ctx.db.db
      .selectFrom('webhooks')
      .select('secret')
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(stored.secret).not.toContain(secret);
    expect(t.hub.ctx.secretBox.open(stored.secret)).toBe(secret);

    const del = await t.request('DELETE', `/v1/webhooks/${created.body.id}`, { auth: a.apiKey });
    expect(del.status).toBe(204);
    expect((await t.request('GET', '/v1/webhooks', { auth: a.apiKey })).body.data).toEqual([]);

    const audit = await t.request('GET', `/v1/audit?entity_type=webhook&entity_id=${created.body.id}`, {
      auth: a.apiKey,
    });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(['webhook.deleted', 'webhook.created']);
    expect(audit.text).not.toContain(secret);
  });

  it('refuses a bad URL or an unknown event, naming the field', async () => {
    const a = await t.seedOrg();
    const bad = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: 'ftp://example.test', events: ['nope'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    const paths = bad.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['url']));
    expect(paths.some((p: string) => p.startsWith('events'))).toBe(true);
  });

  it("answers 404 for another org's webhook, and never lists it", async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    const hook = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${newPath()}`, events: ['agent.paused'] },
    });
    for (const [method, url] of [
      ['DELETE', `/v1/webhooks/${hook.body.id}`],
      ['GET', `/v1/webhooks/${hook.body.id}/deliveries`],
      ['POST', `/v1/webhooks/${hook.body.id}/test`],
    ] as const) {
      const r = await t.request(method, url, { auth: b.apiKey });
      expect(r.status, `${method} ${url}`).toBe(404);
      expect(r.body.code).toBe('not_found');
    }
    expect((await t.request('GET', '/v1/webhooks', { auth: b.apiKey })).body.data).toEqual([]);
    expect((await t.request('GET', '/v1/webhooks', { auth: a.apiKey })).body.data).toHaveLength(1);
  });

  it('lets only integrations:manage create webhooks (a read-scoped key cannot)', async () => {
    const a = await t.seedOrg();
    const readKey = await t.request('POST', '/v1/api-keys', {
      auth: a.apiKey,
      body: { name: 'reader', scopes: ['read'] },
    });
    const r = await t.request('POST', '/v1/webhooks', {
      auth: readKey.body.key,
      body: { url: `${base}/x`, events: ['agent.paused'] },
    });
    expect(r.status).toBe(403);
    expect((await t.request('GET', '/v1/webhooks', { auth: readKey.body.key })).status).toBe(200);
  });
});

describe('webhook deliveries', () => {
  it('delivers a signed JSON event, retries after a 500 with backoff, then records the delivery', async () => {
    const a = await t.seedOrg();
    const path = newPath();
    receiver.script.set(path, [500, 200]);
    const hook = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${path}`, events: ['budget.threshold'], secret: 'whsec_a_known_test_secret' },
    });
    // An event it did not subscribe to goes nowhere.
    await t.hub.ctx.webhooks.emit(trustedOrgId(a.org.id), 'agent.paused', { title: 'not for this hook' });
    const [deliveryId] = await t.hub.ctx.webhooks.emit(trustedOrgId(a.org.id), 'budget.threshold', {
      title: 'CostBot reached 80% of its daily budget ($0.80 of $1.00)',
      body: 'Spent $0.80 of $1.00 today.',
      budget_id: 'bud_1',
    });
    expect(deliveryId).toMatch(/^dlv_/);

    await jobs().runDue();
    const mine = () => receiver.received.filter((r) => r.path === path);
    expect(mine()).toHaveLength(1);
    const first = mine()[0]!;
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['x-hub-event']).toBe('budget.threshold');
    expect(first.headers['x-hub-delivery']).toBe(deliveryId);
    expect(verifySignature('whsec_a_known_test_secret', first.body, first.headers['x-hub-signature-256'])).toBe(true);
    const payload = JSON.parse(first.body);
    expect(payload).toMatchObject({
      id: deliveryId,
      event: 'budget.threshold',
      org_id: a.org.id,
      data: { title: 'CostBot reached 80% of its daily budget ($0.80 of $1.00)', budget_id: 'bud_1' },
    });
    expect(new Date(payload.created_at).toISOString()).toBe(payload.created_at);

    let list = await t.request('GET', `/v1/webhooks/${hook.body.id}/deliveries`, { auth: a.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    const pending = list.body.data[0];
    expect(pending).toMatchObject({
      id: deliveryId,
      status: 'pending',
      attempts: 1,
      response_status: 500,
      delivered_at: null,
    });
    expect(pending.last_error).toMatch(/HTTP 500/);
    const wait = Date.parse(pending.next_attempt_at) - clock();
    expect(wait).toBeGreaterThan(20_000); // backoff, not an immediate hammering
    expect(wait).toBeLessThan(40_000);

    // Not yet due: nothing is sent.
    await jobs().runDue();
    expect(mine()).toHaveLength(1);

    offset += wait + 1000;
    await jobs().runDue();
    expect(mine()).toHaveLength(2);
    // The retry sends the same bytes, with the same signature.
    expect(mine()[1]!.body).toBe(first.body);
    expect(mine()[1]!.headers['x-hub-signature-256']).toBe(first.headers['x-hub-signature-256']);

    list = await t.request('GET', `/v1/webhooks/${hook.body.id}/deliveries`, { auth: a.apiKey });
    expect(list.body.data[0]).toMatchObject({
      status: 'delivered',
      attempts: 2,
      response_status: 200,
      last_error: null,
      next_attempt_at: null,
    });
    expect(list.body.data[0].delivered_at).not.toBeNull();
  });

  it('sends a Slack-compatible body for format slack, escaping markup', async () => {
    const a = await t.seedOrg();
    const path = newPath();
    await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: {
        url: `${base}${path}`,
        events: ['approval.requested'],
        format: 'slack',
        secret: 'whsec_slack_secret_123',
      },
    });
    await t.hub.ctx.webhooks.emit(trustedOrgId(a.org.id), 'approval.requested', {
      title: 'PayBot asks to send $500 to <Acme & Co>',
      body: 'Approve or reject it in the console.',
    });
    await jobs().runDue();
    const got = receiver.received.find((r) => r.path === path)!;
    expect(verifySignature('whsec_slack_secret_123', got.body, got.headers['x-hub-signature-256'])).toBe(true);
    const text = '*PayBot asks to send $500 to &lt;Acme &amp; Co&gt;*\nApprove or reject it in the console.';
    expect(JSON.parse(got.body)).toEqual({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  });

  it('gives up after 6 attempts and marks the delivery failed', async () => {
    const a = await t.seedOrg();
    const path = newPath();
    receiver.script.set(path, [503]);
    const hook = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${path}`, events: ['ingestion.error'] },
    });
    const [id] = await t.hub.ctx.webhooks.emit(trustedOrgId(a.org.id), 'ingestion.error', { title: 'bad batch' });
    for (let i = 0; i < 8; i++) {
      await jobs().runDue();
      offset += 3 * 3600_000;
    }
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(6);
    const list = await t.request('GET', `/v1/webhooks/${hook.body.id}/deliveries`, { auth: a.apiKey });
    expect(list.body.data[0]).toMatchObject({
      id,
      status: 'failed',
      attempts: 6,
      response_status: 503,
      next_attempt_at: null,
    });
  });

  it('records a network failure (nothing listening) as a retryable error', async () => {
    const a = await t.seedOrg();
    const closed = startReceiver();
    const url = await closed.listen();
    await closed.close(); // the port is now refused
    const hook = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${url}/gone`, events: ['kill_switch.changed'] },
    });
    await t.hub.ctx.webhooks.emit(trustedOrgId(a.org.id), 'kill_switch.changed', { title: 'Kill switch on' });
    await jobs().runDue();
    const list = await t.request('GET', `/v1/webhooks/${hook.body.id}/deliveries`, { auth: a.apiKey });
    expect(list.body.data[0]).toMatchObject({ status: 'pending', attempts: 1, response_status: null });
    expect(list.body.data[0].last_error).toBe('connection failed: ECONNREFUSED');
  });

  it('emits inside the caller transaction: a rollback sends nothing', async () => {
    const a = await t.seedOrg();
    const path = newPath();
    await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${path}`, events: ['policy.violation'] },
    });
    await expect(
      t.hub.ctx.db.db.transaction().execute(async (trx) => {
        await t.hub.ctx.webhooks.emit(trustedOrgId(a.org.id), 'policy.violation', { title: 'x' }, { exec: trx });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await jobs().runDue();
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(0);
  });

  it('POST /v1/webhooks/:id/test sends one signed test event now and answers the outcome', async () => {
    const a = await t.seedOrg();
    const okPath = newPath();
    const ok = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${okPath}`, events: ['report.delivered'] },
    });
    const res = await t.request('POST', `/v1/webhooks/${ok.body.id}/test`, { auth: a.apiKey });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ event: 'webhook.test', status: 'delivered', attempts: 1, response_status: 200 });
    const got = receiver.received.find((r) => r.path === okPath)!;
    expect(verifySignature(ok.body.secret, got.body, got.headers['x-hub-signature-256'])).toBe(true);
    expect(got.headers['x-hub-event']).toBe('webhook.test');

    const badPath = newPath();
    receiver.script.set(badPath, [404]);
    const bad = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${badPath}`, events: ['report.delivered'] },
    });
    const failed = await t.request('POST', `/v1/webhooks/${bad.body.id}/test`, { auth: a.apiKey });
    expect(failed.body).toMatchObject({ status: 'failed', response_status: 404 });
    // The status only: the receiver's body is never echoed (it could be an internal service's secret).
    expect(failed.body.last_error).toBe('HTTP 404');
  });

  it('pages deliveries newest first with a cursor', async () => {
    const a = await t.seedOrg();
    const path = newPath();
    const hook = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${base}${path}`, events: ['agent.paused'] },
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(...(await t.hub.ctx.webhooks.emit(trustedOrgId(a.org.id), 'agent.paused', { title: `pause ${i}` })));
      offset += 5;
    }
    const p1 = await t.request('GET', `/v1/webhooks/${hook.body.id}/deliveries?limit=2`, { auth: a.apiKey });
    expect(p1.body.data.map((d: { id: string }) => d.id)).toEqual([ids[2], ids[1]]);
    expect(p1.body.next_cursor).toBe(ids[1]);
    const p2 = await t.request('GET', `/v1/webhooks/${hook.body.id}/deliveries?limit=2&cursor=${p1.body.next_cursor}`, {
      auth: a.apiKey,
    });
    expect(p2.body.data.map((d: { id: string }) => d.id)).toEqual([ids[0]]);
    expect(p2.body.next_cursor).toBeNull();
  });
});
