/**
 * Findings 3 and 9 of the security review, reproduced as reported against a hub on a real port:
 * - 1.3 MB of gzip inflated to ~80 MB of OTLP (≈200k spans), fourteen at once from one `ingest` key
 *   took the hub down. Now the inflated size is capped at the body limit (413, nothing stored), every
 *   export is capped in spans, events, attributes and value depth (413 naming the cap), and at most 4
 *   exports of one org are decoded at once (429 Retry-After), without touching other orgs.
 * - JSON nested 200k deep answered 500 (stack overflow): now 400 naming the body.
 */
import http from 'node:http';
import { createGzip } from 'node:zlib';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ORG_CONCURRENCY } from '../modules/ingestion/org-concurrency.ts';
import { OTLP_LIMITS } from '../modules/ingestion/otlp/otlp-bounds.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';

let t: TestHub;
let base: string;
let bodyLimit: number;
beforeAll(async () => {
  t = await createTestHub();
  base = await t.hub.app.listen({ port: 0, host: '127.0.0.1' });
  bodyLimit = t.hub.ctx.config.bodyLimitBytes;
});
afterAll(async () => t?.close());

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function post(org: SeededOrg, path: string, body: Uint8Array | string, headers: Record<string, string>) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${org.apiKey}`, ...headers },
    // A copy on its own ArrayBuffer: fetch's BodyInit does not take views of a SharedArrayBuffer-like.
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers } satisfies Answer;
}

const otlpJson = (org: SeededOrg, body: Uint8Array | string, gzip = false) =>
  post(org, '/v1/traces', body, {
    'content-type': 'application/json',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
const otlpProto = (org: SeededOrg, body: Uint8Array) =>
  post(org, '/v1/traces', body, { 'content-type': 'application/x-protobuf' });

async function runCount(org: SeededOrg) {
  const res = await t.request('GET', '/v1/runs?limit=200', { auth: org.apiKey });
  expect(res.status).toBe(200);
  return (res.body.data as unknown[]).length;
}

/**
 * The reported bomb: OTLP JSON of ~210k GenAI spans (~80 MB, ids vary so it compresses like real data),
 * gzipped as it is generated so the test never holds the inflated text.
 */
async function gzipBomb(spans = 210_000): Promise<Buffer> {
  const gzip = createGzip({ level: 6 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gzip.on('end', resolve));
  const t0 = BigInt(Date.now()) * 1_000_000n;
  gzip.write('{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bomb"}}]},');
  gzip.write('"scopeSpans":[{"scope":{"name":"bomb"},"spans":[');
  let chunk: string[] = [];
  for (let i = 0; i < spans; i++) {
    const id = i.toString(16).padStart(16, '0');
    chunk.push(
      `${i ? ',' : ''}{"traceId":"${id}${id}","spanId":"${id}","name":"chat gpt-4o-mini","kind":3,` +
        `"startTimeUnixNano":"${t0 + BigInt(i)}","endTimeUnixNano":"${t0 + BigInt(i) + 1000n}",` +
        `"attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},` +
        `{"key":"gen_ai.agent.name","value":{"stringValue":"BombBot"}},` +
        `{"key":"gen_ai.usage.input_tokens","value":{"intValue":"${i % 5000}"}}],"status":{}}`,
    );
    if (chunk.length === 5000) {
      gzip.write(chunk.join(''));
      chunk = [];
    }
  }
  gzip.end(`${chunk.join('')}]}]}]}`);
  await done;
  return Buffer.concat(out);
}

// --- Protobuf written field by field (the OpenTelemetry SDK cannot emit nested or oversized values) ----

const varint = (n: number) => {
  const bytes: number[] = [];
  while (n > 127) {
    bytes.push((n & 127) | 128);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
};
/** A length-delimited field. */
const ld = (field: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);
};
const str = (field: number, s: string) => ld(field, Buffer.from(s));
const keyValue = (key: string, anyValue: Buffer) => Buffer.concat([str(1, key), ld(2, anyValue)]);
/** A span (ExportTraceServiceRequest > ResourceSpans > ScopeSpans > Span) with these extra fields. */
const exportWith = (...spans: Buffer[][]) =>
  ld(1, ld(2, ...spans.map((fields) => ld(2, ld(1, Buffer.alloc(16, 1)), ld(2, Buffer.alloc(8, 2)), ...fields))));
/** An AnyValue holding `levels` arrays around a string. */
function nested(levels: number): Buffer {
  let value = str(1, 'leaf');
  for (let i = 0; i < levels; i++) value = ld(5, ld(1, value));
  return value;
}

/** Real SDK spans, serialized by the exporters' own serializer. */
function sdkExport(agent: string, copies = 1): Uint8Array {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bounds-test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('bounds-test');
  const root = tracer.startSpan(`invoke_agent ${agent}`, {
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agent },
  });
  const chat = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' },
    },
    trace.setSpan(context.active(), root),
  );
  chat.end();
  root.end();
  const spans: ReadableSpan[] = memory.getFinishedSpans();
  return ProtobufTraceSerializer.serializeRequest(Array.from({ length: copies }, () => spans).flat())!;
}

