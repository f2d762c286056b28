/**
 * The Langfuse-compatible routes through HTTP (`inject`) on a real database: Basic auth, per-item answers
 * of the batch API, idempotent retries, tenant isolation, and the bounds shared with /v1/traces. The real
 * Langfuse SDKs are exercised in test/drop-in/langfuse.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../../testing/test-hub.ts';

let t: TestHub;
let a: SeededOrg;
let b: SeededOrg;
beforeAll(async () => {
  t = await createTestHub({ HUB_BODY_LIMIT_MB: '1' });
  a = await t.seedOrg();
  b = await t.seedOrg();
});
afterAll(async () => t?.close());

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

function ingest(authorization: string | undefined, body: unknown) {
  return t.request('POST', '/api/public/ingestion', {
    auth: null,
    body,
    headers: authorization ? { authorization } : {},
  });
}

const T0 = Date.now() - 60_000;
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

/** What the `langfuse` v3 client sends for a trace with a generation (create + end), a tool span, an event and a score. */
function batchFor(traceId: string) {
  const gen = randomUUID();
  const tool = randomUUID();
  const item = (type: string, body: Record<string, unknown>, s: number) => ({
    id: randomUUID(),
    type,
    timestamp: at(s),
    body,
  });
  return [
    item(
      'trace-create',
      {
        id: traceId,
        name: 'answer-ticket',
        userId: 'user-7',
        sessionId: 'sess-1',
        input: { question: 'Where is my refund?' },
        tags: ['support'],
        metadata: { ticket: 42 },
        timestamp: at(0),
      },
      0,
    ),
    item(
      'generation-create',
      {
        id: gen,
        traceId,
        name: 'chat',
        model: 'gpt-4o-mini',
        input: [{ role: 'user', content: 'Where is my refund?' }],
        startTime: at(1),
      },
      1,
    ),
    item(
      'generation-update',
      {
        id: gen,
        traceId,
        output: { role: 'assistant', content: 'Refund sent.' },
        usageDetails: { input: 100, input_cached_tokens: 20, output: 8 },
        endTime: at(2),
      },
      2,
    ),
    item(
      'span-create',
      {
        id: tool,
        traceId,
        name: 'crm_lookup',
        metadata: { type: 'tool' },
        input: { id: 42 },
        output: { status: 'refunded' },
        startTime: at(2),
        endTime: at(3),
      },
      2,
    ),
    item('event-create', { id: randomUUID(), traceId, name: 'handoff-skipped', startTime: at(3) }, 3),
    item('score-create', { id: randomUUID(), traceId, name: 'helpfulness', value: 1 }, 4),
    item('sdk-log', { log: 'flushing' }, 4),
    item('trace-create', { id: traceId, output: { answer: 'Refund sent.' } }, 5),
  ];
}

