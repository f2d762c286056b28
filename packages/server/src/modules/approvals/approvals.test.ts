/**
 * The approval flow end to end on a real database and a real SMTP receiver: signed one-click email
 * links, escalation, expiry, and the agent's signed callback. Time moves with an injected clock and
 * jobs run with `runDue()`; the clock only ever moves forward, so jobs queued "now" stay due.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../platform/webhooks/webhook-signature.ts';
import { startSmtpCapture } from '../../testing/smtp-capture.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
let offset = 0;
// Whatever the hub POSTs out (webhooks, callbacks) lands here.
const received: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let sink: Server;
let sinkUrl: string;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  // The sink is on loopback, which the egress guard refuses unless the operator allows it.
  t = await createTestHub({ SMTP_URL: smtp.url, HUB_EGRESS_ALLOW: '127.0.0.1' }, { clock: () => Date.now() + offset });
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
  await new Promise((r) => sink?.close(r));
});

const rule = (extra: object = {}) => ({
  name: 'Discounts over 10% need a human',
  status: 'active',
  rule: {
    when: { field: 'action.discount', op: 'gt', value: 10 },
    then: 'require_approval',
    approval_timeout_s: 3600,
    ...extra,
  },
});

async function setup(extra: object = {}) {
  const a = await t.seedOrg();
  await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Outreach', environment: 'prod' } });
  const p = await t.request('POST', '/v1/policies', { auth: a.apiKey, body: rule(extra) });
  expect(p.status).toBe(201);
  return a;
}

const evaluate = (a: SeededOrg, body: object = {}) =>
  t.request('POST', '/v1/policy/evaluate', {
    auth: a.apiKey,
    body: { agent: 'Outreach', action: { type: 'send_email', discount: 15 + Math.random() }, ...body },
  });

/** Runs due jobs (callbacks are delivered by a job) until a callback to `path` arrives; all of them to it. */
async function callbacksTo(path: string) {
  for (let i = 0; i < 50 && !received.some((r) => r.url === path); i++) {
    await t.hub.ctx.jobs.runDue();
    await new Promise((r) => setTimeout(r, 50));
  }
  return received.filter((r) => r.url === path);
}

