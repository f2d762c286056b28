import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const quote = (auth: string, qs: string) => t.request('GET', `/v1/prices/quote?${qs}`, { auth });

describe('model prices', () => {
  it('lists the shipped table in USD per 1M tokens, with sources', async () => {
    const a = await t.seedOrg();
    const r = await t.request('GET', '/v1/prices', { auth: a.apiKey });
    expect(r.status).toBe(200);
    expect(r.body.unit).toBe('USD per 1M tokens');
    expect(r.body.sources.openai).toBeTruthy();
    expect(r.body.overrides).toEqual([]);
    const gpt4o = r.body.table.find(
      (e: { model: string; effective_to: string | null }) => e.model === 'gpt-4o' && !e.effective_to,
    );
    expect(gpt4o).toMatchObject({ provider: 'openai', input: 2.5, cached_input: 1.25, output: 10 });
    const mini = r.body.table.find((e: { model: string }) => e.model === 'gpt-4o-mini');
    expect(mini).toMatchObject({ input: 0.15, cached_input: 0.075, output: 0.6 });
  });

  it('quotes a call, and answers unknown (not $0) for a model it does not know', async () => {
    const a = await t.seedOrg();
    const r = await quote(a.apiKey, 'model=openai/gpt-4o-2024-08-06&input_tokens=1000000&output_tokens=1000000');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      cost_usd: 12.5,
      unknown: false,
      matched: { provider: 'openai', model: 'gpt-4o', source: 'table' },
    });
    const cached = await quote(
      a.apiKey,
      'model=claude-sonnet-4-5&input_tokens=100000&cached_input_tokens=80000&cache_write_tokens=10000&output_tokens=10000',
    );
    expect(cached.body.cost_usd).toBe(0.2415);
    const old = await quote(a.apiKey, 'model=o3&input_tokens=1000000&at=2025-05-01T00:00:00Z');
    expect(old.body.cost_usd).toBe(10);
    const unknown = await quote(a.apiKey, 'model=acme-llm-7b&input_tokens=10');
    expect(unknown.body).toMatchObject({ cost_usd: null, unknown: true, matched: null });
    const bad = await quote(a.apiKey, 'input_tokens=-1');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['model', 'input_tokens']),
    );
  });

  it("creates and deletes an org's override, which wins over the table, each change audited", async () => {
    const a = await t.seedOrg();
    const created = await t.request('POST', '/v1/prices/overrides', {
      auth: a.apiKey,
      body: { model: 'gpt-4o', provider: 'openai', input: 1, cached_input: 0.5, output: 2 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o',
      input: 1,
      cached_input: 0.5,
      cache_write: null,
      output: 2,
      reasoning: null,
      effective_from: '1970-01-01T00:00:00.000Z',
    });
    expect(created.body.id).toMatch(/^prc_/);

    // The cached overrides are dropped on change: the very next quote uses the override.
    const q = await quote(a.apiKey, 'model=gpt-4o&input_tokens=1000000&output_tokens=1000000');
    expect(q.body).toMatchObject({ cost_usd: 3, matched: { source: 'override', id: created.body.id } });
    expect((await quote(a.apiKey, 'model=gpt-4o-mini&input_tokens=1000000')).body.matched.source).toBe('table');
    // Another org keeps the table price.
    const b = await t.seedOrg();
    expect((await quote(b.apiKey, 'model=gpt-4o&input_tokens=1000000')).body.cost_usd).toBe(2.5);

    const listed = await t.request('GET', '/v1/prices', { auth: a.apiKey });
    expect(listed.body.overrides).toEqual([created.body]);

    const del = await t.request('DELETE', `/v1/prices/overrides/${created.body.id}`, { auth: a.apiKey });
    expect(del.status).toBe(204);
    expect((await quote(a.apiKey, 'model=gpt-4o&input_tokens=1000000')).body.matched.source).toBe('table');
    expect((await t.request('DELETE', `/v1/prices/overrides/${created.body.id}`, { auth: a.apiKey })).status).toBe(404);

    const audit = await t.request('GET', `/v1/audit?entity_type=price_override&entity_id=${created.body.id}`, {
      auth: a.apiKey,
    });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
      'price_override.deleted',
      'price_override.created',
    ]);
  });

  it('prices a model the table does not know, from its effective date', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/prices/overrides', {
      auth: a.apiKey,
      body: { model: 'acme-llm-*', input: 0.2, output: 0.4, effective_from: '2025-07-01' },
    });
    expect(r.status).toBe(201);
    expect(r.body.effective_from).toBe('2025-07-01T00:00:00.000Z');
    const q = (at: string) => quote(a.apiKey, `model=acme-llm-7b&input_tokens=1000000&output_tokens=1000000&at=${at}`);
    expect((await q('2025-08-01T00:00:00Z')).body).toMatchObject({ cost_usd: 0.6, unknown: false });
    expect((await q('2025-06-30T23:59:59Z')).body).toMatchObject({ cost_usd: null, unknown: true });
  });

  it('names every invalid field', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/prices/overrides', {
      auth: a.apiKey,
      body: { model: 'bad model!', input: -1, output: 0.0000001, effective_from: 'soon' },
    });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['model', 'input', 'output', 'effective_from']),
    );
  });

  it('lets readers read and quote, and only budget managers change prices', async () => {
    const a = await t.seedOrg();
    const member = await t.addMember(a, 'member');
    expect((await t.request('GET', '/v1/prices', { auth: member.auth })).status).toBe(200);
    const body = { model: 'gpt-4o', input: 1, output: 2 };
    expect((await t.request('POST', '/v1/prices/overrides', { auth: member.auth, body })).status).toBe(403);
    const team = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'Ops' } });
    const lead = await t.addMember(a, 'team_lead', team.body.id);
    const byLead = await t.request('POST', '/v1/prices/overrides', { auth: lead.auth, body });
    expect(byLead.status).toBe(403);
    expect(byLead.body.code).toBe('forbidden');
  });
});

tenantIsolationSuite('price overrides', () => t, {
  create: async (a) =>
    (
      await t.request('POST', '/v1/prices/overrides', {
        auth: a.apiKey,
        body: { model: `iso-model-${Date.now()}`, input: 1, output: 1 },
      })
    ).body,
  routes: (id) => [['DELETE', `/v1/prices/overrides/${id}`]],
  list: ['/v1/prices'],
});
