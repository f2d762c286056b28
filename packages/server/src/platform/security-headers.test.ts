import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let tls: TestHub;
beforeAll(async () => {
  t = await createTestHub();
  tls = await createTestHub({ HUB_PUBLIC_URL: 'https://hub.example.test' });
});
afterAll(async () => {
  await t?.close();
  await tls?.close();
});

describe('security headers', () => {
  it('API answers carry the REST set: no framing, no sniffing, no caching, nothing loaded', async () => {
    const ok = await t.request('GET', '/v1/setup/status');
    const missing = await t.request('GET', '/v1/no-such-thing');
    for (const res of [ok, missing]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['x-request-id']).toMatch(/^req_/);
      // Page-only headers stay off the hot paths' answers.
      expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('pages carry the full browser set with a same-origin CSP', async () => {
    const page = await t.request('GET', '/docs/');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-request-id']).toMatch(/^req_/);
  });

  it('adds HSTS to both sets when the hub is served over https', async () => {
    const api = await tls.request('GET', '/v1/setup/status');
    const page = await tls.request('GET', '/docs/');
    for (const res of [api, page])
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });
});
