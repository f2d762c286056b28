/** The HTTP surface every user meets: problem+json errors, limits, headers, health, metrics, OpenAPI. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../src/app.ts';
import { createTestHub, type TestHub } from '../src/testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub({ HUB_BODY_LIMIT_MB: '1' });
});
afterAll(async () => t?.close());

describe('errors are problem+json', () => {
  it('malformed JSON: 400 naming the body', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      raw: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.body).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(r.body.request_id).toBe(r.headers['x-request-id']);
  });

  it('a body over the limit: 413 payload_too_large, and nothing is created', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'big', environment: 'test', description: 'x'.repeat(2 * 1024 * 1024) },
    });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('payload_too_large');
    expect((await t.request('GET', '/v1/agents/big', { auth: a.apiKey })).status).toBe(404);
  });

  it('an unknown route: 404 problem+json', async () => {
    const r = await t.request('GET', '/v1/nope');
    expect([401, 404]).toContain(r.status);
    const r2 = await t.request('GET', '/nothing-here');
    expect(r2.status).toBe(404);
    expect(r2.body.code).toBe('not_found');
  });

  it('a bad query parameter names it', async () => {
    const a = await t.seedOrg();
    const r = await t.request('GET', '/v1/agents?environment=moon&limit=5000', { auth: a.apiKey });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['environment', 'limit']);
  });
});

describe('service endpoints', () => {
  it('health, readiness, metrics and OpenAPI', async () => {
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    const ready = await t.request('GET', '/readyz');
    expect(ready.body).toMatchObject({ status: 'ready', database: t.hub.ctx.db.dialect });
    const metrics = await t.request('GET', '/metrics');
    expect(metrics.text).toMatch(/# TYPE hub_http_request_duration_seconds histogram/);
    const spec = await t.request('GET', '/openapi.json');
    expect(spec.body.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/v1/agents', '/v1/api-keys', '/v1/audit/verify']),
    );
    expect(spec.body.paths['/v1/agents'].post.requestBody).toBeDefined();
    expect((await t.request('GET', '/docs')).status).toBeLessThan(400);
  });

  it('sets security headers and a request id', async () => {
    const r = await t.request('GET', '/healthz', { headers: { 'x-request-id': 'trace-abc-1' } });
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBeDefined();
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.headers['x-request-id']).toBe('trace-abc-1');
  });

  it('refuses a cookie-authenticated write from a foreign origin', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/agents', {
      headers: { cookie: a.cookie, origin: 'https://evil.example', 'x-org-id': a.org.id },
      body: { name: 'csrf', environment: 'test' },
    });
    expect(r.status).toBe(403);
  });
});

describe('logs', () => {
  it('never carry one-time tokens from URLs', () => {
    expect(redactUrl('/api/auth/reset-password/abc123?callbackURL=%2Freset')).toBe(
      '/api/auth/reset-password/[redacted]?callbackURL=[redacted]',
    );
    expect(redactUrl('/api/auth/verify-email?token=eyJhbGci.x.y&callbackURL=/')).toBe(
      '/api/auth/verify-email?token=[redacted]&callbackURL=[redacted]',
    );
    expect(redactUrl('/v1/agents?tag=x')).toBe('/v1/agents?tag=x');
  });
});

describe('rate limits', () => {
  for (const [where, extra] of [
    ['in memory', {}],
    ['in Redis (several processes)', { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' }],
  ] as const)
    it(`per key, counted ${where}: 429 with Retry-After once the minute is used up; another key is unaffected`, async () => {
      const limited = await (await import('../src/testing/test-hub.ts')).createTestHub({
        RATE_LIMIT_PER_MINUTE: '5',
        ...extra,
      });
      try {
        const a = await limited.seedOrg();
        const other = await limited.request('POST', '/v1/api-keys', {
          auth: a.apiKey,
          body: { name: 'o', scopes: ['read'] },
        });
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++)
          statuses.push((await limited.request('GET', '/v1/agents', { auth: a.apiKey })).status);
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
        const last = await limited.request('GET', '/v1/agents', { auth: a.apiKey });
        expect(last.status).toBe(429);
        expect(last.body.code).toBe('rate_limited');
        expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
        expect((await limited.request('GET', '/v1/agents', { auth: other.body.key })).status).toBe(200);
        // Ingestion has its own, larger bucket: an agent's reporting is not starved by API reads.
        const ingest = await limited.request('POST', '/v1/ingest/events', {
          auth: a.apiKey,
          body: {
            events: [{ run_id: 'rl', agent: 'RL', type: 'log', timestamp: new Date().toISOString(), payload: {} }],
          },
        });
        expect(ingest.status).toBe(202);
      } finally {
        await limited.close();
      }
    });

  for (const [where, extra] of [
    ['in memory', {}],
    ['in Redis (several processes)', { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' }],
  ] as const)
    it(`per org, counted ${where}: all of its keys together hit the org ceiling; another org is unaffected`, async () => {
      const limited = await (await import('../src/testing/test-hub.ts')).createTestHub({
        RATE_LIMIT_ORG_PER_MINUTE: '6',
        ...extra,
      });
      try {
        const a = await limited.seedOrg(); // seeding itself makes 2 org-scoped calls (org creation is pre-org)
        const b = await limited.seedOrg();
        const k2 = await limited.request('POST', '/v1/api-keys', {
          auth: a.apiKey,
          body: { name: 'two', scopes: ['read'] },
        });
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          statuses.push((await limited.request('GET', '/v1/agents', { auth: a.apiKey })).status);
          statuses.push((await limited.request('GET', '/v1/agents', { auth: k2.body.key })).status);
        }
        expect(statuses).toContain(429);
        const last = await limited.request('GET', '/v1/agents', { auth: k2.body.key });
        expect(last.status).toBe(429);
        expect(last.body.detail).toMatch(/organization/);
        expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
        expect((await limited.request('GET', '/v1/agents', { auth: b.apiKey })).status).toBe(200);
        if ('REDIS_URL' in extra) {
          // The org's window in Redis expires with its minute (plus a second), not never.
          const redis = new Redis(extra.REDIS_URL);
          try {
            const [key] = await redis.keys(`hub-rl:org:${a.org.id}:*`);
            expect(key).toBeDefined();
            const ttl = await redis.pttl(key!);
            expect(ttl).toBeGreaterThan(0);
            expect(ttl).toBeLessThanOrEqual(61_000);
          } finally {
            redis.disconnect();
          }
        }
      } finally {
        await limited.close();
      }
    });

  it('a closing hub sends its last hits to Redis before it disconnects (another process counts them)', async () => {
    const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const hub = await (await import('../src/testing/test-hub.ts')).createTestHub({ REDIS_URL });
    const a = await hub.seedOrg();
    for (let i = 0; i < 3; i++) expect((await hub.request('GET', '/v1/agents', { auth: a.apiKey })).status).toBe(200);
    await hub.close(); // within the 50 ms sync: the hits are still unsent when the close begins
    const redis = new Redis(REDIS_URL);
    try {
      const [key] = await redis.keys(`hub-rl:org:${a.org.id}:*`);
      expect(key).toBeDefined();
      expect(Number(await redis.get(key!))).toBeGreaterThanOrEqual(3);
    } finally {
      redis.disconnect();
    }
  });

  it('sign-in is limited much more strictly, per client', async () => {
    const limited = await (await import('../src/testing/test-hub.ts')).createTestHub({
      RATE_LIMIT_AUTH_PER_MINUTE: '3',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await limited.request('POST', '/api/auth/sign-in/email', {
          body: { email: 'nobody@example.test', password: 'wrong-password-123' },
          headers: { origin: 'http://hub.test' },
        });
        statuses.push(r.status);
      }
      expect(statuses.slice(0, 3).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(3)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });
});
