import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  // Workers are not started: tests run enrichment by hand, which also proves ingestion does not need it.
  t = await createTestHub();
});
afterAll(async () => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();
const seed = () => t.seedOrg();
const enrich = () => t.hub.ctx.enrichment.catchUp();
const run = (a: SeededOrg, body: object) => t.request('POST', '/v1/ingest/run', { auth: a.apiKey, body });
const events = (a: SeededOrg, evs: unknown[]) =>
  t.request('POST', '/v1/ingest/events', { auth: a.apiKey, body: { events: evs } });

describe('POST /v1/ingest/run', () => {
  it('accepts a whole run (202 after commit), prices it after enrichment, and keeps event order', async () => {
    const a = await t.seedOrg();
    const t0 = Date.now() - 10_000;
    const r = await run(a, {
      agent: 'Writer',
      status: 'completed',
      started_at: iso(t0),
      ended_at: iso(t0 + 2400),
      input: { prompt: 'hi' },
      events: [
        {
          type: 'llm_call',
          timestamp: iso(t0 + 100),
          payload: { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 },
        },
        { type: 'run_started', timestamp: iso(t0), payload: {} },
        { type: 'tool_called', timestamp: iso(t0 + 900), payload: { tool: 'crm' } },
      ],
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ events_accepted: 3 });
    const before = await t.request('GET', `/v1/runs/${r.body.run_id}`, { auth: a.apiKey });
    expect(before.body.events.map((e: { type: string }) => e.type)).toEqual(['run_started', 'llm_call', 'tool_called']);
    // Not enriched yet (ingestion did not wait for it): the replay prices the call on read.
    expect(before.body.cost_pending).toBe(true);
    expect(before.body.cost_usd).toBeCloseTo(0.0075, 10);
    expect((await t.request('GET', '/v1/runs', { auth: a.apiKey })).body.data[0].cost_usd).toBe(0);
    await enrich();
    const after = await t.request('GET', `/v1/runs/${r.body.run_id}`, { auth: a.apiKey });
    expect(after.body).toMatchObject({
      status: 'completed',
      latency_ms: 2400,
      input_tokens: 1000,
      output_tokens: 500,
      agent_name: 'Writer',
    });
    expect(after.body.cost_usd).toBeCloseTo(0.0075, 10);
    expect(after.body.events[1]).toMatchObject({ model: 'gpt-4o', cost_usd: 0.0075, cost_source: 'price_table' });
  });

  it('names every invalid field', async () => {
    const a = await t.seedOrg();
    const r = await run(a, {
      agent: '',
      status: 'done',
      started_at: 'yesterday',
      run_id: 'has spaces',
      events: [{ type: 'llm_call', timestamp: iso(Date.now()), payload: { model: 'gpt-4o' } }],
    });
    expect(r.status).toBe(400);
    const paths = r.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['agent', 'status', 'started_at', 'run_id']));
    const r2 = await run(a, {
      agent: 'X',
      status: 'running',
      started_at: iso(Date.now()),
      events: [{ type: 'llm_call', timestamp: iso(Date.now()), payload: { model: 'gpt-4o' } }],
    });
    expect(r2.status).toBe(400);
    expect(r2.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'events.0.payload.input_tokens',
      'events.0.payload.output_tokens',
    ]);
    expect((await t.request('GET', '/v1/runs?agent=X', { auth: a.apiKey })).body.data).toHaveLength(0);
  });

  it('is idempotent: the same run_id updates the run, the same event_id is stored once', async () => {
    const a = await t.seedOrg();
    const t0 = Date.now() - 60_000;
    await run(a, {
      run_id: 'run-idem-1',
      agent: 'Idem',
      status: 'running',
      started_at: iso(t0),
      input: { q: 'first' },
    });
    await run(a, {
      run_id: 'run-idem-1',
      agent: 'Idem',
      status: 'completed',
      started_at: iso(t0),
      ended_at: iso(t0 + 500),
      output: { a: 1 },
    });
    const ev = {
      event_id: 'evt-idem-1',
      run_id: 'run-idem-1',
      type: 'external_action',
      timestamp: iso(t0 + 100),
      payload: { action: 'x' },
    };
    await events(a, [ev]);
    await events(a, [ev, ev]);
    await enrich();
    const got = await t.request('GET', '/v1/runs/run-idem-1', { auth: a.apiKey });
    expect(got.body).toMatchObject({ status: 'completed', input: { q: 'first' }, output: { a: 1 }, latency_ms: 500 });
    expect(got.body.events.filter((e: { id: string }) => e.id === 'evt-idem-1')).toHaveLength(1);
    const overview = await t.request('GET', '/v1/stats/overview', { auth: a.apiKey });
    expect(overview.body).toMatchObject({ runs: 1, completed: 1, failed: 0 }); // counted once, as completed
  });

  it('prices run-level usage and flags a model the table does not know (never $0)', async () => {
    const a = await t.seedOrg();
    const now = Date.now() - 1000;
    const known = await run(a, {
      agent: 'U',
      status: 'completed',
      started_at: iso(now),
      ended_at: iso(now + 10),
      usage: { model: 'openai/gpt-4o-mini-2024-07-18', input_tokens: 1_000_000, output_tokens: 1_000_000 },
    });
    const unknown = await run(a, {
      agent: 'U',
      status: 'completed',
      started_at: iso(now),
      ended_at: iso(now + 10),
      usage: { model: 'acme-secret-model-9', input_tokens: 100, output_tokens: 100 },
    });
    await enrich();
    const k = await t.request('GET', `/v1/runs/${known.body.run_id}`, { auth: a.apiKey });
    expect(k.body.cost_usd).toBeCloseTo(0.75, 9); // $0.15/M in + $0.60/M out
    const u = await t.request('GET', `/v1/runs/${unknown.body.run_id}`, { auth: a.apiKey });
    expect(u.body).toMatchObject({ cost_unknown: true, cost_usd: 0 });
    expect(u.body.events[0].cost_source).toBe('unknown_model');
    expect((await t.request('GET', '/v1/stats/overview', { auth: a.apiKey })).body.unpriced_llm_calls).toBe(1);
  });

  it('normalizes provider usage shapes (Anthropic cache tokens) before pricing', async () => {
    const a = await t.seedOrg();
    const ts = Date.now() - 1000;
    await events(a, [
      {
        run_id: 'run-anth',
        agent: 'Claude',
        type: 'llm_call',
        timestamp: iso(ts),
        payload: {
          model: 'claude-3-5-sonnet-20241022',
          usage: {
            input_tokens: 100,
            cache_read_input_tokens: 1000,
            cache_creation_input_tokens: 0,
            output_tokens: 10,
          },
        },
      },
    ]);
    await enrich();
    const r = await t.request('GET', '/v1/runs/run-anth', { auth: a.apiKey });
    expect(r.body.input_tokens).toBe(1100);
    // 100 × $3/M + 1000 × $0.30/M (cache read) + 10 × $15/M
    expect(r.body.cost_usd).toBeCloseTo(0.0003 + 0.0003 + 0.00015, 9);
  });

  it('keeps events written while another transaction is open, when that one rolls back', async () => {
    // Batches commit synchronously when the connection is free (ingestion.service.ts); on SQLite, inside
    // an open transaction the write would have become part of it. It must wait for it instead.
    const a = await seed();
    const first = { run_id: 'run-during-trx', agent: 'Writer', type: 'run_started', timestamp: iso(Date.now()) };
    expect((await events(a, [first])).status).toBe(202); // agent resolved and cached
    let during: ReturnType<typeof events> | undefined;
    const rolledBack = t.hub.ctx.db.db.transaction().execute(async (trx) => {
      await trx.selectFrom('events').select('id').limit(1).execute();
      during = events(a, [{ ...first, type: 'tool_called', event_id: 'evt-during-trx', payload: { tool: 'crm' } }]);
      await new Promise((r) => setTimeout(r, 50)); // the batch is queued and flushed meanwhile
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    expect((await during!).status).toBe(202);
    const row = await t.hub.ctx.db.db
      .selectFrom('events')
      .select(['id', 'type'])
      .where('id', '=', 'evt-during-trx')
      .executeTakeFirst();
    expect(row).toEqual({ id: 'evt-during-trx', type: 'tool_called' });
  });

  it('keeps large inputs, truncated with a marker', async () => {
    const a = await t.seedOrg();
    const r = await run(a, {
      agent: 'Big',
      status: 'running',
      started_at: iso(Date.now()),
      input: { doc: 'x'.repeat(200_000) },
    });
    expect(r.status).toBe(202);
    const got = await t.request('GET', `/v1/runs/${r.body.run_id}`, { auth: a.apiKey });
    expect(got.body.input).toMatchObject({ _truncated: true });
    expect(got.body.input.original_bytes).toBeGreaterThan(200_000);
  });
});

