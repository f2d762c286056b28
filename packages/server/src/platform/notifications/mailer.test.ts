/**
 * Email and notifications on a real hub and database. Mail goes through real SMTP to an `smtp-server`
 * receiver (parsed with mailparser); without SMTP it is kept in the outbox. Notification tests live here
 * too because notify() is the mailer's main caller and shares its hubs.
 */
import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCapture } from '../../testing/smtp-capture.ts';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';
import { trustedOrgId } from '../caller.ts';
import { createJobRunner } from '../jobs/job-runner.ts';
import { createMailer } from './mailer.ts';

let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
let withSmtp: TestHub;
let plain: TestHub;
let offset = 0;
const clock = () => Date.now() + offset;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  withSmtp = await createTestHub({ SMTP_URL: smtp.url, SMTP_FROM: 'AgentOps Hub <hub@acme.test>' });
  // Its webhooks point at loopback (port 9, nobody listens): the egress guard must allow them.
  plain = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' }, { clock });
});
afterAll(async () => {
  await withSmtp?.close();
  await plain?.close();
  await smtp?.close();
});

const outboxRow = (t: TestHub, to: string) =>
  t.hub.ctx.db.db.selectFrom('email_outbox').selectAll().where('to_addr', '=', to).executeTakeFirstOrThrow();

