/**
 * Finding 7: ingest keys were org-wide. A key could act as any agent or register a new name, so a paused
 * or restricted agent escaped by renaming itself, and the key read every approval's action and
 * callback URL. Here, through HTTP on a real database: a key bound with `agent_ids` acts only as its
 * agents (ingest, events, OTLP, evaluate; by name or id, on a cache miss and a cache hit), registers
 * nothing, and reads only the approvals it asked for; an unbound ingest-only key reads only its own too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => {
  await t?.close();
});

async function agent(a: SeededOrg, name: string): Promise<string> {
  const r = await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name, environment: 'prod' } });
  expect(r.status).toBe(201);
  return r.body.id;
}

async function key(a: SeededOrg, body: object) {
  return t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: 'agent key', ...body } });
}

const run = (auth: string, agentName: string) =>
  t.request('POST', '/v1/ingest/run', {
    auth,
    body: { agent: agentName, status: 'completed', started_at: new Date().toISOString() },
  });

const evaluate = (auth: string, agentName: string, action: object = { type: 'lookup' }) =>
  t.request('POST', '/v1/policy/evaluate', { auth, body: { agent: agentName, action } });

const agentNames = async (a: SeededOrg) =>
  ((await t.request('GET', '/v1/agents', { auth: a.apiKey })).body.data as { name: string }[]).map((x) => x.name);

async function boundOrg() {
  const a = await t.seedOrg();
  const alpha = await agent(a, 'Alpha');
  const beta = await agent(a, 'Beta');
  const created = await key(a, { scopes: ['ingest'], agent_ids: [alpha] });
  expect(created.status).toBe(201);
  expect(created.body.agent_ids).toEqual([alpha]);
  return { a, alpha, beta, bound: created.body.key as string, boundId: created.body.id as string };
}

describe('creating a key bound to agents', () => {
  it('lists the binding, and refuses unknown agents, other orgs’ agents and wide scopes (400 on agent_ids)', async () => {
    const { a, alpha, boundId } = await boundOrg();
    const list = await t.request('GET', '/v1/api-keys', { auth: a.owner });
    expect(list.body.data.find((k: { id: string }) => k.id === boundId).agent_ids).toEqual([alpha]);
    expect(list.body.data.find((k: { id: string }) => k.id !== boundId).agent_ids).toBeNull();

    const other = await t.seedOrg();
    const foreign = await agent(other, 'Foreign');
    for (const body of [
      { scopes: ['ingest'], agent_ids: ['agt_does_not_exist'] },
      { scopes: ['ingest'], agent_ids: [foreign] },
      { scopes: ['ingest', 'admin'], agent_ids: [alpha] },
      { scopes: ['read'], agent_ids: [alpha] },
    ]) {
      const r = await key(a, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.body.code).toBe('validation_failed');
      expect(r.body.errors[0].path).toBe('agent_ids');
    }
  });
});

describe('a bound key acts only as its agents', () => {
  it('ingests and evaluates as its own agent, by name or id, again and again (cache hits)', async () => {
    const { alpha, bound } = await boundOrg();
    for (let i = 0; i < 2; i++) {
      expect((await run(bound, 'Alpha')).status).toBe(202);
      expect((await run(bound, alpha)).status).toBe(202);
      expect((await evaluate(bound, 'Alpha')).body.decision).toBe('ALLOW');
    }
  });

  it('another agent, by name or id: 403 naming it, whether or not the hub has it cached', async () => {
    const { a, beta, bound } = await boundOrg();
    // First while nothing is cached, then after the org's full key resolved Beta (a cache hit).
    for (let pass = 0; pass < 2; pass++) {
      for (const name of ['Beta', beta]) {
        const r = await run(bound, name);
        expect(r.status).toBe(403);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(r.body.code).toBe('forbidden');
        expect(r.body.detail).toContain(name);
        const e = await evaluate(bound, name);
        expect(e.status).toBe(403);
        expect(e.body.detail).toContain(name);
      }
      expect((await run(a.apiKey, 'Beta')).status).toBe(202);
      expect((await evaluate(a.apiKey, 'Beta')).status).toBe(200);
    }
  });

  it('a new name is refused and registers nothing (ingest, events, OTLP, evaluate)', async () => {
    const { a, bound } = await boundOrg();
    const r = await run(bound, 'Alpha-renamed');
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain('Alpha-renamed');
    expect((await evaluate(bound, 'Alpha-renamed')).status).toBe(403);

    const events = await t.request('POST', '/v1/ingest/events', {
      auth: bound,
      body: {
        events: [
          {
            run_id: 'run_escape',
            agent: 'Gamma',
            type: 'tool_called',
            timestamp: new Date().toISOString(),
            payload: {},
          },
        ],
      },
    });
    expect(events.status).toBe(202);
    expect(events.body.accepted).toBe(0);
    expect(events.body.rejected[0].errors[0].message).toContain('Gamma');

    const now = BigInt(Date.now()) * 1_000_000n;
    const traces = await t.request('POST', '/v1/traces', {
      auth: bound,
      body: {
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: 'c1'.repeat(16),
                    spanId: 'd1'.repeat(8),
                    name: 'invoke_agent OtelEscape',
                    kind: 1,
                    startTimeUnixNano: String(now - 1_000_000_000n),
                    endTimeUnixNano: String(now),
                    attributes: [
                      { key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } },
                      { key: 'gen_ai.agent.name', value: { stringValue: 'OtelEscape' } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    expect(traces.status).toBe(200);
    expect(Number(traces.body.partialSuccess?.rejectedSpans)).toBeGreaterThan(0);

    expect((await agentNames(a)).sort()).toEqual(['Alpha', 'Beta']);
  });

  it('a paused agent cannot escape its pause under another name', async () => {
    const { a, alpha, bound } = await boundOrg();
    expect((await t.request('POST', `/v1/agents/${alpha}/pause`, { auth: a.apiKey, body: {} })).status).toBe(200);
    expect((await evaluate(bound, 'Alpha')).body.decision).toBe('BLOCK');
    expect((await evaluate(bound, 'Alpha 2')).status).toBe(403);
    expect((await evaluate(bound, 'Beta')).status).toBe(403);
    expect(await agentNames(a)).not.toContain('Alpha 2');
  });

  it("cannot write into another agent's run by its id: not the run, not events naming no agent", async () => {
    const { a, beta, bound } = await boundOrg();
    const betaRun = `run-of-beta-${Date.now()}`;
    const started = new Date().toISOString();
    const made = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: { run_id: betaRun, agent: 'Beta', status: 'running', started_at: started, input: 'the real input' },
    });
    expect(made.status).toBe(202);

    // The run again, as the key's own agent: it would update Beta's run and move it to Alpha.
    const takeover = await t.request('POST', '/v1/ingest/run', {
      auth: bound,
      body: { run_id: betaRun, agent: 'Alpha', status: 'completed', started_at: started, output: 'forged' },
    });
    expect(takeover.status).toBe(403);
    expect(takeover.body.detail).toMatch(betaRun);

    const events = await t.request('POST', '/v1/ingest/events', {
      auth: bound,
      body: {
        events: [
          { run_id: betaRun, type: 'tool_called', timestamp: started, payload: { tool: 'forged' } },
          { run_id: betaRun, agent: 'Alpha', type: 'run_failed', timestamp: started, payload: {} },
          { run_id: `own-${betaRun}`, agent: 'Alpha', type: 'run_started', timestamp: started, payload: {} },
        ],
      },
    });
    expect(events.status).toBe(202);
    expect(events.body.accepted).toBe(1);
    expect(
      events.body.rejected.map((r: { index: number; errors: { path: string }[] }) => [r.index, r.errors[0]!.path]),
    ).toEqual([
      [0, 'run_id'],
      [1, 'run_id'],
    ]);
    await t.hub.ctx.ingestion.drain();
    const stored = await t.request('GET', `/v1/runs/${betaRun}`, { auth: a.apiKey });
    expect(stored.body).toMatchObject({ agent_id: beta, status: 'running', input: 'the real input' });
    expect(stored.body.events).toHaveLength(0);
  });
});

describe('agents’ keys read only the approvals they asked for', () => {
  it('bound and unbound ingest-only keys list and get only their own; the full key sees all', async () => {
    const { a, bound } = await boundOrg();
    await t.requireApprovalFor(a);
    const ingestKey = (await key(a, { scopes: ['ingest'] })).body.key as string;
    const refund = (auth: string, agentName: string) =>
      evaluate(auth, agentName, { type: 'refund', amount: Math.random() });

    const mine = (await refund(bound, 'Alpha')).body.approval_id as string;
    const byFull = (await refund(a.apiKey, 'Beta')).body.approval_id as string;
    const byIngest = (await refund(ingestKey, 'Beta')).body.approval_id as string;
    expect([mine, byFull, byIngest].every((id) => id?.startsWith('apr_'))).toBe(true);

    const ids = async (auth: string) =>
      ((await t.request('GET', '/v1/approvals', { auth })).body.data as { id: string }[]).map((x) => x.id).sort();
    expect(await ids(bound)).toEqual([mine]);
    expect(await ids(ingestKey)).toEqual([byIngest]);
    expect(await ids(a.apiKey)).toEqual([mine, byFull, byIngest].sort());

    for (const [auth, own, foreign] of [
      [bound, mine, byFull],
      [ingestKey, byIngest, mine],
    ] as const) {
      expect((await t.request('GET', `/v1/approvals/${own}`, { auth })).status).toBe(200);
      const other = await t.request('GET', `/v1/approvals/${foreign}`, { auth });
      expect(other.status).toBe(404);
      expect(other.text).not.toContain('refund');
      expect((await t.request('GET', `/v1/approvals/${foreign}?wait=1`, { auth })).status).toBe(404);
    }
  });
});