describe('emergency controls at ingestion', () => {
  it("still takes a paused agent's runs — nothing is lost — and flags them", async () => {
    const a = await seed();
    await run(a, { run_id: 'before-pause', agent: 'Pausable', status: 'running', started_at: iso(Date.now()) });
    const pause = await t.request('POST', '/v1/agents/Pausable/pause', {
      auth: a.apiKey,
      body: { reason: 'investigating' },
    });
    expect(pause.status).toBe(200);
    const r = await run(a, {
      run_id: 'while-paused',
      agent: 'Pausable',
      status: 'running',
      started_at: iso(Date.now()),
    });
    expect(r.status).toBe(202);
    const flagged = await t.request('GET', '/v1/runs/while-paused', { auth: a.apiKey });
    expect(flagged.body.metadata.control_hold).toMatchObject({ reason: 'agent_paused' });
    const before = await t.request('GET', '/v1/runs/before-pause', { auth: a.apiKey });
    expect(before.body.metadata.control_hold).toBeUndefined();
  });
});

describe('POST /v1/ingest/events', () => {
  it('keeps the good events and names each bad one by index', async () => {
    const a = await t.seedOrg();
    const now = iso(Date.now());
    const r = await events(a, [
      { run_id: 'b1', agent: 'Batcher', type: 'run_started', timestamp: now, payload: {} },
      { run_id: 'b1', type: 'nope', timestamp: now },
      { run_id: 'b1', type: 'llm_call', timestamp: 'soon', payload: {} },
      'not an object',
      { run_id: 'never-seen', type: 'tool_called', timestamp: now, payload: {} },
      { run_id: 'b1', type: 'run_failed', timestamp: now, payload: { error: 'boom' } },
    ]);
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.rejected.map((x: { index: number }) => x.index)).toEqual([1, 2, 3, 4]);
    expect(r.body.rejected[0].errors[0].path).toBe('type');
    expect(r.body.rejected[3].errors[0]).toMatchObject({ path: 'run_id' });
    const got = await t.request('GET', '/v1/runs/b1', { auth: a.apiKey });
    expect(got.body.status).toBe('failed');
  });

  it('refuses more than 1000 events and a body that is not JSON', async () => {
    const a = await t.seedOrg();
    const many = Array.from({ length: 1001 }, () => ({
      run_id: 'r',
      type: 'log',
      timestamp: iso(Date.now()),
      payload: {},
    }));
    expect((await events(a, many)).status).toBe(400);
    const text = await t.request('POST', '/v1/ingest/events', {
      auth: a.apiKey,
      raw: 'events=1',
      headers: { 'content-type': 'text/plain' },
    });
    expect([400, 415]).toContain(text.status);
    expect(text.headers['content-type']).toContain('application/problem+json');
  });

  it('lets events without an agent join a run the hub already knows', async () => {
    const a = await t.seedOrg();
    const s = await run(a, { run_id: 'known-run', agent: 'K', status: 'running', started_at: iso(Date.now() - 100) });
    expect(s.status).toBe(202);
    const r = await events(a, [
      { run_id: 'known-run', type: 'tool_called', timestamp: iso(Date.now()), payload: { tool: 'x' } },
    ]);
    expect(r.body).toMatchObject({ accepted: 1, rejected: [] });
  });

  it("cannot reach another org's run with the same run_id", async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    await run(a, { run_id: 'shared-id', agent: 'A', status: 'running', started_at: iso(Date.now()) });
    const r = await events(b, [
      { run_id: 'shared-id', type: 'external_action', timestamp: iso(Date.now()), payload: { action: 'evil' } },
    ]);
    expect(r.body.accepted).toBe(0); // B has no such run, and named no agent
    const mine = await t.request('GET', '/v1/runs/shared-id', { auth: a.apiKey });
    expect(mine.text).not.toContain('evil');
  });
});

