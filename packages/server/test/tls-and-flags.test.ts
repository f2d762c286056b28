/** HTTPS served directly, social sign-in when configured, and feature flags with rollouts. */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inRollout } from '../src/platform/plans.ts';
import { selfSignedCertificate } from '../src/testing/self-signed.ts';
import { createTestHub, type TestHub } from '../src/testing/test-hub.ts';

describe('HTTPS', () => {
  it('serves TLS itself when TLS_CERT and TLS_KEY are set, with HSTS', async () => {
    const { cert, key } = selfSignedCertificate();
    const t = await createTestHub({ TLS_CERT: cert, TLS_KEY: key, HUB_PUBLIC_URL: 'https://localhost' });
    try {
      await t.hub.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (t.hub.app.server.address() as { port: number }).port;
      const res = await new Promise<{ status: number; hsts: unknown; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false }, (r) => {
          let body = '';
          r.on('data', (d) => {
            body += d;
          });
          r.on('end', () => resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'], body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.status).toBe(200);
      expect(res.body).toContain('ok');
      expect(res.hsts).toMatch(/max-age=/);
    } finally {
      await t.close();
    }
  });
});

describe('social sign-in', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await createTestHub({ GOOGLE_CLIENT_ID: 'google-client-id-123', GOOGLE_CLIENT_SECRET: 'google-secret' });
  });
  afterAll(async () => t?.close());

  it('offers Google when its client id is configured, and not Microsoft when it is not', async () => {
    const google = await t.request('POST', '/api/auth/sign-in/social', {
      body: { provider: 'google', callbackURL: '/' },
      headers: { origin: 'http://hub.test' },
    });
    expect(google.status).toBe(200);
    const url = new URL(google.body.url);
    expect(url.host).toBe('accounts.google.com');
    expect(url.searchParams.get('client_id')).toBe('google-client-id-123');
    const microsoft = await t.request('POST', '/api/auth/sign-in/social', {
      body: { provider: 'microsoft', callbackURL: '/' },
      headers: { origin: 'http://hub.test' },
    });
    expect(microsoft.status).toBeGreaterThanOrEqual(400);
  });
});

describe('feature flags', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await createTestHub();
  });
  afterAll(async () => t?.close());

  it('rolls a flag out to a stable share of orgs, and an org override wins', async () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `org_${i}`);
    const share = ids.filter((id) => inRollout(id, 'insights', 30)).length / ids.length;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    // Raising the percentage only adds orgs: nobody flickers out of a rollout as it grows.
    expect(ids.filter((id) => inRollout(id, 'insights', 30)).every((id) => inRollout(id, 'insights', 60))).toBe(true);
    expect(ids.some((id) => inRollout(id, 'insights', 0))).toBe(false);

    const a = await t.seedOrg();
    const plan = await t.request('GET', '/v1/org/plan', { auth: a.apiKey });
    // Every flag rolls out to 100% by default (docs/plans.md): each feature existed before its flag.
    expect(plan.body).toMatchObject({ plan: 'scale', features: { otlp_ingest: true, insights: true } });
    const off = await t.request('PUT', '/v1/org/features/insights', { auth: a.apiKey, body: { enabled: false } });
    expect(off.body.features.insights).toBe(false);
    const unknown = await t.request('PUT', '/v1/org/features/nope', { auth: a.apiKey, body: { enabled: true } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].path).toBe('flag');
  });
});