/** Runs due jobs (announcements are written just after evaluate answers) until the mail arrives. */
async function mailTo(address: string, subject: RegExp, timeoutMs = 8000): Promise<ParsedMail> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await t.hub.ctx.jobs.runDue();
    const m = smtp.messages.find(
      (x) => subject.test(x.subject ?? '') && JSON.stringify(x.to).includes(address) && x.text?.includes('Approve:'),
    );
    if (m) return m;
    if (Date.now() > end) throw new Error(`no mail to ${address} matching ${subject}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Approval mails (the ones with links) to `address`; invitations and the like are left out. */
const mailsTo = (address: string) =>
  smtp.messages.filter((x) => JSON.stringify(x.to).includes(address) && x.text?.includes('/v1/approvals/'));

/** The path and query of the mail's approve or reject link, for `inject`. */
function linkIn(mail: ParsedMail, approvalId: string, which: 'Approve' | 'Reject') {
  const found = [...(mail.text ?? '').matchAll(new RegExp(`${which}: (\\S+)`, 'g'))]
    .map((m) => new URL(m[1]!))
    .find((u) => u.pathname.startsWith(`/v1/approvals/${approvalId}/`));
  if (!found) throw new Error(`no ${which} link for ${approvalId}`);
  expect(found.origin).toBe('http://hub.test');
  return found.pathname + found.search;
}
const post = (path: string) =>
  t.request('POST', path, {
    raw: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
  });
const approvalOf = async (a: SeededOrg, id: string) =>
  (await t.request('GET', `/v1/approvals/${id}`, { auth: a.apiKey })).body;
const auditOf = async (a: SeededOrg, id: string) =>
  (await t.request('GET', `/v1/audit?entity_type=approval&entity_id=${id}`, { auth: a.apiKey })).body.data as {
    action: string;
    actor: { type: string; id: string | null };
  }[];

describe('approval email links', () => {
  it('GET shows a confirmation form and decides nothing; POST approves as the emailed user', async () => {
    const a = await setup();
    const d = await evaluate(a);
    expect(d.body.decision).toBe('REQUIRE_APPROVAL');
    const id = d.body.approval_id as string;
    const mail = await mailTo(a.email, /asks to send_email/);
    const approve = linkIn(mail, id, 'Approve');
    expect(linkIn(mail, id, 'Reject')).toContain('/email/reject?token=');

    const page = await t.request('GET', approve);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('<form method="post"');
    expect(page.text).toContain('send_email');
    expect((await approvalOf(a, id)).status).toBe('pending');

    const done = await post(approve);
    expect(done.status).toBe(200);
    expect(done.text).toContain('Approved');
    expect(await approvalOf(a, id)).toMatchObject({ status: 'approved', decided_by: a.email, comment: 'via email' });
    const audit = await auditOf(a, id);
    expect(audit[0]).toMatchObject({ action: 'approval.approved', actor: { type: 'user', id: a.userId } });
    // Single use, like the API: a second click is a conflict.
    expect((await post(approve)).status).toBe(409);
    // The agent can now act, once.
    const action = (await approvalOf(a, id)).action;
    expect((await evaluate(a, { action, approval_id: id })).body.decision).toBe('ALLOW');
  });

  it('refuses a tampered token, another approval, the other decision, no token, and a user who lost the role', async () => {
    const a = await setup();
    const lead = await t.addMember(a, 'team_lead');
    const first = (await evaluate(a)).body.approval_id as string;
    const second = (await evaluate(a)).body.approval_id as string;
    const mail = await mailTo(lead.email, /asks to/);
    const approve = linkIn(mail, first, 'Approve');

    const tampered = approve.slice(0, -2) + (approve.endsWith('A') ? 'BB' : 'AA');
    for (const bad of [
      tampered,
      approve.replace(`/approvals/${first}/`, `/approvals/${second}/`),
      approve.replace('/email/approve', '/email/reject'),
      `/v1/approvals/${first}/email/approve`,
      `/v1/approvals/${first}/email/approve?token=${encodeURIComponent('e30.e30')}`,
    ]) {
      const r = await post(bad);
      expect(r.status, bad).toBe(401);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.body.code).toBe('unauthenticated');
      expect((await t.request('GET', bad)).status).toBe(401);
    }
    expect((await approvalOf(a, first)).status).toBe('pending');
    expect((await approvalOf(a, second)).status).toBe('pending');

    const demoted = await t.request('PATCH', `/v1/members/${lead.memberId}`, {
      auth: a.owner,
      body: { role: 'viewer' },
    });
    expect(demoted.status).toBe(200);
    const refused = await post(approve);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
    expect((await approvalOf(a, first)).status).toBe('pending');
  });
});

describe('escalation and expiry', () => {
  it('escalates a still-pending approval to more approvers after the delay', async () => {
    const a = await setup({
      approvers: { roles: ['team_lead'] },
      escalate_after_s: 600,
      escalate_to: { roles: ['admin'] },
    });
    const lead = await t.addMember(a, 'team_lead');
    const admin = await t.addMember(a, 'admin');
    const d = await evaluate(a);
    const id = d.body.approval_id as string;
    await mailTo(lead.email, /asks to/);
    expect(mailsTo(admin.email)).toHaveLength(0);
    expect((await t.request('POST', `/v1/approvals/${id}/approve`, { auth: admin.auth, body: {} })).status).toBe(403);

    offset += 601_000;
    const mail = await mailTo(admin.email, /^Escalated/);
    expect(mailsTo(lead.email).filter((m) => /Escalated/.test(m.subject ?? ''))).toHaveLength(0);
    expect(await approvalOf(a, id)).toMatchObject({ status: 'pending', escalate_to: { roles: ['admin'] } });
    expect((await approvalOf(a, id)).escalated_at).not.toBeNull();
    expect((await auditOf(a, id)).map((e) => e.action)).toContain('approval.escalated');
    // Running the jobs again changes nothing (one escalation per approval).
    await t.hub.ctx.jobs.runDue();
    expect(mailsTo(admin.email).filter((m) => /Escalated/.test(m.subject ?? ''))).toHaveLength(1);

    const ok = await post(linkIn(mail, id, 'Approve'));
    expect(ok.status).toBe(200);
    expect(await approvalOf(a, id)).toMatchObject({ status: 'approved', decided_by: admin.email });
  });

  it('validates escalation settings with their paths', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/policies/validate', {
      auth: a.apiKey,
      body: rule({ approval_timeout_s: 600, escalate_after_s: 600, escalate_to: {} }),
    });
    expect(r.body.valid).toBe(false);
    expect(r.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'rule.escalate_after_s',
      'rule.escalate_to',
    ]);
    const block = await t.request('POST', '/v1/policies/validate', {
      auth: a.apiKey,
      body: { name: 'b', rule: { when: rule().rule.when, then: 'block', escalate_after_s: 60 } },
    });
    expect(block.body.errors[0]).toMatchObject({ path: 'rule.escalate_after_s' });
  });

  it('expires: stored as expired, audited, webhook and signed callback sent, BLOCK, links refused', async () => {
    const a = await setup({ approval_timeout_s: 60 });
    const hook = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: `${sinkUrl}/hook/${a.org.id}`, events: ['approval.decided'] },
    });
    expect(hook.status).toBe(201);
    const d = await evaluate(a, { callback_url: `${sinkUrl}/cb/${a.org.id}` });
    const id = d.body.approval_id as string;
    expect(d.body.callback_secret).toMatch(/^cbsec_/);
    const mail = await mailTo(a.email, /asks to/);

    offset += 61_000;
    for (let i = 0; i < 50 && received.filter((r) => r.url.endsWith(a.org.id)).length < 2; i++) {
      await t.hub.ctx.jobs.runDue();
      await new Promise((r) => setTimeout(r, 50));
    }
    const stored = await t.request('GET', '/v1/approvals?status=expired', { auth: a.apiKey });
    expect(stored.body.data.map((x: { id: string }) => x.id)).toEqual([id]);
    expect((await auditOf(a, id)).map((e) => e.action)).toContain('approval.expired');

    const cb = received.find((r) => r.url === `/cb/${a.org.id}`)!;
    expect(cb).toBeDefined();
    expect(verifySignature(d.body.callback_secret, cb.body, cb.headers['x-hub-signature-256'])).toBe(true);
    expect(JSON.parse(cb.body)).toMatchObject({ event: 'approval.decided', approval: { id, status: 'expired' } });
    const wh = received.find((r) => r.url === `/hook/${a.org.id}`)!;
    expect(JSON.parse(wh.body).data.approval).toMatchObject({ id, status: 'expired' });

    const action = (await approvalOf(a, id)).action;
    expect((await evaluate(a, { action, approval_id: id })).body.decision).toBe('BLOCK');
    const late = await post(linkIn(mail, id, 'Approve'));
    expect(late.status).toBe(401);
    expect(late.body.detail).toMatch(/expired/);
  });

  it('calls back once an approval is decided, signed with the secret from the answer', async () => {
    const a = await setup();
    const d = await evaluate(a, { callback_url: `${sinkUrl}/cb2/${a.org.id}` });
    const id = d.body.approval_id as string;
    expect(
      (await t.request('POST', `/v1/approvals/${id}/reject`, { auth: a.owner, body: { comment: 'no' } })).status,
    ).toBe(200);
    const cb = await callbacksTo(`/cb2/${a.org.id}`);
    expect(cb).toHaveLength(1);
    expect(verifySignature(d.body.callback_secret, cb[0]!.body, cb[0]!.headers['x-hub-signature-256'])).toBe(true);
    expect(JSON.parse(cb[0]!.body).approval).toMatchObject({ id, status: 'rejected', comment: 'no' });
  });

  it('a retry with the same idempotency key that brings a callback_url is called back for the first approval', async () => {
    const a = await setup();
    const action = { type: 'send_email', discount: 42 };
    const first = await evaluate(a, { action, idempotency_key: 'cb-retry-1' });
    expect(first.body).toMatchObject({ decision: 'REQUIRE_APPROVAL' });
    expect(first.body.callback_secret).toBeUndefined();
    const retry = await evaluate(a, {
      action,
      idempotency_key: 'cb-retry-1',
      callback_url: `${sinkUrl}/cb3/${a.org.id}`,
    });
    expect(retry.body).toMatchObject({
      decision_id: first.body.decision_id,
      approval_id: first.body.approval_id,
      replayed: true,
    });
    expect(retry.body.callback_secret).toMatch(/^cbsec_/);
    // The retry was decided again and refused by the key: no second approval, no second decision.
    const pending = await t.request('GET', '/v1/approvals?status=pending', { auth: a.apiKey });
    expect(pending.body.data.map((x: { id: string }) => x.id)).toEqual([first.body.approval_id]);
    const id = first.body.approval_id as string;
    expect((await t.request('POST', `/v1/approvals/${id}/approve`, { auth: a.owner, body: {} })).status).toBe(200);
    const cb = await callbacksTo(`/cb3/${a.org.id}`);
    expect(cb).toHaveLength(1);
    expect(verifySignature(retry.body.callback_secret, cb[0]!.body, cb[0]!.headers['x-hub-signature-256'])).toBe(true);
    expect(JSON.parse(cb[0]!.body).approval).toMatchObject({ id, status: 'approved' });
  });
});
