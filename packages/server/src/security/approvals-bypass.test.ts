/**
 * Finding 2: approver restrictions were bypassed and the audit named the wrong person. Approval emails
 * with each approver's one-click links sat in the org-readable outbox (an admin refused an owner-only
 * approval used the owner's link, recorded as the owner); API keys skipped the approver check, and an
 * agent's admin key approved its own request. Here, on a real hub with a real SMTP receiver: the
 * outbox copy has no token, a link refuses a different signed-in person, keys never decide restricted
 * approvals nor their own requests, and the approval and its audit entry name the real actor.
 */
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCapture } from '../testing/smtp-capture.ts';
import { type Auth, createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await createTestHub({ SMTP_URL: smtp.url });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

async function orgWithPolicy(approvers?: object) {
  const a = await t.seedOrg();
  await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Outreach', environment: 'prod' } });
  const p = await t.request('POST', '/v1/policies', {
    auth: a.apiKey,
    body: {
      name: 'Discounts need a human',
      status: 'active',
      rule: {
        when: { field: 'action.discount', op: 'gt', value: 10 },
        then: 'require_approval',
        ...(approvers ? { approvers } : {}),
      },
    },
  });
  expect(p.status).toBe(201);
  return a;
}

async function request(a: SeededOrg, auth: string = a.apiKey): Promise<string> {
  const d = await t.request('POST', '/v1/policy/evaluate', {
    auth,
    body: { agent: 'Outreach', action: { type: 'send_email', discount: 20 + Math.random() } },
  });
  expect(d.body.decision).toBe('REQUIRE_APPROVAL');
  return d.body.approval_id;
}

/** Runs due jobs until the approval mail to `address` has arrived through SMTP. */
async function mailTo(address: string, approvalId: string): Promise<ParsedMail> {
  const end = Date.now() + 8000;
  for (;;) {
    await t.hub.ctx.jobs.runDue();
    const m = smtp.messages.find(
      (x) => JSON.stringify(x.to).includes(address) && x.text?.includes(`/v1/approvals/${approvalId}/`),
    );
    if (m) return m;
    if (Date.now() > end) throw new Error(`no approval mail to ${address}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function approveLink(mail: ParsedMail) {
  const m = /Approve: (\S+)/.exec(mail.text ?? '');
  if (!m) throw new Error('no approve link');
  const u = new URL(m[1]!);
  expect(u.searchParams.get('token')).toBeTruthy();
  return u.pathname + u.search;
}

const approval = async (a: SeededOrg, id: string) =>
  (await t.request('GET', `/v1/approvals/${id}`, { auth: a.apiKey })).body;
const audit = async (a: SeededOrg, id: string) =>
  (await t.request('GET', `/v1/audit?entity_type=approval&entity_id=${id}`, { auth: a.apiKey })).body.data as {
    action: string;
    actor: { type: string; id: string | null; name: string | null };
  }[];
const decide = (auth: Auth, id: string) =>
  t.request('POST', `/v1/approvals/${id}/approve`, { auth, body: { comment: 'ok' } });
/** Clicking the link's form button: a form POST, with the clicker's cookie when given. */
const clickLink = (path: string, cookie?: string) =>
  t.request('POST', path, {
    raw: '',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
      ...(cookie ? { cookie } : {}),
    },
  });

describe('approval links stay with their addressee', () => {
  it('the outbox lists approval mail without any usable link; the sent mail has it', async () => {
    const a = await orgWithPolicy();
    const admin = await t.addMember(a, 'admin');
    const id = await request(a);
    const sent = await mailTo(a.email, id);
    const token = new URL(/Approve: (\S+)/.exec(sent.text ?? '')![1]!).searchParams.get('token')!;

    const outbox = await t.request('GET', '/v1/email-outbox?limit=200', { auth: admin.auth });
    expect(outbox.status).toBe(200);
    const copies = (outbox.body.data as { to: string; subject: string; text: string; html: string | null }[]).filter(
      (m) => m.subject.includes('asks to send_email'),
    );
    expect(copies.map((m) => m.to).sort()).toEqual([a.email, admin.email].sort());
    for (const m of copies) {
      expect(m.text).toContain('[link sent to the approver]');
      expect(m.text).not.toContain('token=');
      expect(m.html ?? '').not.toContain('token=');
      expect(m.text).not.toContain(token);
    }
    // Nor anywhere else in the database once delivered (the email job's payload is emptied).
    await t.hub.ctx.jobs.drain();
    const jobs = await t.hub.ctx.db.db.selectFrom('jobs').select('payload').where('queue', '=', 'email.send').execute();
    expect(jobs.some((j) => j.payload.includes(token))).toBe(false);
  });

  it('an admin using the owner’s real link while signed in as themself is refused; the owner’s click records the owner', async () => {
    const a = await orgWithPolicy({ roles: ['owner'] });
    const admin = await t.addMember(a, 'admin');
    const id = await request(a);
    const link = approveLink(await mailTo(a.email, id));

    const stolen = await clickLink(link, admin.cookie);
    expect(stolen.status).toBe(403);
    expect(stolen.headers['content-type']).toContain('application/problem+json');
    expect(stolen.body.code).toBe('forbidden');
    expect(stolen.body.detail).toMatch(/another person/);
    // Nor with an API key in hand.
    const withKey = await t.request('POST', link, { raw: '', headers: { authorization: `Bearer ${a.apiKey}` } });
    expect(withKey.status).toBe(403);
    expect((await approval(a, id)).status).toBe('pending');
    // And the admin cannot decide it as themself either: the policy names owners.
    expect((await decide(admin.auth, id)).status).toBe(403);

    expect((await clickLink(link, a.cookie)).status).toBe(200);
    const done = await approval(a, id);
    expect(done).toMatchObject({
      status: 'approved',
      decided_by: a.email,
      decided_by_actor: { type: 'user', id: a.userId },
    });
    expect((await audit(a, id))[0]).toMatchObject({
      action: 'approval.approved',
      actor: { type: 'user', id: a.userId },
    });
  });
});

describe('API keys and approvals', () => {
  it('an admin key cannot decide a restricted approval (403); the person it names can', async () => {
    const a = await orgWithPolicy({ roles: ['owner', 'admin'] });
    const adminKey = await t.request('POST', '/v1/api-keys', {
      auth: a.owner,
      body: { name: 'ops', scopes: ['admin'] },
    });
    const id = await request(a);
    for (const key of [adminKey.body.key as string, a.apiKey]) {
      const r = await decide(key, id);
      expect(r.status).toBe(403);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.body.code).toBe('forbidden');
      expect(r.body.detail).toMatch(/API key cannot decide/);
    }
    expect((await approval(a, id)).status).toBe('pending');
    expect((await decide(a.owner, id)).status).toBe(200);
    expect((await approval(a, id)).decided_by_actor).toMatchObject({ type: 'user', id: a.userId });
  });

  it('the key that requested an approval cannot decide it; another admin key can, and is named', async () => {
    const a = await orgWithPolicy();
    const agentKey = await t.request('POST', '/v1/api-keys', {
      auth: a.owner,
      body: { name: 'agent-with-admin', scopes: ['ingest', 'admin'] },
    });
    const opsKey = await t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: 'ops', scopes: ['admin'] } });
    const id = await request(a, agentKey.body.key);

    const own = await decide(agentKey.body.key, id);
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('forbidden');
    expect(own.body.detail).toMatch(/requested this approval/);
    expect((await approval(a, id)).status).toBe('pending');

    expect((await decide(opsKey.body.key, id)).status).toBe(200);
    expect(await approval(a, id)).toMatchObject({
      status: 'approved',
      decided_by: 'ops',
      decided_by_actor: { type: 'api_key', id: opsKey.body.id, name: 'ops' },
    });
    expect((await audit(a, id))[0]).toMatchObject({
      action: 'approval.approved',
      actor: { type: 'api_key', id: opsKey.body.id },
    });
  });

  it("an org's `full` key, the owner's own, may decide an unrestricted approval it asked for", async () => {
    // The documented exception (docs/security.md): `full` keys are the owner's, never an agent's.
    const a = await orgWithPolicy();
    const id = await request(a, a.apiKey);
    const own = await decide(a.apiKey, id);
    expect(own.status).toBe(200);
    expect((await approval(a, id)).decided_by_actor).toMatchObject({ type: 'api_key', name: 'test' });
  });
});
