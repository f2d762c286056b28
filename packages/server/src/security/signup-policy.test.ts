/**
 * Finding 10 of the security review: sign-up was open to anyone who could reach the hub, and every new
 * account could create orgs of its own, which turned every other finding into an attack from the
 * internet. Now HUB_SIGNUP decides (default `invite` once the first owner exists), and HUB_ORGS_PER_USER
 * caps the orgs one account creates.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub, uniqueEmail } from '../testing/test-hub.ts';

const ORIGIN = { origin: 'http://hub.test' };
let hubs: TestHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  hubs = [];
});
async function hub(env: Record<string, string>) {
  const t = await createTestHub(env);
  hubs.push(t);
  return t;
}
const signUp = (t: TestHub, email: string) =>
  t.request('POST', '/api/auth/sign-up/email', {
    body: { email, password: 'a-long-test-password-1', name: 'x' },
    headers: ORIGIN,
  });

describe('HUB_SIGNUP=invite (the default)', () => {
  it('lets the first account in, then only invited addresses', async () => {
    // The test harness opens sign-up; the hub's own default is what this test runs on.
    const t = await hub({ HUB_SIGNUP: '' });
    expect(t.config.signup).toEqual({ mode: 'invite' });
    expect((await t.request('GET', '/v1/setup/status')).body).toMatchObject({ needs_owner: true, signup: 'invite' });

    const owner = await t.seedOrg();
    const stranger = await signUp(t, uniqueEmail('stranger'));
    expect(stranger.status).toBe(403);
    expect(stranger.headers['content-type']).toMatch(/problem\+json/);
    expect(stranger.body.detail).toMatch(/invitation/);
    expect((await t.request('GET', '/v1/setup/status')).body).toMatchObject({ needs_owner: false, signup: 'invite' });

    // An invitation opens the door for exactly that address, and the invitee joins with that role.
    const invitee = uniqueEmail('invitee');
    const inv = await t.request('POST', '/v1/invitations', {
      auth: owner.owner,
      body: { email: invitee, role: 'member' },
    });
    expect(inv.status).toBe(201);
    const joined = await signUp(t, invitee.toUpperCase());
    expect(joined.status).toBe(200);
    const token = new URL(inv.body.accept_url).searchParams.get('token')!;
    const acc = await t.request('POST', '/v1/invitations/accept', {
      auth: { cookie: t.cookieOf(joined) },
      body: { token },
    });
    expect(acc.status).toBe(200);
    // Once used, the invitation opens nothing more.
    expect((await signUp(t, uniqueEmail('stranger'))).status).toBe(403);
  });

  it('refuses an address whose invitation was revoked', async () => {
    const t = await hub({ HUB_SIGNUP: 'invite' });
    const owner = await t.seedOrg();
    const email = uniqueEmail('revoked');
    const inv = await t.request('POST', '/v1/invitations', { auth: owner.owner, body: { email, role: 'viewer' } });
    expect((await t.request('DELETE', `/v1/invitations/${inv.body.id}`, { auth: owner.owner })).status).toBeLessThan(
      300,
    );
    expect((await signUp(t, email)).status).toBe(403);
  });
});

describe('HUB_SIGNUP=domain:… and open', () => {
  it('lets in addresses at the listed domains only', async () => {
    const t = await hub({ HUB_SIGNUP: 'domain:acme.test,acme-eu.test' });
    await t.seedOrg();
    expect((await t.request('GET', '/v1/setup/status')).body).toMatchObject({
      signup: 'domain',
      signup_domains: ['acme.test', 'acme-eu.test'],
    });
    expect((await signUp(t, `ann-${Date.now()}@acme.test`)).status).toBe(200);
    expect((await signUp(t, `bo-${Date.now()}@acme-eu.test`)).status).toBe(200);
    const outsider = await signUp(t, `eve-${Date.now()}@acme.test.evil.test`);
    expect(outsider.status).toBe(403);
    expect(outsider.body.detail).toMatch(/acme\.test/);
  });

  it('lets anyone in when open', async () => {
    const t = await hub({ HUB_SIGNUP: 'open' });
    await t.seedOrg();
    expect((await signUp(t, uniqueEmail('anyone'))).status).toBe(200);
  });

  it('refuses a malformed policy at start, naming the variable', async () => {
    await expect(createTestHub({ HUB_SIGNUP: 'everyone' })).rejects.toThrow(/HUB_SIGNUP/);
  });
});

describe('HUB_ORGS_PER_USER', () => {
  it('caps the orgs one account creates', async () => {
    const t = await hub({ HUB_ORGS_PER_USER: '2' });
    const user = await t.signUp();
    const make = (name: string) => t.request('POST', '/v1/orgs', { auth: { cookie: user.cookie }, body: { name } });
    expect((await make('One')).status).toBe(201);
    expect((await make('Two')).status).toBe(201);
    const third = await make('Three');
    expect(third.status).toBe(403);
    expect(third.body.code).toBe('forbidden');
    expect(third.body.detail).toMatch(/HUB_ORGS_PER_USER/);
    expect((await t.request('GET', '/v1/orgs', { auth: { cookie: user.cookie } })).body.data).toHaveLength(2);
  });
});
