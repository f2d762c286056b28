import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';
import { hashApiKey } from './api-key-format.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

describe('API keys', () => {
  it('shows a key once, stores only its hash, and never lists it again', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/api-keys', { auth: a.apiKey, body: { name: 'ci', scopes: ['ingest'] } });
    expect(r.status).toBe(201);
    expect(r.body.key).toMatch(/^ahk_[A-Za-z0-9]{43}$/);
    expect(r.body.prefix).toBe(r.body.key.slice(0, 12));
    expect(r.headers['cache-control']).toBe('no-store');
    const row = await t.hub.ctx.db.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', r.body.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashApiKey(r.body.key));
    expect(JSON.stringify(row)).not.toContain(r.body.key);
    const list = await t.request('GET', '/v1/api-keys', { auth: a.apiKey });
    expect(list.text).not.toContain(r.body.key);
    expect(list.body.data.find((k: { id: string }) => k.id === r.body.id)).toMatchObject({
      name: 'ci',
      scopes: ['ingest'],
    });
  });

  it('enforces scopes: read lists, cannot write; ingest cannot read keys', async () => {
    const a = await t.seedOrg();
    const read = (await t.request('POST', '/v1/api-keys', { auth: a.apiKey, body: { name: 'r', scopes: ['read'] } }))
      .body.key;
    const ingest = (
      await t.request('POST', '/v1/api-keys', { auth: a.apiKey, body: { name: 'i', scopes: ['ingest'] } })
    ).body.key;
    expect((await t.request('GET', '/v1/agents', { auth: read })).status).toBe(200);
    const w = await t.request('POST', '/v1/agents', { auth: read, body: { name: 'n', environment: 'test' } });
    expect(w.status).toBe(403);
    expect(w.body.code).toBe('forbidden');
    expect((await t.request('GET', '/v1/api-keys', { auth: ingest })).status).toBe(403);
    expect((await t.request('GET', '/v1/audit', { auth: ingest })).status).toBe(403);
  });

  it('never lets a key mint a key with more rights than it has', async () => {
    const a = await t.seedOrg();
    const admin = (
      await t.request('POST', '/v1/api-keys', { auth: a.apiKey, body: { name: 'adm', scopes: ['admin'] } })
    ).body.key;
    const up = await t.request('POST', '/v1/api-keys', { auth: admin, body: { name: 'x', scopes: ['full'] } });
    expect(up.status).toBe(403);
    expect(
      (await t.request('POST', '/v1/api-keys', { auth: admin, body: { name: 'x', scopes: ['read'] } })).status,
    ).toBe(201);
  });

  it('revocation takes effect on the very next request, even after the key was cached', async () => {
    const a = await t.seedOrg();
    const k = await t.request('POST', '/v1/api-keys', { auth: a.apiKey, body: { name: 'temp', scopes: ['read'] } });
    expect((await t.request('GET', '/v1/agents', { auth: k.body.key })).status).toBe(200); // now cached
    const rev = await t.request('DELETE', `/v1/api-keys/${k.body.id}`, { auth: a.apiKey });
    expect(rev.status).toBe(200);
    expect(rev.body.revoked_at).not.toBeNull();
    const after = await t.request('GET', '/v1/agents', { auth: k.body.key });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('unauthenticated');
    const audit = await t.request('GET', `/v1/audit?entity_type=api_key&entity_id=${k.body.id}`, { auth: a.apiKey });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(['api_key.revoked', 'api_key.created']);
  });

  it('a key revoked through one hub process stops working at once in another (control bus)', async () => {
    // Two processes share one database; revocation fans out by LISTEN/NOTIFY on PostgreSQL, and by
    // Redis pub/sub when REDIS_URL is set (the way to run several processes beside SQLite's single writer).
    const shared: Record<string, string> =
      t.hub.ctx.db.dialect === 'postgres' ? {} : { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' };
    const one = await createTestHub(shared);
    const two = await createTestHub(shared, { shareWith: one });
    try {
      const a = await one.seedOrg();
      const k = await one.request('POST', '/v1/api-keys', {
        auth: a.apiKey,
        body: { name: 'fan-out', scopes: ['read'] },
      });
      expect((await two.request('GET', '/v1/agents', { auth: k.body.key })).status).toBe(200); // cached in process two
      expect((await one.request('DELETE', `/v1/api-keys/${k.body.id}`, { auth: a.apiKey })).status).toBe(200);
      let status = 0;
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline) {
        status = (await two.request('GET', '/v1/agents', { auth: k.body.key })).status;
        if (status === 401) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe(401);
    } finally {
      await two.close();
      await one.close();
    }
  });

  it('refuses an expired key and an expiry in the past', async () => {
    const a = await t.seedOrg();
    const past = await t.request('POST', '/v1/api-keys', {
      auth: a.apiKey,
      body: { name: 'old', scopes: ['read'], expires_at: '2001-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);
    expect(past.body.errors[0].path).toBe('expires_at');
    const soon = await t.request('POST', '/v1/api-keys', {
      auth: a.apiKey,
      body: { name: 'soon', scopes: ['read'], expires_at: new Date(Date.now() + 1500).toISOString() },
    });
    expect((await t.request('GET', '/v1/agents', { auth: soon.body.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1700));
    expect((await t.request('GET', '/v1/agents', { auth: soon.body.key })).status).toBe(401);
  });

  it('records when a key was last used', async () => {
    const a = await t.seedOrg();
    const k = await t.request('POST', '/v1/api-keys', { auth: a.apiKey, body: { name: 'u', scopes: ['read'] } });
    expect(k.body.last_used_at).toBeNull();
    await t.request('GET', '/v1/agents', { auth: k.body.key });
    await new Promise((r) => setTimeout(r, 100));
    const list = await t.request('GET', '/v1/api-keys', { auth: a.apiKey });
    const used = list.body.data.find((x: { id: string }) => x.id === k.body.id);
    expect(used.last_used_at).not.toBeNull();
  });

  it('answers 401 problem+json without credentials or with a wrong key', async () => {
    const none = await t.request('GET', '/v1/agents');
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect((await t.request('GET', '/v1/agents', { auth: `ahk_${'f'.repeat(48)}` })).status).toBe(401);
  });
});

tenantIsolationSuite('api keys', () => t, {
  create: async (a) => {
    const r = await t.request('POST', '/v1/api-keys', { auth: a.apiKey, body: { name: 'iso', scopes: ['read'] } });
    return { id: r.body.id, prefix: r.body.prefix };
  },
  routes: (id) => [['DELETE', `/v1/api-keys/${id}`]],
  list: ['/v1/api-keys'],
});