describe('gzip bombs (finding 3)', () => {
  let bomb: Buffer;
  beforeAll(async () => {
    bomb = await gzipBomb();
  }, 60_000);

  it('the reported bomb is refused with 413 naming the cap, quickly, and nothing is stored', async () => {
    expect(bomb.length).toBeLessThan(bodyLimit); // it passes the body limit: only the inflated size stops it
    expect(bomb.length).toBeGreaterThan(500_000);
    const org = await t.seedOrg();
    const started = Date.now();
    const res = await otlpJson(org, bomb, true);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('payload_too_large');
    expect(res.body.detail).toContain(`at most ${bodyLimit} bytes`);
    expect(await runCount(org)).toBe(0);
  });

  it('fourteen at once from one key: all refused, RSS stays under 500 MB, /healthz answers meanwhile', async () => {
    const org = await t.seedOrg();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const health: number[] = [];
    let sending = true;
    const healthLoop = (async () => {
      while (sending) {
        const started = Date.now();
        const res = await fetch(`${base}/healthz`);
        expect(res.status).toBe(200);
        health.push(Date.now() - started);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const answers = await Promise.all(Array.from({ length: 14 }, () => otlpJson(org, bomb, true)));
    sending = false;
    await healthLoop;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    for (const a of answers) {
      expect([413, 429]).toContain(a.status);
      if (a.status === 429) expect(a.headers.get('retry-after')).toBe('1');
    }
    expect(answers.some((a) => a.status === 413)).toBe(true);
    expect(peak).toBeLessThan(500 * 1024 * 1024);
    expect(peak - rssBefore).toBeLessThan(200 * 1024 * 1024);
    expect(health.length).toBeGreaterThan(0);
    expect(Math.max(...health)).toBeLessThan(2000);
    expect(await runCount(org)).toBe(0);
    // The slots were given back: the same key is served again.
    expect((await otlpProto(org, sdkExport('AfterBombBot'))).status).toBe(200);
  }, 60_000);
});

describe('caps per export (413 naming the cap, nothing stored)', () => {
  it('spans: a real SDK export one span over the cap', async () => {
    const org = await t.seedOrg();
    const body = sdkExport('ManySpansBot', Math.ceil((OTLP_LIMITS.maxSpans + 1) / 2));
    expect(body.length).toBeLessThan(bodyLimit);
    const res = await otlpProto(org, body);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(res.body.detail).toContain(`a request may carry at most ${OTLP_LIMITS.maxSpans} spans`);
    expect(await runCount(org)).toBe(0);
  });

  it('attribute depth: protobuf and JSON values nested one level past the cap; at the cap they pass', async () => {
    const org = await t.seedOrg();
    const depth = OTLP_LIMITS.maxValueDepth;
    const deep = await otlpProto(org, exportWith([ld(9, keyValue('deep', nested(depth + 1)))]));
    expect(deep.status).toBe(413);
    expect(deep.body.errors[0].message).toBe(`attribute values may nest at most ${depth} deep`);

    let value: unknown = { stringValue: 'leaf' };
    for (let i = 0; i <= depth; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
    const json = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'a'.repeat(32),
                  spanId: 'b'.repeat(16),
                  startTimeUnixNano: '1700000000000000000',
                  attributes: [{ key: 'deep', value }],
                },
              ],
            },
          ],
        },
      ],
    });
    const deepJson = await otlpJson(org, json);
    expect(deepJson.status).toBe(413);
    expect(deepJson.body.detail).toContain(`nest at most ${depth} deep`);

    // At the cap, the export is read (the span itself has no times, so it comes back as rejected).
    const atCap = await otlpProto(org, exportWith([ld(9, keyValue('deep', nested(depth)))]));
    expect(atCap.status).toBe(200);
    expect(await runCount(org)).toBe(0);
  });

  it('items: span events and attributes per span past their caps; REST keeps its 1000-event cap', async () => {
    const org = await t.seedOrg();
    const emptyEvent = ld(11);
    const events = await otlpProto(
      org,
      exportWith(Array.from({ length: OTLP_LIMITS.maxEvents + 1 }, () => emptyEvent)),
    );
    expect(events.status).toBe(413);
    expect(events.body.detail).toContain(`a request may carry at most ${OTLP_LIMITS.maxEvents} span events`);

    const attr = ld(9, keyValue('k', str(1, 'v')));
    const attrs = await otlpProto(org, exportWith(Array.from({ length: OTLP_LIMITS.maxAttributes + 1 }, () => attr)));
    expect(attrs.status).toBe(413);
    expect(attrs.body.detail).toContain(`a span may carry at most ${OTLP_LIMITS.maxAttributes} attributes`);
    expect(await runCount(org)).toBe(0);

    const ts = new Date().toISOString();
    const many = Array.from({ length: 1001 }, () => ({ run_id: 'r', type: 'log', timestamp: ts, payload: {} }));
    const rest = await post(org, '/v1/ingest/events', JSON.stringify({ events: many }), {
      'content-type': 'application/json',
    });
    expect(rest.status).toBe(400);
    expect(rest.body.detail).toMatch(/events.*1000/);
  });

  it('a normal export is still taken, in both encodings', async () => {
    const org = await t.seedOrg();
    const res = await otlpProto(org, sdkExport('NormalBot'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-protobuf');
    expect(await runCount(org)).toBe(1);
  });
});