describe('POST /api/public/ingestion', () => {
  it('maps a batch onto a run and its events, answers 207 per item, and a retried batch adds nothing', async () => {
    const traceId = randomUUID();
    const batch = batchFor(traceId);
    const res = await ingest(basic('support-bot', a.apiKey), { batch, metadata: { sdk_name: 'test' } });
    expect(res.status).toBe(207);
    expect(res.body.errors).toEqual([]);
    expect(res.body.successes).toHaveLength(batch.length);
    expect(res.body.successes[0]).toEqual({ id: batch[0]!.id, status: 201 });

    const run = await t.request('GET', `/v1/runs/${traceId}`, { auth: a.apiKey });
    expect(run.status).toBe(200);
    expect(run.body.agent_name).toBe('support-bot');
    expect(run.body.status).toBe('completed');
    expect(run.body.input).toEqual({ question: 'Where is my refund?' });
    expect(run.body.output).toEqual({ answer: 'Refund sent.' });
    expect(run.body.metadata).toMatchObject({
      source: 'langfuse',
      ticket: 42,
      langfuse: { name: 'answer-ticket', user_id: 'user-7', session_id: 'sess-1' },
    });
    expect(run.body.input_tokens).toBe(120);
    expect(run.body.output_tokens).toBe(8);
    expect(run.body.cost_usd).toBeGreaterThan(0);
    const types = run.body.events.map((e: any) => e.type).sort();
    expect(types).toEqual(['llm_call', 'log', 'log', 'tool_called', 'tool_result']);
    const llm = run.body.events.find((e: any) => e.type === 'llm_call');
    expect(llm.payload).toMatchObject({
      model: 'gpt-4o-mini',
      input_tokens: 120,
      cached_input_tokens: 20,
      output: { content: 'Refund sent.' },
      input: [{ role: 'user', content: 'Where is my refund?' }],
    });
    const score = run.body.events.find((e: any) => e.payload.kind === 'score');
    expect(score.payload).toMatchObject({ name: 'helpfulness', value: 1 });

    // The SDK retries a whole batch (a 5xx, a timeout): same ids, nothing new.
    const again = await ingest(basic('support-bot', a.apiKey), { batch });
    expect(again.status).toBe(207);
    const after = await t.request('GET', `/v1/runs/${traceId}`, { auth: a.apiKey });
    expect(after.body.events).toHaveLength(run.body.events.length);
    expect(after.body.input_tokens).toBe(120);
  });

  it('keeps the good items of a batch with a bad one, and names the bad one', async () => {
    const traceId = randomUUID();
    const batch = [
      ...batchFor(traceId).slice(0, 3),
      { id: 'bad-type', type: 'dataset-create', timestamp: at(1), body: {} },
      { id: 'no-body', type: 'span-create', timestamp: at(1) },
      { id: 'late-update', type: 'span-update', timestamp: at(1), body: { id: randomUUID(), output: 'x' } },
    ];
    const res = await ingest(basic('pk-lf-123', a.apiKey), { batch });
    expect(res.status).toBe(207);
    expect(res.body.successes.map((s: any) => s.id)).toEqual(batch.slice(0, 3).map((i) => i.id));
    expect(res.body.errors.map((e: any) => [e.id, e.status])).toEqual([
      ['no-body', 400],
      ['bad-type', 400],
      ['late-update', 400],
    ]);
    expect(res.body.errors[1].message).toMatch(/unsupported item type dataset-create/);
    const run = await t.request('GET', `/v1/runs/${traceId}`, { auth: a.apiKey });
    // A pk-lf- username names no agent: the trace's name does.
    expect(run.body.agent_name).toBe('answer-ticket');
    expect(run.body.events.map((e: any) => e.type)).toEqual(['llm_call']);
  });

  it('merges an update that comes in a later batch without counting the call twice', async () => {
    const traceId = randomUUID();
    const gen = randomUUID();
    const first = [
      { id: randomUUID(), type: 'trace-create', timestamp: at(0), body: { id: traceId, name: 'late-bot' } },
      {
        id: randomUUID(),
        type: 'generation-create',
        timestamp: at(1),
        body: { id: gen, traceId, model: 'gpt-4o-mini', startTime: at(1) },
      },
    ];
    const second = [
      {
        id: randomUUID(),
        type: 'generation-update',
        timestamp: at(3),
        body: { id: gen, traceId, usage: { input: 50, output: 5, unit: 'TOKENS' }, endTime: at(3), output: 'ok' },
      },
      { id: randomUUID(), type: 'trace-create', timestamp: at(4), body: { id: traceId, output: 'done' } },
    ];
    expect((await ingest(basic('pk-lf-1', a.apiKey), { batch: first })).body.errors).toEqual([]);
    expect((await ingest(basic('pk-lf-1', a.apiKey), { batch: second })).body.errors).toEqual([]);
    const run = await t.request('GET', `/v1/runs/${traceId}`, { auth: a.apiKey });
    expect(run.body.agent_name).toBe('late-bot');
    expect(run.body.output).toBe('done');
    expect(run.body.input_tokens).toBe(50);
    expect(run.body.output_tokens).toBe(5);
    // The later trace-create (an update) did not move the start to its own time.
    expect(Date.parse(run.body.started_at)).toBe(Date.parse(at(0)));
  });

  it('refuses missing, malformed and unknown credentials with 401 problem+json, and takes Bearer', async () => {
    const body = { batch: batchFor(randomUUID()) };
    for (const authz of [
      undefined,
      basic('pk-lf-1', 'sk-lf-not-a-hub-key'),
      basic('pk-lf-1', `ahk_${'x'.repeat(43)}`),
    ]) {
      const res = await ingest(authz, body);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('unauthenticated');
    }
    const bearer = await ingest(`Bearer ${a.apiKey}`, body);
    expect(bearer.status).toBe(207);
    expect(bearer.body.errors).toEqual([]);
  });

  it("never writes into another org: a key writes into its own org, even under the other's trace id", async () => {
    const traceId = randomUUID();
    await ingest(basic('a-bot', a.apiKey), { batch: batchFor(traceId) });
    const theirs = batchFor(traceId).map((i) =>
      i.type === 'trace-create' ? { ...i, body: { ...i.body, input: 'from org b' } } : i,
    );
    const res = await ingest(basic('b-bot', b.apiKey), { batch: theirs });
    expect(res.status).toBe(207);
    const mine = await t.request('GET', `/v1/runs/${traceId}`, { auth: a.apiKey });
    expect(mine.body.agent_name).toBe('a-bot');
    expect(mine.body.input).toEqual({ question: 'Where is my refund?' });
    expect(mine.body.events).toHaveLength(5);
    const other = await t.request('GET', `/v1/runs/${traceId}`, { auth: b.apiKey });
    expect(other.body.agent_name).toBe('b-bot');
    expect(other.body.input).toBe('from org b');
  });

  it('needs the ingest permission', async () => {
    const key = await t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: 'ro', scopes: ['read'] } });
    const res = await ingest(basic('pk-lf-1', key.body.key), { batch: batchFor(randomUUID()) });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('refuses a body that is not a batch, too many items, the wrong content type and an oversized body', async () => {
    const notBatch = await ingest(basic('x', a.apiKey), { items: [] });
    expect(notBatch.status).toBe(400);
    expect(notBatch.headers['content-type']).toMatch(/application\/problem\+json/);

    const many = Array.from({ length: 1001 }, () => ({ id: randomUUID(), type: 'sdk-log', body: {} }));
    const tooMany = await ingest(basic('x', a.apiKey), { batch: many });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.code).toBe('payload_too_large');

    const text = await t.request('POST', '/api/public/ingestion', {
      auth: null,
      raw: 'batch',
      headers: { authorization: basic('x', a.apiKey), 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(400);
    expect(text.body.code).toBe('validation_failed');
    expect(text.headers['content-type']).toMatch(/application\/problem\+json/);

    const big = await ingest(basic('x', a.apiKey), {
      batch: [{ id: 'x', type: 'sdk-log', body: { log: 'x'.repeat(1_100_000) } }],
    });
    expect(big.status).toBe(413);
    expect(big.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});

describe('POST /api/public/otel/v1/traces', () => {
  const url = '/api/public/otel/v1/traces';
  const hex = (n: number) => randomUUID().replace(/-/g, '').padEnd(n, '0').slice(0, n);

  it('maps langfuse.* attributes, and a Basic username that is not a Langfuse key names the agent', async () => {
    const traceId = hex(32);
    const root = hex(16);
    const ns = (s: number) => String((Date.now() - 60_000 + s * 1000) * 1e6);
    const attr = (key: string, value: string | number) => ({
      key,
      value: typeof value === 'number' ? { intValue: value } : { stringValue: value },
    });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [attr('service.name', 'unknown_service:node')] },
          scopeSpans: [
            {
              scope: { name: 'langfuse-sdk' },
              spans: [
                {
                  traceId,
                  spanId: root,
                  name: 'handle-ticket',
                  startTimeUnixNano: ns(0),
                  endTimeUnixNano: ns(3),
                  attributes: [attr('langfuse.trace.input', '{"q":"refund?"}'), attr('user.id', 'u-1')],
                },
                {
                  traceId,
                  spanId: hex(16),
                  parentSpanId: root,
                  name: 'chat',
                  startTimeUnixNano: ns(1),
                  endTimeUnixNano: ns(2),
                  attributes: [
                    attr('langfuse.observation.type', 'generation'),
                    attr('langfuse.observation.model.name', 'gpt-4o-mini'),
                    attr('langfuse.observation.usage_details', '{"input":300,"output":12}'),
                    attr('langfuse.observation.input', '[{"role":"user","content":"refund?"}]'),
                    attr('langfuse.observation.output', '{"role":"assistant","content":"Sent."}'),
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await t.request('POST', url, {
      auth: null,
      body,
      headers: { authorization: basic('ticket-bot', a.apiKey) },
    });
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess ?? {}).toEqual({});
    const run = await t.request('GET', `/v1/runs/otel_${traceId}`, { auth: a.apiKey });
    expect(run.status).toBe(200);
    expect(run.body.agent_name).toBe('ticket-bot');
    expect(run.body.input).toEqual({ q: 'refund?' });
    expect(run.body.input_tokens).toBe(300);
    const llm = run.body.events.find((e: any) => e.type === 'llm_call');
    expect(llm.payload).toMatchObject({ model: 'gpt-4o-mini', output_tokens: 12 });
    expect(JSON.stringify(llm.payload.output_messages)).toContain('Sent.');
  });

  it('answers problem+json to a wrong content type, broken protobuf, an oversized body and a foreign key', async () => {
    const auth = { authorization: basic('pk-lf-1', a.apiKey) };
    const wrongType = await t.request('POST', url, {
      auth: null,
      raw: 'x',
      headers: { ...auth, 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.code).toBe('validation_failed');
    expect(wrongType.headers['content-type']).toMatch(/application\/problem\+json/);

    const broken = await t.request('POST', url, {
      auth: null,
      raw: '\u0008\u00ff\u00ff\u00ff\u00ff\u00ff',
      headers: { ...auth, 'content-type': 'application/x-protobuf' },
    });
    expect(broken.status).toBe(400);
    expect(broken.headers['content-type']).toMatch(/application\/problem\+json/);

    const big = await t.request('POST', url, {
      auth: null,
      raw: JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(1_100_000) }),
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(big.status).toBe(413);
    expect(big.headers['content-type']).toMatch(/application\/problem\+json/);

    const wrongKey = await t.request('POST', url, {
      auth: null,
      body: { resourceSpans: [] },
      headers: { authorization: basic('pk-lf-1', `ahk_${'y'.repeat(43)}`) },
    });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.code).toBe('unauthenticated');
  });
});

describe('rate limits', () => {
  it("count the Langfuse paths in the key's ingestion bucket, like /v1/traces (429 with Retry-After)", async () => {
    const limited = await createTestHub({ RATE_LIMIT_INGEST_PER_MINUTE: '3' });
    try {
      const org = await limited.seedOrg();
      const post = () =>
        limited.request('POST', '/api/public/ingestion', {
          auth: null,
          body: { batch: [] },
          headers: { authorization: basic('pk-lf-x', org.apiKey) },
        });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await post()).status);
      expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
      const refused = await post();
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