describe('enrichment', () => {
  it('lags without losing anything: ingestion accepts while enrichment is stopped, then it catches up', async () => {
    const a = await t.seedOrg();
    const base = Date.now() - 3_600_000;
    for (let i = 0; i < 20; i++) {
      const r = await run(a, {
        agent: i % 2 ? 'Odd' : 'Even',
        status: i % 5 === 0 ? 'failed' : 'completed',
        started_at: iso(base + i * 1000),
        ended_at: iso(base + i * 1000 + 100 * (i + 1)),
        usage: { model: 'gpt-4o', input_tokens: 1000, output_tokens: 0 },
      });
      expect(r.status).toBe(202);
    }
    expect((await t.request('GET', '/v1/stats/overview', { auth: a.apiKey })).body.runs).toBe(0);
    await enrich();
    const o = await t.request('GET', '/v1/stats/overview', { auth: a.apiKey });
    expect(o.body).toMatchObject({ runs: 20, failed: 4, completed: 16 });
    expect(o.body.success_rate).toBeCloseTo(0.8);
    expect(o.body.cost_usd).toBeCloseTo(20 * 0.0025, 9);
    expect(o.body.top_agents.map((x: { name: string }) => x.name).sort()).toEqual(['Even', 'Odd']);
    const s = await t.request('GET', '/v1/stats/agents/Even?bucket=hour', { auth: a.apiKey });
    expect(s.body.runs).toBe(10);
    // Even agents ran i = 0,2,…,18 with latency 100·(i+1): 100…1900, p95 within the sketch's 15%.
    expect(s.body.latency_avg_ms).toBe(1000);
    expect(s.body.latency_p95_ms).toBeGreaterThanOrEqual(1700);
    expect(s.body.latency_p95_ms).toBeLessThanOrEqual(1900 * 1.15);
    expect(s.body.latest_runs).toHaveLength(10);
  });
});

