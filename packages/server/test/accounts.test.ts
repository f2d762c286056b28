/**
 * Accounts end to end through Better Auth's real routes, with mail delivered over real SMTP to a local
 * smtp-server: sign-up, email verification, password reset, TOTP 2FA with backup codes, email codes as
 * the second factor, JWTs for API clients, and invitations.
 */
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCapture } from '../src/testing/smtp-capture.ts';
import { createTestHub, type TestHub, uniqueEmail } from '../src/testing/test-hub.ts';

let t: TestHub;
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
beforeAll(async () => {
  smtp = await startSmtpCapture();
  t = await createTestHub({ SMTP_URL: smtp.url, SMTP_FROM: 'Hub <hub@example.test>' });
  await t.hub.startWorkers();
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

const linkIn = (text: string | undefined) => text?.match(/https?:\/\/\S+/)?.[0] ?? '';
const AUTH_ORIGIN = { origin: 'http://hub.test' };

describe('sign-up and verification', () => {
  it('signs the user in at once and emails a verification link that verifies', async () => {
    const email = uniqueEmail('new');
    const user = await t.signUp(email);
    expect(user.cookie).toContain('session_token');
    const me = await t.request('GET', '/v1/me', { auth: { cookie: user.cookie } });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email, email_verified: false });
    expect(me.body.org).toBeNull();
    expect(me.body.permissions).toEqual([]);

    const mail = await smtp.waitFor(email, /Verify your email/);
    const link = new URL(linkIn(mail.text));
    const verify = await t.request('GET', link.pathname + link.search);
    expect([200, 302]).toContain(verify.status);
    const after = await t.request('GET', '/v1/me', { auth: { cookie: user.cookie } });
    expect(after.body.user.email_verified).toBe(true);
  });

  it('rejects a short password with a problem+json naming the reason', async () => {
    const r = await t.request('POST', '/api/auth/sign-up/email', {
      body: { email: uniqueEmail(), password: 'short', name: 'x' },
      headers: AUTH_ORIGIN,
    });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.body.code).toBe('validation_failed');
  });
});

describe('password reset by email', () => {
  it('resets through the emailed link; the old password stops working', async () => {
    const user = await t.signUp(uniqueEmail('reset'), 'the-first-password-1');
    const req = await t.request('POST', '/api/auth/request-password-reset', {
      body: { email: user.email, redirectTo: '/reset' },
      headers: AUTH_ORIGIN,
    });
    expect(req.status).toBe(200);
    const mail = await smtp.waitFor(user.email, /Reset your/);
    const token = new URL(linkIn(mail.text)).pathname.split('/').pop()!;
    const reset = await t.request('POST', '/api/auth/reset-password', {
      body: { token, newPassword: 'the-second-password-2' },
      headers: AUTH_ORIGIN,
    });
    expect(reset.status).toBe(200);
    expect((await t.signIn(user.email, 'the-first-password-1')).res.status).toBe(401);
    expect((await t.signIn(user.email, 'the-second-password-2')).res.status).toBe(200);
    // Reset revokes the sessions opened with the old password.
    expect((await t.request('GET', '/v1/me', { auth: { cookie: user.cookie } })).status).toBe(401);
  });
});

