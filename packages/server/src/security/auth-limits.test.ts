/**
 * Finding 5 of the security review, reproduced as reported: the sign-in limiter matched the raw URL
 * while the auth mount normalized it, so `/api/auth/./sign-in/email` landed in the 6,000/min bucket
 * (60 wrong passwords, then the right one, all answered). Here every spelling of an endpoint shares one
 * strict bucket, an unknown POST under /api/auth is strict, and sign-in, password reset and two-factor
 * attempts are limited per account as well as per IP.
 */
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub, uniqueEmail } from '../testing/test-hub.ts';

const LIMIT = 5;
const ORIGIN = 'http://hub.test';
let t: TestHub;

beforeAll(async () => {
  t = await createTestHub({ RATE_LIMIT_AUTH_PER_MINUTE: String(LIMIT) });
});
afterAll(async () => {
  await t?.close();
});

let ipCounter = 1;
/** Each test speaks from its own client address, so the per-IP buckets of one test never touch another's. */
const freshIp = () => `10.9.${Math.floor(ipCounter / 250)}.${ipCounter++ % 250}`;

async function post(url: string, body: unknown, ip: string, cookie?: string) {
  const res = await t.hub.app.inject({
    method: 'POST',
    url,
    remoteAddress: ip,
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...(cookie ? { cookie } : {}) },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined };
}

/** Signs a user up from an address of its own (sign-up is a strict family too). */
async function newUser(password = 'the-right-password-1') {
  const email = uniqueEmail('limits');
  const res = await post('/api/auth/sign-up/email', { email, password, name: 'limits' }, freshIp());
  expect(res.status).toBe(200);
  return { email, password };
}

describe('sign-in is limited on the path Better Auth routes, however it is spelled', () => {
  it('counts dot segments, doubled slashes and encoded dots in the sign-in bucket', async () => {
    const u = await newUser();
    const ip = freshIp();
    const spellings = [
      '/api/auth/./sign-in/email',
      '/api/auth/sign-in/../sign-in/email',
      '/api/auth//sign-in/email',
      '/api/auth/%2e/sign-in/email',
      '/api/auth/sign-in/email/',
    ];
    const reached: string[] = [];
    for (const url of spellings) {
      const wrong = await post(url, { email: u.email, password: 'a-wrong-password-9' }, ip);
      expect([401, 404], url).toContain(wrong.status);
      if (wrong.status === 401) reached.push(url);
    }
    // The dot-segment spellings of the report reach Better Auth's sign-in (a wrong password)…
    expect(reached).toEqual(expect.arrayContaining(spellings.slice(0, 4).filter((u) => !u.includes('//'))));
    // The right password, spelled plainly, is the sixth attempt of this IP this minute: refused.
    const right = await post('/api/auth/sign-in/email', { email: u.email, password: u.password }, ip);
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('rate_limited');
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('treats an unknown POST under /api/auth as strict', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await post('/api/auth/no-such-endpoint', {}, ip)).status);
    expect(statuses.slice(0, LIMIT).every((s) => s !== 429)).toBe(true);
    expect(statuses[LIMIT]).toBe(429);
  });

  it('keeps sign-out in the general bucket', async () => {
    const ip = freshIp();
    for (let i = 0; i <= LIMIT + 2; i++) expect((await post('/api/auth/sign-out', {}, ip)).status).not.toBe(429);
  });
});

describe('attempts are limited per account as well as per IP', () => {
  it('refuses the sixth sign-in against one account from six different addresses', async () => {
    const u = await newUser();
    for (let i = 0; i < LIMIT; i++) {
      const wrong = await post('/api/auth/sign-in/email', { email: u.email, password: 'wrong-password-00' }, freshIp());
      expect(wrong.status).toBe(401);
    }
    const right = await post(
      '/api/auth/sign-in/email',
      { email: u.email.toUpperCase(), password: u.password },
      freshIp(),
    );
    expect(right.status).toBe(429);
    expect(right.body.detail).toMatch(/this account/);
    // Another account is not affected.
    const other = await newUser();
    expect((await post('/api/auth/sign-in/email', other, freshIp())).status).toBe(200);
  });

  it('limits password-reset requests per email', async () => {
    const u = await newUser();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++)
      statuses.push((await post('/api/auth/request-password-reset', { email: u.email }, freshIp())).status);
    expect(statuses.slice(0, LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses[LIMIT]).toBe(429);
  });

  it('limits two-factor codes per account across fresh challenges and addresses', async () => {
    const u = await newUser('two-factor-password-1');
    const signedIn = await post('/api/auth/sign-in/email', u, freshIp());
    const cookie = t.cookieOf(signedIn as never);
    const enable = await post('/api/auth/two-factor/enable', { password: u.password }, freshIp(), cookie);
    expect(enable.status).toBe(200);
    const secret = new URL(enable.body.totpURI).searchParams.get('secret')!;
    expect(
      (await post('/api/auth/two-factor/verify-totp', { code: await generate({ secret }) }, freshIp(), cookie)).status,
    ).toBe(200);

    // The attacker knows the password; every guess at the second factor comes from a new address.
    const challenge = await post('/api/auth/sign-in/email', u, freshIp());
    expect(challenge.body.twoFactorRedirect).toBe(true);
    const challengeCookie = t.cookieOf(challenge as never);
    for (let i = 0; i < LIMIT; i++) {
      const guess = await post('/api/auth/two-factor/verify-totp', { code: '000000' }, freshIp(), challengeCookie);
      expect(guess.status).toBe(401);
    }
    // A fresh challenge does not reset the account's count: even the right code waits for the next minute.
    const again = await post('/api/auth/sign-in/email', u, freshIp());
    expect(again.body.twoFactorRedirect).toBe(true);
    const right = await post(
      '/api/auth/two-factor/verify-totp',
      { code: await generate({ secret }) },
      freshIp(),
      t.cookieOf(again as never),
    );
    expect(right.status).toBe(429);
    expect(right.body.detail).toMatch(/this account/);
  });
});