describe('GET /v1/runs', () => {
  it('filters, searches plain text safely, and pages with a cursor', async () => {
    const a = await t.seedOrg();
    const base = Date.now() - 100_000;
    for (let i = 0; i < 5; i++)
      await run(a, {
        run_id: `q-${i}`,
        agent: i < 3 ? 'Alpha' : 'Beta',
        status: i === 4 ? 'failed' : 'completed',
        started_at: iso(base + i * 1000),
        ended_at: iso(base + i * 1000 + 5),
        external_ref: `order-${1000 + i}`,
        input: { text: i === 2 ? 'the quick mango shipment' : 'nothing here' },
      });
    await enrich();
    const ids = async (qs: string) =>
      (await t.request('GET', `/v1/runs?${qs}`, { auth: a.apiKey })).body.data.map((r: { id: string }) => r.id);
    expect(await ids('agent=Beta')).toEqual(['q-4', 'q-3']);
    expect(await ids('status=failed')).toEqual(['q-4']);
    expect(await ids('q=mango')).toEqual(['q-2']);
    expect(await ids('q=order-1003')).toEqual(['q-3']);
    expect(await ids(`from=${encodeURIComponent(iso(base + 3000))}`)).toEqual(['q-4', 'q-3']);
    for (const hostile of ['"', 'mango OR nothing', 'NEAR(a b)', '*', "'; drop table runs; --", 'a:b']) {
      const r = await t.request('GET', `/v1/runs?q=${encodeURIComponent(hostile)}`, { auth: a.apiKey });
      expect(r.status, hostile).toBe(200);
    }
    expect(await ids(`q=${encodeURIComponent('mango OR nothing')}`)).toEqual([]); // words, not operators
    const p1 = await t.request('GET', '/v1/runs?limit=2', { auth: a.apiKey });
    const p2 = await t.request('GET', `/v1/runs?limit=2&cursor=${p1.body.next_cursor}`, { auth: a.apiKey });
    const p3 = await t.request('GET', `/v1/runs?limit=2&cursor=${p2.body.next_cursor}`, { auth: a.apiKey });
    expect([...p1.body.data, ...p2.body.data, ...p3.body.data].map((r: { id: string }) => r.id)).toEqual([
      'q-4',
      'q-3',
      'q-2',
      'q-1',
      'q-0',
    ]);
    expect(p3.body.next_cursor).toBeNull();
    expect((await t.request('GET', '/v1/runs?cursor=garbage', { auth: a.apiKey })).status).toBe(400);
  });
});

describe('event durations', () => {
  it('keeps a fractional duration_ms as whole milliseconds (an integer column on PostgreSQL)', async () => {
    const a = await seed();
    const t0 = Date.now() - 5000;
    const r = await events(a, [
      {
        run_id: 'run-durations',
        agent: 'Timer',
        type: 'tool_called',
        timestamp: iso(t0),
        duration_ms: 12.6,
        payload: {},
      },
      { run_id: 'run-durations', type: 'tool_result', timestamp: iso(t0 + 20), duration_ms: 0.2, payload: {} },
    ]);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ accepted: 2, rejected: [] });
    await t.hub.ctx.ingestion.drain();
    const stored = await t.request('GET', '/v1/runs/run-durations', { auth: a.apiKey });
    expect(stored.body.events.map((e: { duration_ms: number }) => e.duration_ms)).toEqual([13, 0]);
  });
});

tenantIsolationSuite('runs', () => t, {
  create: async (a) => {
    const r = await run(a, {
      agent: 'IsoAgent',
      status: 'completed',
      started_at: iso(Date.now()),
      input: { secret: 'iso-marker-123' },
    });
    await t.hub.ctx.ingestion.drain();
    return { id: r.body.run_id };
  },
  routes: (id) => [['GET', `/v1/runs/${id}`]],
  list: ['/v1/runs', '/v1/runs?q=iso-marker-123'],
  marker: () => 'iso-marker-123',
});