describe('two-factor authentication', () => {
  async function enrol() {
    const user = await t.signUp(uniqueEmail('2fa'), 'two-factor-password-1');
    const enable = await t.request('POST', '/api/auth/two-factor/enable', {
      auth: { cookie: user.cookie },
      body: { password: 'two-factor-password-1' },
    });
    expect(enable.status).toBe(200);
    const secret = new URL(enable.body.totpURI).searchParams.get('secret')!;
    expect(enable.body.backupCodes.length).toBeGreaterThanOrEqual(8);
    // Enrolment completes when the user proves the app works.
    const confirm = await t.request('POST', '/api/auth/two-factor/verify-totp', {
      auth: { cookie: user.cookie },
      body: { code: await generate({ secret }) },
    });
    expect(confirm.status).toBe(200);
    const me = await t.request('GET', '/v1/me', { auth: { cookie: t.cookieOf(confirm) || user.cookie } });
    expect(me.body.user.two_factor_enabled).toBe(true);
    return { ...user, secret, backupCodes: enable.body.backupCodes as string[] };
  }

  it('challenges sign-in and accepts a TOTP code from an authenticator app', async () => {
    const u = await enrol();
    const first = await t.signIn(u.email, 'two-factor-password-1');
    expect(first.res.status).toBe(200);
    expect(first.res.body.twoFactorRedirect).toBe(true);
    // The half-signed-in cookie is not a session.
    expect((await t.request('GET', '/v1/me', { auth: { cookie: first.cookie } })).status).toBe(401);
    const wrong = await t.request('POST', '/api/auth/two-factor/verify-totp', {
      auth: { cookie: first.cookie },
      body: { code: '000000' },
    });
    expect(wrong.status).toBe(401);
    const ok = await t.request('POST', '/api/auth/two-factor/verify-totp', {
      auth: { cookie: first.cookie },
      body: { code: await generate({ secret: u.secret }) },
    });
    expect(ok.status).toBe(200);
    const me = await t.request('GET', '/v1/me', { auth: { cookie: t.cookieOf(ok) } });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(u.email);
  });

  it('accepts a backup code once', async () => {
    const u = await enrol();
    const code = u.backupCodes[0]!;
    const first = await t.signIn(u.email, 'two-factor-password-1');
    const ok = await t.request('POST', '/api/auth/two-factor/verify-backup-code', {
      auth: { cookie: first.cookie },
      body: { code },
    });
    expect(ok.status).toBe(200);
    const again = await t.signIn(u.email, 'two-factor-password-1');
    const reused = await t.request('POST', '/api/auth/two-factor/verify-backup-code', {
      auth: { cookie: again.cookie },
      body: { code },
    });
    expect(reused.status).toBe(401);
  });

  it('offers a one-time code by email as the second factor', async () => {
    const u = await enrol();
    const first = await t.signIn(u.email, 'two-factor-password-1');
    const send = await t.request('POST', '/api/auth/two-factor/send-otp', { auth: { cookie: first.cookie }, body: {} });
    expect(send.status).toBe(200);
    const mail = await smtp.waitFor(u.email, /sign-in code/);
    const otp = mail.subject!.match(/(\d{6})/)![1]!;
    const ok = await t.request('POST', '/api/auth/two-factor/verify-otp', {
      auth: { cookie: first.cookie },
      body: { code: otp },
    });
    expect(ok.status).toBe(200);
    expect((await t.request('GET', '/v1/me', { auth: { cookie: t.cookieOf(ok) } })).status).toBe(200);
  });

  it('stores the TOTP secret encrypted', async () => {
    const u = await enrol();
    const rows = await t.hub.ctx.db.db
      .selectFrom('auth_two_factor' as any)
      .selectAll()
      .execute();
    expect(JSON.stringify(rows)).not.toContain(u.secret);
  });
});

describe('JWT for API clients', () => {
  it('issues a JWT that authenticates /v1 calls as the user', async () => {
    const a = await t.seedOrg();
    const tok = await t.request('GET', '/api/auth/token', { auth: { cookie: a.cookie } });
    expect(tok.status).toBe(200);
    const jwt = tok.body.token as string;
    expect(jwt.split('.')).toHaveLength(3);
    const me = await t.request('GET', '/v1/me', { headers: { authorization: `Bearer ${jwt}`, 'x-org-id': a.org.id } });
    expect(me.status).toBe(200);
    expect(me.body.org.id).toBe(a.org.id);
    expect(me.body.org.role).toBe('owner');
    const bad = await t.request('GET', '/v1/me', { headers: { authorization: `Bearer ${jwt.slice(0, -4)}abcd` } });
    expect(bad.status).toBe(401);
  });
});

