/**
 * Finding 4 of the security review, reproduced as reported: the hub POSTed to webhook URLs and approval
 * `callback_url`s on loopback, private and metadata addresses, and the webhook test route and the
 * deliveries list echoed the first 300 characters of the answer, so a fresh sign-up read a secret from
 * a loopback service. Here a loopback listener that answers with a secret receives NOTHING from a hub
 * without an allowlist, the hub never shows the secret, and with HUB_EGRESS_ALLOW=127.0.0.1 the listener
 * receives the signed delivery (still without the hub repeating its answer).
 *
 * Two hubs share one database: `allowed` (HUB_EGRESS_ALLOW=127.0.0.1) can register loopback targets,
 * which stands for rows written before the guard existed or before an operator narrowed the allowlist;
 * `strict` (the default configuration) must refuse to send to them. Jobs run only when a test calls
 * `runDue()` on one hub, so it is clear which hub sent (or refused) what.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../platform/webhooks/webhook-signature.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';

const SECRET = `internal-secret-${randomBytes(8).toString('hex')}`;
let listener: Server;
let base: string;
let connections = 0;
const received: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let strict: TestHub;
let allowed: TestHub;

beforeAll(async () => {
  // The "internal service": answers every request with a secret (as an admin API or metadata would).
  listener = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.statusCode = 500;
      res.end(`${SECRET} ${'x'.repeat(500)}`);
    });
  });
  listener.on('connection', () => {
    connections++;
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  strict = await createTestHub();
  allowed = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' }, { shareWith: strict });
});
afterAll(async () => {
  await allowed?.close();
  await strict?.close();
  listener.closeAllConnections();
  await new Promise((r) => listener?.close(r));
});

const hits = (path: string) => received.filter((r) => r.url === path);

async function hookOn(hub: TestHub, a: SeededOrg, url: string) {
  const res = await hub.request('POST', '/v1/webhooks', {
    auth: a.apiKey,
    body: { url, events: ['kill_switch.changed', 'approval.decided'] },
  });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; secret: string };
}

async function approvalWithCallback(hub: TestHub, a: SeededOrg, callbackUrl: string) {
  await hub.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Outreach', environment: 'prod' } });
  const policy = await hub.request('POST', '/v1/policies', {
    auth: a.apiKey,
    body: {
      name: 'Discounts need a human',
      status: 'active',
      rule: { when: { field: 'action.discount', op: 'gt', value: 10 }, then: 'require_approval' },
    },
  });
  expect(policy.status, policy.text).toBe(201);
  const d = await hub.request('POST', '/v1/policy/evaluate', {
    auth: a.apiKey,
    body: { agent: 'Outreach', action: { type: 'send_email', discount: 20 }, callback_url: callbackUrl },
  });
  expect(d.body.decision, d.text).toBe('REQUIRE_APPROVAL');
  return d.body as { approval_id: string; callback_secret: string };
}

describe('webhook URLs on internal addresses', () => {
  it('are refused when created: a literal loopback, v4-mapped or metadata IP, or localhost → 400 naming url', async () => {
    const a = await strict.seedOrg();
    const port = (listener.address() as AddressInfo).port;
    for (const [url, reason] of [
      [`${base}/create`, 'refused: 127.0.0.1 is a loopback address'],
      [`http://[::ffff:127.0.0.1]:${port}/create`, 'loopback'],
      [`http://localhost:${port}/create`, 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
      ['http://10.0.0.5/hook', 'private'],
    ]) {
      const res = await strict.request('POST', '/v1/webhooks', {
        auth: a.apiKey,
        body: { url, events: ['kill_switch.changed'] },
      });
      expect(res.status, url).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors).toEqual([{ path: 'url', message: expect.stringContaining(reason!) }]);
    }
    expect(hits('/create')).toHaveLength(0);
  });

  it('stored anyway (before the guard), receive nothing from the test route or a delivery job', async () => {
    const a = await allowed.seedOrg();
    const before = connections;
    const hook = await hookOn(allowed, a, `${base}/stored`);

    const test = await strict.request('POST', `/v1/webhooks/${hook.id}/test`, { auth: a.apiKey });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({
      status: 'failed',
      response_status: null,
      last_error: 'refused: 127.0.0.1 is a loopback address',
    });

    const kill = await strict.request('POST', '/v1/controls/kill-switch', {
      auth: a.apiKey,
      body: { engaged: true, reason: 'drill' },
    });
    expect(kill.status, kill.text).toBe(200);
    await strict.hub.ctx.jobs.runDue();
    const list = await strict.request('GET', `/v1/webhooks/${hook.id}/deliveries`, { auth: a.apiKey });
    const job = list.body.data.find((d: { event: string }) => d.event === 'kill_switch.changed');
    expect(job).toMatchObject({
      attempts: 1,
      response_status: null,
      last_error: 'refused: 127.0.0.1 is a loopback address',
    });

    expect(connections).toBe(before);
    expect(hits('/stored')).toHaveLength(0);
  });

  it('never show what the target answered: the test route and the deliveries list keep the status only', async () => {
    const a = await allowed.seedOrg();
    const hook = await hookOn(allowed, a, `${base}/echo`);
    const test = await allowed.request('POST', `/v1/webhooks/${hook.id}/test`, { auth: a.apiKey });
    expect(test.body).toMatchObject({ status: 'failed', response_status: 500, last_error: 'HTTP 500' });
    expect(hits('/echo')).toHaveLength(1); // it did reach the (allowed) target…
    expect(test.text).not.toContain(SECRET); // …and nothing of its answer came back
    const list = await allowed.request('GET', `/v1/webhooks/${hook.id}/deliveries`, { auth: a.apiKey });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(SECRET);
    const row = await allowed.hub.ctx.db.db
      .selectFrom('webhook_deliveries')
      .select('last_error')
      .where('webhook_id', '=', hook.id)
      .executeTakeFirstOrThrow();
    expect(row.last_error).toBe('HTTP 500');
  });

  it('with HUB_EGRESS_ALLOW=127.0.0.1 the loopback listener receives the signed delivery', async () => {
    const a = await allowed.seedOrg();
    const hook = await hookOn(allowed, a, `${base}/signed`);
    await allowed.request('POST', `/v1/webhooks/${hook.id}/test`, { auth: a.apiKey });
    const [got] = hits('/signed');
    expect(got).toBeDefined();
    expect(got!.headers['x-hub-event']).toBe('webhook.test');
    expect(verifySignature(hook.secret, got!.body, got!.headers['x-hub-signature-256'])).toBe(true);
  });
});

describe('approval callback_url on an internal address', () => {
  it('is refused when the agent asks: 400 naming callback_url, and no approval is created', async () => {
    const a = await strict.seedOrg();
    await strict.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Outreach', environment: 'prod' } });
    await strict.request('POST', '/v1/policies', {
      auth: a.apiKey,
      body: {
        name: 'Discounts need a human',
        status: 'active',
        rule: { when: { field: 'action.discount', op: 'gt', value: 10 }, then: 'require_approval' },
      },
    });
    for (const url of [`${base}/cb`, 'http://169.254.169.254/latest/meta-data', 'http://localhost:9/cb']) {
      const d = await strict.request('POST', '/v1/policy/evaluate', {
        auth: a.apiKey,
        body: { agent: 'Outreach', action: { type: 'send_email', discount: 20 }, callback_url: url },
      });
      expect(d.status, url).toBe(400);
      expect(d.body.code).toBe('validation_failed');
      expect(d.body.errors[0].path).toBe('callback_url');
    }
    const pending = await strict.request('GET', '/v1/approvals?status=pending', { auth: a.apiKey });
    expect(pending.body.data).toHaveLength(0);
    expect(hits('/cb')).toHaveLength(0);
  });

  it('receives nothing from a hub without the allowlist; the job records the refusal', async () => {
    const a = await allowed.seedOrg();
    const before = connections;
    const { approval_id: id } = await approvalWithCallback(allowed, a, `${base}/cb-strict`);
    const decided = await strict.request('POST', `/v1/approvals/${id}/reject`, { auth: a.owner, body: {} });
    expect(decided.status, decided.text).toBe(200);
    await strict.hub.ctx.jobs.runDue();
    const job = await strict.hub.ctx.db.db
      .selectFrom('jobs')
      .select(['status', 'last_error'])
      .where('queue', '=', 'approval.callback')
      .where('singleton_key', '=', `approval.callback:${id}`)
      .executeTakeFirstOrThrow();
    expect(job.last_error).toBe('callback failed: refused: 127.0.0.1 is a loopback address');
    expect(connections).toBe(before);
    expect(hits('/cb-strict')).toHaveLength(0);
  });

  it('with HUB_EGRESS_ALLOW=127.0.0.1 the listener receives the signed callback', async () => {
    const a = await allowed.seedOrg();
    const d = await approvalWithCallback(allowed, a, `${base}/cb-allowed`);
    await allowed.request('POST', `/v1/approvals/${d.approval_id}/approve`, { auth: a.owner, body: {} });
    for (let i = 0; i < 50 && hits('/cb-allowed').length === 0; i++) {
      await allowed.hub.ctx.jobs.runDue();
      await new Promise((r) => setTimeout(r, 20));
    }
    const [cb] = hits('/cb-allowed');
    expect(cb).toBeDefined();
    expect(verifySignature(d.callback_secret, cb!.body, cb!.headers['x-hub-signature-256'])).toBe(true);
    const job = await allowed.hub.ctx.db.db
      .selectFrom('jobs')
      .select('last_error')
      .where('singleton_key', '=', `approval.callback:${d.approval_id}`)
      .executeTakeFirstOrThrow();
    expect(job.last_error ?? '').not.toContain(SECRET);
  });
});