/** A port with nothing listening (taken, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('mailer', () => {
  it('delivers through SMTP with html and an attachment, and marks the outbox row sent', async () => {
    const a = await withSmtp.seedOrg();
    const pdf = Buffer.from('%PDF-1.4\n% a tiny test file\n');
    await withSmtp.hub.ctx.mailer.send({
      to: 'founder@acme.test',
      subject: 'Weekly summary',
      text: 'ReportBot ran 5 times.',
      html: '<p>ReportBot ran <b>5</b> times.</p>',
      orgId: a.org.id,
      attachments: [{ filename: 'summary.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    expect((await outboxRow(withSmtp, 'founder@acme.test')).status).toBe('queued');
    await withSmtp.hub.ctx.jobs.drain();

    const mail = await smtp.waitFor('founder@acme.test', /Weekly summary/);
    expect(mail.from?.text).toContain('hub@acme.test');
    expect(mail.text?.trim()).toBe('ReportBot ran 5 times.');
    expect(mail.html).toContain('<b>5</b>');
    const att = mail.attachments.find((x) => x.filename === 'summary.pdf');
    expect(att?.contentType).toBe('application/pdf');
    expect(att?.content.equals(pdf)).toBe(true);

    const row = await outboxRow(withSmtp, 'founder@acme.test');
    expect(row).toMatchObject({ status: 'sent', attempts: 1, last_error: null, org_id: a.org.id });
    expect(row.sent_at).not.toBeNull();
  });

  it('sends account emails of no org (sign-up verification) through SMTP too', async () => {
    const u = await withSmtp.signUp();
    await withSmtp.hub.ctx.jobs.drain();
    const mail = await smtp.waitFor(u.email, /Verify your email/);
    expect(mail.text).toContain('http://hub.test/api/auth/verify-email');
  });

  it('without SMTP keeps mail in the outbox, listed for its org only', async () => {
    const a = await plain.seedOrg();
    const b = await plain.seedOrg();
    await plain.hub.ctx.mailer.send({
      to: 'ana@acme.test',
      subject: 'Invitation to Acme',
      text: 'Join us: http://x',
      orgId: a.org.id,
    });
    await plain.hub.ctx.mailer.send({ to: 'ana@acme.test', subject: 'Second', text: 'later', orgId: a.org.id });
    await plain.hub.ctx.jobs.drain();

    const list = await plain.request('GET', '/v1/email-outbox', { auth: a.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.data.map((m: { subject: string }) => m.subject)).toEqual(['Second', 'Invitation to Acme']);
    expect(list.body.data[1]).toMatchObject({
      to: 'ana@acme.test',
      status: 'kept',
      text: 'Join us: http://x',
      sent_at: null,
    });
    // The sign-up verification mails belong to no org: no org's outbox shows them.
    expect(list.text).not.toContain('Verify your email');

    const page = await plain.request('GET', '/v1/email-outbox?limit=1', { auth: a.apiKey });
    expect(page.body.data).toHaveLength(1);
    expect(page.body.next_cursor).toBe(page.body.data[0].id);

    expect((await plain.request('GET', '/v1/email-outbox', { auth: b.apiKey })).body.data).toEqual([]);
    const readKey = await plain.request('POST', '/v1/api-keys', {
      auth: a.apiKey,
      body: { name: 'r', scopes: ['read'] },
    });
    expect((await plain.request('GET', '/v1/email-outbox', { auth: readKey.body.key })).status).toBe(403);
  });

  it('records SMTP failures, retries them, and marks the mail failed after the last attempt', async () => {
    // Its own runner and mailer on the plain hub's database, pointed at a port where nothing listens.
    const db = plain.hub.ctx.db;
    await plain.hub.ctx.jobs.drain();
    const jobs = createJobRunner({ db, log: pino({ level: 'silent' }), clock });
    const mailer = createMailer({
      db,
      config: { smtp: { url: `smtp://127.0.0.1:${await closedPort()}`, from: 'hub@acme.test' } },
      jobs,
      log: pino({ level: 'silent' }),
      clock,
    });
    await mailer.send({ to: 'nobody@acme.test', subject: 'Unlucky', text: 'x' });
    await jobs.runDue();
    let row = await outboxRow(plain, 'nobody@acme.test');
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row.last_error).toMatch(/ECONNREFUSED|connect/i);
    for (let i = 0; i < 6; i++) {
      offset += 2 * 3600_000;
      await jobs.runDue();
    }
    row = await outboxRow(plain, 'nobody@acme.test');
    expect(row).toMatchObject({ status: 'failed', attempts: 5 });
    await jobs.stop();
  });
});

describe('notifications', () => {
  const notifications = () => plain.hub.ctx.notifications;

  it('tells owners in-app and by email, follows topic defaults, and emits the webhook event', async () => {
    const a = await plain.seedOrg();
    const org = trustedOrgId(a.org.id);
    const hook = await plain.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: 'http://127.0.0.1:9/never', events: ['budget.threshold'] },
    });
    const res = await notifications().notify(org, {
      topic: 'budget_thresholds',
      type: 'budget.threshold',
      title: 'CostBot reached 80% of its daily budget ($0.80 of $1.00)',
      body: 'Spent $0.80 of $1.00 today.',
      entityType: 'budget',
      entityId: 'bud_1',
      webhookEvent: 'budget.threshold',
      data: { threshold: 80 },
    });
    expect(res.notificationIds).toHaveLength(1);
    expect(res.emailed).toBe(1);
    expect(res.deliveryIds).toHaveLength(1);
    const delivery = await plain.hub.ctx.db.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', res.deliveryIds[0]!)
      .executeTakeFirstOrThrow();
    expect(delivery.webhook_id).toBe(hook.body.id);
    expect(JSON.parse(delivery.payload).data).toMatchObject({
      title: expect.stringContaining('80%'),
      threshold: 80,
      entity_id: 'bud_1',
    });

    const outbox = await plain.request('GET', '/v1/email-outbox', { auth: a.apiKey });
    expect(outbox.body.data[0]).toMatchObject({
      to: a.email,
      subject: 'CostBot reached 80% of its daily budget ($0.80 of $1.00)',
    });

    // Policy violations: in-app by default, no email.
    const pv = await notifications().notify(org, {
      topic: 'policy_violations',
      type: 'policy.violation',
      title: 'Blocked',
      body: 'b',
    });
    expect(pv).toMatchObject({ emailed: 0, deliveryIds: [] });
    expect(pv.notificationIds).toHaveLength(1);

    const list = await plain.request('GET', '/v1/notifications', { auth: a.owner });
    expect(list.status).toBe(200);
    expect(list.body.data.map((n: { title: string }) => n.title)).toEqual([
      'Blocked',
      'CostBot reached 80% of its daily budget ($0.80 of $1.00)',
    ]);
    expect(list.body.data[1]).toEqual({
      id: res.notificationIds[0],
      type: 'budget.threshold',
      title: 'CostBot reached 80% of its daily budget ($0.80 of $1.00)',
      body: 'Spent $0.80 of $1.00 today.',
      entity_type: 'budget',
      entity_id: 'bud_1',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      read_at: null,
    });
  });

  it('marks one or all read, filters unread, and keeps other orgs out', async () => {
    const a = await plain.seedOrg();
    const b = await plain.seedOrg();
    const org = trustedOrgId(a.org.id);
    const ids: string[] = [];
    for (const title of ['one', 'two', 'three']) {
      ids.push(
        ...(await notifications().notify(org, { topic: 'ingestion_errors', type: 'ingestion.error', title, body: '' }))
          .notificationIds,
      );
      offset += 2;
    }
    const read = await plain.request('POST', `/v1/notifications/${ids[0]}/read`, { auth: a.owner });
    expect(read.status).toBe(200);
    expect(read.body.read_at).not.toBeNull();
    const unread = await plain.request('GET', '/v1/notifications?unread=true', { auth: a.owner });
    expect(unread.body.data.map((n: { title: string }) => n.title)).toEqual(['three', 'two']);

    const page = await plain.request('GET', '/v1/notifications?limit=2', { auth: a.owner });
    expect(page.body.next_cursor).toBe(ids[1]);
    const rest = await plain.request('GET', `/v1/notifications?limit=2&cursor=${page.body.next_cursor}`, {
      auth: a.owner,
    });
    expect(rest.body.data.map((n: { id: string }) => n.id)).toEqual([ids[0]]);

    expect((await plain.request('POST', `/v1/notifications/${ids[1]}/read`, { auth: b.owner })).status).toBe(404);
    expect((await plain.request('GET', '/v1/notifications', { auth: b.owner })).body.data).toEqual([]);

    const all = await plain.request('POST', '/v1/notifications/read-all', { auth: a.owner });
    expect(all.body).toEqual({ updated: 2 });
    expect((await plain.request('GET', '/v1/notifications?unread=true', { auth: a.owner })).body.data).toEqual([]);
  });

  it('gives an API key the org-wide feed (one entry per event) and refuses it personal actions', async () => {
    const a = await plain.seedOrg();
    await plain.addMember(a, 'admin');
    const viewer = await plain.addMember(a, 'viewer');
    const r = await notifications().notify(trustedOrgId(a.org.id), {
      topic: 'budget_thresholds',
      type: 'budget.threshold',
      title: 'Sales team reached 50% of its budget',
      body: '',
    });
    expect(r.notificationIds).toHaveLength(2); // owner and admin, not the viewer
    expect((await plain.request('GET', '/v1/notifications', { auth: viewer.auth })).body.data).toEqual([]);

    const feed = await plain.request('GET', '/v1/notifications', { auth: a.apiKey });
    expect(feed.status).toBe(200);
    expect(feed.body.data).toHaveLength(1);
    expect(feed.body.data[0]).toMatchObject({ title: 'Sales team reached 50% of its budget', read_at: null });

    const ownerNote = (await plain.request('GET', '/v1/notifications', { auth: a.owner })).body.data[0];
    expect((await plain.request('POST', `/v1/notifications/${ownerNote.id}/read`, { auth: a.owner })).status).toBe(200);
    expect((await plain.request('GET', '/v1/notifications?unread=true', { auth: a.apiKey })).body.data).toEqual([]);

    for (const [method, url] of [
      ['POST', '/v1/notifications/read-all'],
      ['GET', '/v1/notification-preferences'],
    ] as const) {
      const res = await plain.request(method, url, { auth: a.apiKey });
      expect(res.status, url).toBe(403);
      expect(res.body.detail).toMatch(/person/);
    }
  });

  it('tells team leads about approvals only, and only members named in userIds', async () => {
    const a = await plain.seedOrg();
    const lead = await plain.addMember(a, 'team_lead');
    const org = trustedOrgId(a.org.id);
    const approval = await notifications().notify(org, {
      topic: 'approvals',
      type: 'approval.requested',
      title: 'PayBot asks',
      body: '',
    });
    expect(approval.notificationIds).toHaveLength(2);
    const budget = await notifications().notify(org, {
      topic: 'budget_thresholds',
      type: 'budget.threshold',
      title: 'Budget',
      body: '',
    });
    expect(budget.notificationIds).toHaveLength(1);

    const other = await plain.seedOrg();
    const named = await notifications().notify(org, {
      topic: 'approvals',
      type: 'approval.decided',
      title: 'Decided',
      body: '',
      userIds: [lead.userId, other.userId],
    });
    expect(named.notificationIds).toHaveLength(1); // the other org's user is not a member: dropped
    const leadList = await plain.request('GET', '/v1/notifications', { auth: lead.auth });
    expect(leadList.body.data.map((n: { title: string }) => n.title)).toEqual(['Decided', 'PayBot asks']);
  });

  it('follows preferences: user switches over the org default over the built-in default', async () => {
    const a = await plain.seedOrg();
    const org = trustedOrgId(a.org.id);
    const initial = await plain.request('GET', '/v1/notification-preferences', { auth: a.owner });
    expect(initial.body).toEqual({
      in_app: {
        budget_thresholds: true,
        policy_violations: true,
        ingestion_errors: true,
        approvals: true,
        alerts: true,
      },
      email: {
        budget_thresholds: true,
        policy_violations: false,
        ingestion_errors: false,
        approvals: true,
        alerts: true,
      },
    });

    const put = await plain.request('PUT', '/v1/notification-preferences', {
      auth: a.owner,
      body: { email: { budget_thresholds: false, policy_violations: true } },
    });
    expect(put.status).toBe(200);
    expect(put.body.email).toEqual({
      budget_thresholds: false,
      policy_violations: true,
      ingestion_errors: false,
      approvals: true,
      alerts: true,
    });
    // A second change keeps the first.
    await plain.request('PUT', '/v1/notification-preferences', {
      auth: a.owner,
      body: { in_app: { approvals: false } },
    });
    const now = await plain.request('GET', '/v1/notification-preferences', { auth: a.owner });
    expect(now.body.email.budget_thresholds).toBe(false);
    expect(now.body.in_app.approvals).toBe(false);

    expect(
      (await notifications().notify(org, { topic: 'budget_thresholds', type: 'b', title: 'B', body: '' })).emailed,
    ).toBe(0);
    expect(
      (await notifications().notify(org, { topic: 'policy_violations', type: 'p', title: 'P', body: '' })).emailed,
    ).toBe(1);
    expect(
      (await notifications().notify(org, { topic: 'approvals', type: 'a', title: 'A', body: '' })).notificationIds,
    ).toEqual([]);

    // The org default turns ingestion errors off in-app for everyone who has not chosen otherwise.
    await notifications().setPreferences(org, '', { in_app: { ingestion_errors: false } });
    expect(
      (await notifications().notify(org, { topic: 'ingestion_errors', type: 'i', title: 'I', body: '' }))
        .notificationIds,
    ).toEqual([]);
    await plain.request('PUT', '/v1/notification-preferences', {
      auth: a.owner,
      body: { in_app: { ingestion_errors: true } },
    });
    expect(
      (await notifications().notify(org, { topic: 'ingestion_errors', type: 'i', title: 'I', body: '' }))
        .notificationIds,
    ).toHaveLength(1);

    const bad = await plain.request('PUT', '/v1/notification-preferences', {
      auth: a.owner,
      body: { email: { weather: true } },
    });
    expect(bad.status).toBe(400);
  });

  it('writes nothing when the caller transaction rolls back', async () => {
    const a = await plain.seedOrg();
    const org = trustedOrgId(a.org.id);
    await expect(
      plain.hub.ctx.db.db.transaction().execute(async (trx) => {
        await notifications().notify(
          org,
          { topic: 'approvals', type: 'a', title: 'Rolled back', body: '' },
          { exec: trx },
        );
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect((await plain.request('GET', '/v1/notifications', { auth: a.owner })).body.data).toEqual([]);
    const mails = await plain.request('GET', '/v1/email-outbox', { auth: a.apiKey });
    expect(mails.body.data).toEqual([]);
  });
});