/**
 * Starts a POST that sends its headers and part of its body, then waits: the hub has authenticated it and
 * taken its org's slot, and holds it until `finish()` (or the connection is dropped).
 */
function heldRequest(org: SeededOrg, path: string, contentType: string, declaredBytes: number) {
  const req = http.request(`${base}${path}`, {
    method: 'POST',
    // A connection of its own: a kept-alive socket from an earlier held request may have been closed by
    // the hub after its 400, and a request written on it would fail instead of holding a slot.
    agent: false,
    headers: {
      authorization: `Bearer ${org.apiKey}`,
      'content-type': contentType,
      'content-length': String(declaredBytes),
    },
  });
  const answered = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
  });
  req.write(' ');
  return {
    /** The status the hub answered with (-1: the connection failed). */
    answered,
    finish() {
      req.end(' '.repeat(declaredBytes - 1));
      return answered;
    },
  };
}

/**
 * Takes every slot of the org: starts one held request more than the slots and waits for the one the hub
 * refuses (429), so the others hold theirs until `finish()`. Probing with separate requests raced the held
 * ones: a probe that came in first took a slot for a moment, a held request was refused meanwhile, and
 * every later probe found a slot free.
 */
async function holdEverySlot(org: SeededOrg, path: string, declaredBytes: number) {
  const held = Array.from({ length: DEFAULT_ORG_CONCURRENCY + 1 }, () =>
    heldRequest(org, path, 'application/json', declaredBytes),
  );
  const refused = await Promise.race(held.map((h, i) => h.answered.then((status) => ({ status, i }))));
  expect(refused.status).toBe(429);
  return held.filter((_, i) => i !== refused.i);
}

describe('per-org concurrency', () => {
  it(`OTLP: the ${DEFAULT_ORG_CONCURRENCY + 1}th export of one org at once is 429 with Retry-After; another org is served`, async () => {
    const [a, b] = [await t.seedOrg(), await t.seedOrg()];
    const held = await holdEverySlot(a, '/v1/traces', 1000);
    const limited = await otlpJson(a, '{}');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body.code).toBe('rate_limited');
    expect(limited.body.detail).toContain(`At most ${DEFAULT_ORG_CONCURRENCY} ingestion requests`);
    expect((await otlpProto(b, sdkExport('OtherOrgBot'))).status).toBe(200);

    // Completed (here: 400, whitespace is not JSON) or failed, the slots come back.
    for (const status of await Promise.all(held.map((h) => h.finish()))) expect(status).toBe(400);
    expect((await otlpJson(a, '{}')).status).toBe(200);
  });

  it('REST: large batches take slots, small ones (the agents’ usual posts) never wait', async () => {
    const [a, b] = [await t.seedOrg(), await t.seedOrg()];
    const big = 100 * 1024;
    const held = await holdEverySlot(a, '/v1/ingest/events', big);
    const largeBody = JSON.stringify({ events: [], pad: 'x'.repeat(big) });
    const send = (org: SeededOrg, body: string) =>
      post(org, '/v1/ingest/events', body, { 'content-type': 'application/json' });
    const limited = await send(a, largeBody);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await send(a, JSON.stringify({ events: [] }))).status).toBe(202);
    expect((await send(b, largeBody)).status).toBe(202);
    for (const status of await Promise.all(held.map((h) => h.finish()))) expect(status).toBe(400);
    expect((await send(a, largeBody)).status).toBe(202);
  });
});

describe('JSON depth (finding 9)', () => {
  it('a body nested 200k deep is 400 naming the body, on every JSON route; normal JSON is unaffected', async () => {
    const org = await t.seedOrg();
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const json = { 'content-type': 'application/json' };
    const run = `{"agent":"DeepBot","status":"running","started_at":"${new Date().toISOString()}","input":${deep}}`;
    for (const [path, body] of [
      ['/v1/ingest/run', run],
      ['/v1/ingest/events', `{"events":[${deep}]}`],
      ['/v1/agents', deep],
    ]) {
      const res = await post(org, path, body, json);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors).toEqual([{ path: '(body)', message: 'nested deeper than 64 levels' }]);
    }
    // Brackets inside strings do not count; 60 levels of real nesting are fine.
    let input: unknown = { text: '[[[[{{{{'.repeat(100) };
    for (let i = 0; i < 60; i++) input = { nested: input };
    const ok = await post(
      org,
      '/v1/ingest/run',
      JSON.stringify({ agent: 'DeepBot', status: 'running', started_at: new Date().toISOString(), input }),
      json,
    );
    expect(ok.status).toBe(202);
    expect(await runCount(org)).toBe(1);
    // Fastify's own checks still apply behind the scan.
    const poisoned = await post(org, '/v1/ingest/events', '{"events":[],"__proto__":{"x":1}}', json);
    expect(poisoned.status).toBe(400);
  });
});
