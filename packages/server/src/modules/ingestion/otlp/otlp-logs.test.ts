/**
 * `POST /v1/logs` through the app: bodies serialized by the real OpenTelemetry SDK (sdk-logs records,
 * otlp-transformer's protobuf and JSON serializers), a real database, and the runs API to read back.
 */
import { gzipSync } from 'node:zlib';
import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import type { AnyValueMap } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  // A 1 MB body limit keeps the oversized cases small.
  t = await createTestHub({ HUB_BODY_LIMIT_MB: '1' });
});
afterAll(async () => t?.close());

/** One chat call as @opentelemetry/instrumentation-openai records it: a span, and its messages as logs. */
function chatCall(service: string, prompt: string, answer: string) {
  const spans = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(spans)],
  }).getTracer('test');
  const logs = new InMemoryLogRecordExporter();
  const logger = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    processors: [new SimpleLogRecordProcessor({ exporter: logs })],
  }).getLogger('test');
  const span: Span = tracer.startSpan('chat gpt-4o-mini', {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 40,
    },
  });
  const ctx = trace.setSpan(context.active(), span);
  const emit = (name: string, body: AnyValueMap) =>
    logger.emit({ context: ctx, attributes: { 'event.name': name, 'gen_ai.system': 'openai' }, body });
  emit('gen_ai.system.message', { content: 'You are a terse assistant.' });
  emit('gen_ai.user.message', { content: prompt });
  emit('gen_ai.choice', { finish_reason: 'stop', index: 0, message: { content: answer } });
  span.end();
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    spanBytes: () => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans.getFinishedSpans())!),
    logRecords: () => logs.getFinishedLogRecords(),
    /** A plain (non-GenAI) log record in the same span. */
    plain: (text: string) => logger.emit({ context: ctx, body: text, severityText: 'INFO' }),
  };
}

const protoLogs = (records: Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0]) =>
  Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!);
const jsonLogs = (records: Parameters<typeof JsonLogsSerializer.serializeRequest>[0]) =>
  Buffer.from(JsonLogsSerializer.serializeRequest(records)!);

function post(
  path: '/v1/logs' | '/v1/traces',
  payload: Buffer | string,
  headers: Record<string, string>,
  key: string | null,
) {
  return t.hub.app.inject({
    method: 'POST',
    url: path,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    payload,
  });
}
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

async function runDetail(org: SeededOrg, id: string) {
  const res = await t.request('GET', `/v1/runs/${id}`, { auth: org.apiKey });
  return res as {
    status: number;
    body: {
      status: string;
      agent_name: string;
      input: unknown;
      output: unknown;
      input_tokens: number;
      events: Array<{ id: string; type: string; parent_id: string | null; payload: Record<string, unknown> }>;
    };
  };
}