describe('organizations and invitations', () => {
  it('lets a user belong to several orgs and pick one with X-Org-Id', async () => {
    const a = await t.seedOrg('First');
    const second = await t.request('POST', '/v1/orgs', {
      auth: { cookie: a.cookie },
      body: { name: 'Second', timezone: 'Europe/Paris' },
    });
    expect(second.status).toBe(201);
    expect(second.body.timezone).toBe('Europe/Paris');
    const me1 = await t.request('GET', '/v1/me', { auth: { cookie: a.cookie, org: a.org.id } });
    expect(me1.body.org.name).toBe('First');
    expect(me1.body.orgs.map((o: { name: string }) => o.name).sort()).toEqual(['First', 'Second']);
    const me2 = await t.request('GET', '/v1/me', { auth: { cookie: a.cookie } });
    expect(me2.body.org.name).toBe('Second'); // the newest becomes active
    const bad = await t.request('POST', '/v1/orgs', {
      auth: { cookie: a.cookie },
      body: { name: '', timezone: 'Mars/Olympus' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'timezone']);
  });

  it('invites by email with a role; the invitee accepts and gets exactly that role', async () => {
    const a = await t.seedOrg('Inviting');
    const invitee = await t.signUp(uniqueEmail('invitee'));
    const inv = await t.request('POST', '/v1/invitations', {
      auth: a.owner,
      body: { email: invitee.email, role: 'viewer' },
    });
    expect(inv.status).toBe(201);
    const mail = await smtp.waitFor(invitee.email, /invited you to Inviting/);
    const token = new URL(linkIn(mail.text)).searchParams.get('token')!;
    // Someone else cannot use the link.
    const stranger = await t.signUp(uniqueEmail('stranger'));
    expect(
      (await t.request('POST', '/v1/invitations/accept', { auth: { cookie: stranger.cookie }, body: { token } }))
        .status,
    ).toBe(403);
    const acc = await t.request('POST', '/v1/invitations/accept', {
      auth: { cookie: invitee.cookie },
      body: { token },
    });
    expect(acc.status).toBe(200);
    const me = await t.request('GET', '/v1/me', { auth: { cookie: invitee.cookie, org: a.org.id } });
    expect(me.body.org.role).toBe('viewer');
    expect(me.body.permissions).not.toContain('agents:create');
    expect(
      (await t.request('POST', '/v1/invitations/accept', { auth: { cookie: invitee.cookie }, body: { token } })).status,
    ).toBe(409);
    const members = await t.request('GET', '/v1/members', { auth: a.apiKey });
    expect(members.body.data.map((m: { email: string; role: string }) => [m.email, m.role])).toContainEqual([
      invitee.email,
      'viewer',
    ]);
  });

  it('declines and revokes invitations', async () => {
    const a = await t.seedOrg();
    const u1 = await t.signUp();
    const inv1 = await t.request('POST', '/v1/invitations', {
      auth: a.apiKey,
      body: { email: u1.email, role: 'member' },
    });
    const tok1 = new URL(inv1.body.accept_url).searchParams.get('token')!;
    expect(
      (await t.request('POST', '/v1/invitations/decline', { auth: { cookie: u1.cookie }, body: { token: tok1 } }))
        .status,
    ).toBe(200);
    expect(
      (await t.request('POST', '/v1/invitations/accept', { auth: { cookie: u1.cookie }, body: { token: tok1 } }))
        .status,
    ).toBe(409);

    const u2 = await t.signUp();
    const inv2 = await t.request('POST', '/v1/invitations', {
      auth: a.apiKey,
      body: { email: u2.email, role: 'member' },
    });
    expect((await t.request('DELETE', `/v1/invitations/${inv2.body.id}`, { auth: a.apiKey })).status).toBe(204);
    const tok2 = new URL(inv2.body.accept_url).searchParams.get('token')!;
    expect(
      (await t.request('POST', '/v1/invitations/accept', { auth: { cookie: u2.cookie }, body: { token: tok2 } }))
        .status,
    ).toBe(409);
    const list = await t.request('GET', '/v1/invitations', { auth: a.apiKey });
    expect(list.body.data.map((i: { status: string }) => i.status).sort()).toEqual(['declined', 'revoked']);
    expect(list.text).not.toContain(tok2);
  });

  it('keeps the last owner', async () => {
    const a = await t.seedOrg();
    const members = await t.request('GET', '/v1/members', { auth: a.apiKey });
    const owner = members.body.data[0];
    const demote = await t.request('PATCH', `/v1/members/${owner.id}`, { auth: a.owner, body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    const admin = await t.addMember(a, 'admin');
    const promote = await t.request('PATCH', `/v1/members/${admin.memberId}`, {
      auth: admin.auth,
      body: { role: 'owner' },
    });
    expect(promote.status).toBe(403); // only owners make owners
  });
});