describe('POST /v1/logs', () => {
  it('protobuf logs after the span: content events under the llm_call, the run gets input and output', async () => {
    const org = await t.seedOrg();
    const call = chatCall('LogsAfterBot', 'Where is parcel kestrel-9?', 'It left the depot at noon.');
    expect((await post('/v1/traces', call.spanBytes(), PROTO, org.apiKey)).statusCode).toBe(200);
    const res = await post('/v1/logs', protoLogs(call.logRecords()), PROTO, org.apiKey);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-protobuf');
    expect(ProtobufLogsSerializer.deserializeResponse(res.rawPayload).partialSuccess?.rejectedLogRecords ?? 0).toBe(0);

    const run = await runDetail(org, `otel_${call.traceId}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ agent_name: 'LogsAfterBot', status: 'completed', input_tokens: 1200 });
    expect(run.body.input).toEqual([
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Where is parcel kestrel-9?' },
    ]);
    expect(run.body.output).toEqual([
      { role: 'assistant', content: 'It left the depot at noon.', finish_reason: 'stop' },
    ]);
    const content = run.body.events.filter((e) => e.payload.kind === 'gen_ai.content');
    expect(content).toHaveLength(3);
    for (const e of content) expect(e.parent_id).toBe(`otel_${call.spanId}`);

    // Re-sent (an exporter retry): same ids, nothing doubles.
    expect((await post('/v1/logs', protoLogs(call.logRecords()), PROTO, org.apiKey)).statusCode).toBe(200);
    const again = await runDetail(org, `otel_${call.traceId}`);
    expect(again.body.events.filter((e) => e.payload.kind === 'gen_ai.content')).toHaveLength(3);
  });

  it('JSON logs before the span, gzip: the span arrives later and the run still has the prompt', async () => {
    const org = await t.seedOrg();
    const call = chatCall('LogsBeforeBot', 'Summarize ticket heron-41', 'Customer wants a refund.');
    const res = await post(
      '/v1/logs',
      gzipSync(jsonLogs(call.logRecords())),
      {
        ...JSON_TYPE,
        'content-encoding': 'gzip',
      },
      org.apiKey,
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.json()).toEqual({});
    // Only the content so far: a run placeholder, no span yet.
    const before = await runDetail(org, `otel_${call.traceId}`);
    expect(before.body.status).toBe('running');

    expect((await post('/v1/traces', call.spanBytes(), PROTO, org.apiKey)).statusCode).toBe(200);
    const run = await runDetail(org, `otel_${call.traceId}`);
    expect(run.body).toMatchObject({ agent_name: 'LogsBeforeBot', status: 'completed', input_tokens: 1200 });
    expect(JSON.stringify(run.body.input)).toContain('Summarize ticket heron-41');
    expect(JSON.stringify(run.body.output)).toContain('Customer wants a refund.');
    const found = await t.request('GET', '/v1/runs?q=heron-41', { auth: org.apiKey });
    expect(found.body.data.map((r: { id: string }) => r.id)).toEqual([`otel_${call.traceId}`]);
  });

  it('plain records become log events on a known trace; unknown traces and records without one are dropped and counted', async () => {
    const org = await t.seedOrg();
    const known = chatCall('PlainLogBot', 'hello', 'hi');
    expect((await post('/v1/traces', known.spanBytes(), PROTO, org.apiKey)).statusCode).toBe(200);
    known.plain('cache warmed in 12 ms');
    const plainRecord = known.logRecords().slice(-1);
    const stranger = chatCall('PlainLogBot', 'x', 'y');
    stranger.plain('a line from an HTTP handler');
    const unknownTrace = stranger.logRecords().slice(-1);
    const noTrace = new InMemoryLogRecordExporter();
    new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: noTrace })] })
      .getLogger('test')
      .emit({ body: 'no trace at all' });

    const res = await post(
      '/v1/logs',
      protoLogs([...plainRecord, ...unknownTrace, ...noTrace.getFinishedLogRecords()]),
      PROTO,
      org.apiKey,
    );
    expect(res.statusCode).toBe(200);
    const partial = ProtobufLogsSerializer.deserializeResponse(res.rawPayload).partialSuccess;
    expect(Number(partial?.rejectedLogRecords)).toBe(2);
    expect(partial?.errorMessage).toContain('2 of 3 log records were not stored');
    expect(partial?.errorMessage).toContain(`otel_${stranger.traceId}) is not known`);
    expect(partial?.errorMessage).toContain('names no trace');

    const run = await runDetail(org, `otel_${known.traceId}`);
    const logs = run.body.events.filter((e) => e.type === 'log' && e.payload.message === 'cache warmed in 12 ms');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.parent_id).toBe(`otel_${known.spanId}`);
    expect((await runDetail(org, `otel_${stranger.traceId}`)).status).toBe(404);
  });

  it("another org's key writes into that org only: the trace is unknown there", async () => {
    const owner = await t.seedOrg();
    const other = await t.seedOrg();
    const call = chatCall('IsolatedBot', 'secret plan osprey', 'ok');
    expect((await post('/v1/traces', call.spanBytes(), PROTO, owner.apiKey)).statusCode).toBe(200);
    call.plain('from elsewhere');
    const res = await post('/v1/logs', jsonLogs(call.logRecords().slice(-1)), JSON_TYPE, other.apiKey);
    expect(res.statusCode).toBe(200);
    expect(res.json().partialSuccess.rejectedLogRecords).toBe('1');
    const run = await runDetail(owner, `otel_${call.traceId}`);
    expect(run.body.events.some((e) => e.payload.message === 'from elsewhere')).toBe(false);
    expect((await runDetail(other, `otel_${call.traceId}`)).status).toBe(404);
  });

  it('401 problem+json without a key or with an unknown one', async () => {
    for (const key of [null, 'ahk_not_a_real_key_0000000000000000']) {
      const res = await post('/v1/logs', '{}', JSON_TYPE, key);
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('400 problem+json for another content type, broken protobuf, broken JSON, bad gzip', async () => {
    const org = await t.seedOrg();
    const cases: Array<[Buffer | string, Record<string, string>, string]> = [
      ['hello', { 'content-type': 'text/plain' }, '(content-type)'],
      [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), PROTO, '(body)'],
      ['{"resourceLogs": [', JSON_TYPE, '(body)'],
      ['not gzip', { ...JSON_TYPE, 'content-encoding': 'gzip' }, '(body)'],
    ];
    for (const [payload, headers, path] of cases) {
      const res = await post('/v1/logs', payload, headers, org.apiKey);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path }] });
    }
  });

  it('413 for a body over the limit, raw or inflated', async () => {
    const org = await t.seedOrg();
    const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
    expect((await post('/v1/logs', big, JSON_TYPE, org.apiKey)).statusCode).toBe(413);
    const bomb = await post('/v1/logs', gzipSync(big), { ...JSON_TYPE, 'content-encoding': 'gzip' }, org.apiKey);
    expect(bomb.statusCode).toBe(413);
    expect(bomb.json().detail).toContain('inflate to at most');
  });

  it('413 naming the cap for too many records, attributes or nesting, in both encodings', async () => {
    const org = await t.seedOrg();
    // 20,001 empty LogRecords (field 2 of ScopeLogs, length 0) in one ResourceLogs: ~40 KB on the wire.
    const scopeLogs = Buffer.concat(Array.from({ length: 20_001 }, () => Buffer.from([0x12, 0x00])));
    const resourceLogs = Buffer.concat([Buffer.from([0x12]), varint(scopeLogs.length), scopeLogs]);
    const request = Buffer.concat([Buffer.from([0x0a]), varint(resourceLogs.length), resourceLogs]);
    const proto = await post('/v1/logs', request, PROTO, org.apiKey);
    expect(proto.statusCode).toBe(413);
    expect(proto.json().detail).toContain('at most 20000 log records');

    const records = Array.from({ length: 20_001 }, () => ({}));
    const json = await post(
      '/v1/logs',
      JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] }),
      JSON_TYPE,
      org.apiKey,
    );
    expect(json.statusCode).toBe(413);
    expect(json.json().detail).toContain('at most 20000 log records');

    const attributes = Array.from({ length: 1001 }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    const wide = await post(
      '/v1/logs',
      JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes }] }] }] }),
      JSON_TYPE,
      org.apiKey,
    );
    expect(wide.statusCode).toBe(413);
    expect(wide.json().detail).toContain('a log record may carry at most 1000 attributes');

    let body: Record<string, unknown> = { stringValue: 'deep' };
    for (let i = 0; i < 20; i++) body = { kvlistValue: { values: [{ key: 'k', value: body }] } };
    const deep = await post(
      '/v1/logs',
      JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body }] }] }] }),
      JSON_TYPE,
      org.apiKey,
    );
    expect(deep.statusCode).toBe(413);
    expect(deep.json().detail).toContain('nest at most 16 deep');
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
