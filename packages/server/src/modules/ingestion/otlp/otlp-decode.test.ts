/**
 * The OTLP decoders against bytes made by the real OpenTelemetry JS serializers (the ones the exporters
 * use), plus hand-written OTLP JSON for the variants those serializers never emit.
 */
import { gzipSync } from 'node:zlib';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../platform/errors.ts';
import {
  decodeJsonTraces,
  decodeProtobufTraces,
  encodeProtobufResponse,
  inflateOtlpBody,
  jsonResponse,
  otlpEncodingOf,
} from './otlp-decode.ts';

/** Real SDK spans: an agent root with a chat child (tokens, an array and an int64 attribute) and an exception. */
function sdkSpans() {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'decode-test', 'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('decode-scope', '1.2.3');
  const start = Date.now() - 2000;
  const root = tracer.startSpan('invoke_agent Decoder', {
    startTime: start,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'Decoder' },
  });
  const chat = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      startTime: start + 10,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1234,
        'gen_ai.usage.output_tokens': 56,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.stream': false,
      },
    },
    trace.setSpan(context.active(), root),
  );
  chat.addEvent('gen_ai.choice', { index: 0 }, start + 500);
  chat.end(start + 600);
  root.recordException(new Error('boom'), start + 900);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  root.end(start + 1000);
  return { spans: memory.getFinishedSpans(), root: root.spanContext(), chat: chat.spanContext(), start };
}

function expectSame(decoded: ReturnType<typeof decodeJsonTraces>, sdk: ReturnType<typeof sdkSpans>) {
  expect(decoded.rejected).toEqual([]);
  expect(decoded.spans).toHaveLength(2);
  const root = decoded.spans.find((s) => s.spanId === sdk.root.spanId)!;
  const chat = decoded.spans.find((s) => s.spanId === sdk.chat.spanId)!;
  expect(root.traceId).toBe(sdk.root.traceId);
  expect(root.parentSpanId).toBeUndefined();
  expect(chat.parentSpanId).toBe(sdk.root.spanId);
  expect(chat.kind).toBe(3);
  expect(chat.name).toBe('chat gpt-4o');
  expect(chat.startMs).toBeCloseTo(sdk.start + 10, 3);
  expect(chat.endMs).toBeCloseTo(sdk.start + 600, 3);
  expect(chat.attributes).toEqual({
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 1234,
    'gen_ai.usage.output_tokens': 56,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.request.temperature': 0.2,
    'gen_ai.request.stream': false,
  });
  expect(chat.events).toEqual([{ name: 'gen_ai.choice', timeMs: sdk.start + 500, attributes: { index: 0 } }]);
  expect(root.status).toEqual({ code: 2, message: 'boom' });
  expect(root.events[0]).toMatchObject({ name: 'exception', attributes: { 'exception.message': 'boom' } });
  expect(root.resource).toMatchObject({ 'service.name': 'decode-test', 'deployment.environment.name': 'test' });
  expect(root.scope).toEqual({ name: 'decode-scope', version: '1.2.3' });
}

describe('protobuf', () => {
  it('decodes what the real OTLP protobuf serializer writes', () => {
    const sdk = sdkSpans();
    const bytes = ProtobufTraceSerializer.serializeRequest(sdk.spans)!;
    expectSame(decodeProtobufTraces(bytes), sdk);
  });

  it('answers a partial success the real client reads back', () => {
    const res = ProtobufTraceSerializer.deserializeResponse(
      encodeProtobufResponse({ rejectedSpans: 3, errorMessage: 'three bad spans' }),
    );
    expect(Number(res.partialSuccess?.rejectedSpans)).toBe(3);
    expect(res.partialSuccess?.errorMessage).toBe('three bad spans');
    expect(encodeProtobufResponse()).toHaveLength(0);
  });

  it('accepts an empty request and refuses bytes that are not a message', () => {
    expect(decodeProtobufTraces(new Uint8Array())).toEqual({ spans: [], rejected: [] });
    expect(() => decodeProtobufTraces(Buffer.from('{"resourceSpans": []}'))).toThrow(AppError);
    expect(() => decodeProtobufTraces(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow(
      /not a valid OTLP protobuf/,
    );
  });
});

describe('JSON', () => {
  it('decodes what the real OTLP JSON serializer writes (hex ids, string nanos)', () => {
    const sdk = sdkSpans();
    const bytes = JsonTraceSerializer.serializeRequest(sdk.spans)!;
    expectSame(decodeJsonTraces(Buffer.from(bytes)), sdk);
  });

  it('reads every AnyValue variant, int64 as strings, and enum names', () => {
    const big = '9007199254740993'; // above 2^53: kept as its decimal string
    const decoded = decodeJsonTraces({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  traceId: '5B8EFFF798038103D269B633813FC60C',
                  spanId: 'EEE19B7EC3C1B174',
                  parentSpanId: '',
                  name: 'x',
                  kind: 'SPAN_KIND_CLIENT',
                  startTimeUnixNano: 1700000000000000000,
                  endTimeUnixNano: '1700000000500000000',
                  status: { code: 'STATUS_CODE_ERROR', message: 'bad' },
                  attributes: [
                    { key: 'i', value: { intValue: '42' } },
                    { key: 'n', value: { intValue: 7 } },
                    { key: 'big', value: { intValue: big } },
                    { key: 'd', value: { doubleValue: 0.5 } },
                    { key: 'b', value: { boolValue: true } },
                    { key: 'bytes', value: { bytesValue: 'aGVsbG8=' } },
                    { key: 'arr', value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'two' }] } } },
                    { key: 'kv', value: { kvlistValue: { values: [{ key: 'inner', value: { arrayValue: {} } }] } } },
                    { key: 'empty', value: {} },
                    { key: '__proto__', value: { stringValue: 'ignored' } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(decoded.rejected).toEqual([]);
    const [s] = decoded.spans;
    expect(s).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      kind: 3,
      startMs: 1700000000000,
      endMs: 1700000000500,
      status: { code: 2, message: 'bad' },
    });
    expect(s.parentSpanId).toBeUndefined();
    expect(s.attributes).toEqual({
      i: 42,
      n: 7,
      big,
      d: 0.5,
      b: true,
      bytes: 'aGVsbG8=',
      arr: [1, 'two'],
      kv: { inner: [] },
      empty: undefined,
    });
  });

  it('rejects unreadable spans by position and keeps the rest', () => {
    const ok = {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      name: 'ok',
      startTimeUnixNano: '1700000000000000000',
    };
    const decoded = decodeJsonTraces({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                ok,
                { ...ok, traceId: 'nothex' },
                { ...ok, spanId: '0000000000000000' },
                { ...ok, startTimeUnixNano: undefined },
                { ...ok, parentSpanId: 'abc' },
                'not a span',
              ],
            },
          ],
        },
        'not a resource',
      ],
    });
    expect(decoded.spans.map((s) => s.name)).toEqual(['ok']);
    expect(decoded.rejected.map((r) => r.where)).toEqual([
      'resourceSpans[0].scopeSpans[0].spans[1]',
      'resourceSpans[0].scopeSpans[0].spans[2]',
      'resourceSpans[0].scopeSpans[0].spans[3]',
      'resourceSpans[0].scopeSpans[0].spans[4]',
      'resourceSpans[0].scopeSpans[0].spans[5]',
    ]);
  });

  it('accepts base64 ids and the pre-1.0 instrumentationLibrarySpans', () => {
    const decoded = decodeJsonTraces({
      resourceSpans: [
        {
          instrumentationLibrarySpans: [
            {
              instrumentationLibrary: { name: 'old' },
              spans: [
                {
                  traceId: Buffer.from('c'.repeat(32), 'hex').toString('base64'),
                  spanId: Buffer.from('d'.repeat(16), 'hex').toString('base64'),
                  name: 'old',
                  endTimeUnixNano: '1700000000000000000',
                },
              ],
            },
          ],
        },
      ],
    });
    expect(decoded.spans[0]).toMatchObject({ traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), scope: { name: 'old' } });
    expect(decoded.spans[0].startMs).toBe(decoded.spans[0].endMs);
  });

  it('refuses a body that is not JSON or not an object', () => {
    expect(() => decodeJsonTraces(Buffer.from('{nope'))).toThrow(/not valid JSON/);
    expect(() => decodeJsonTraces(Buffer.from('[1,2]'))).toThrow(AppError);
    expect(decodeJsonTraces(Buffer.from('{}'))).toEqual({ spans: [], rejected: [] });
  });

  it('refuses values nested past the cap (413) without recursing into them', () => {
    let value: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 5000; i++) value = { arrayValue: { values: [value] } };
    const exportOf = (v: unknown) => ({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'a'.repeat(32),
                  spanId: 'b'.repeat(16),
                  startTimeUnixNano: '1700000000000000000',
                  attributes: [{ key: 'deep', value: v }],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(() => decodeJsonTraces(exportOf(value))).toThrow(/nest at most 16 deep/);
    // Exactly at the cap: 16 arrays around the leaf are kept.
    let atCap: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 16; i++) atCap = { arrayValue: { values: [atCap] } };
    expect(JSON.stringify(decodeJsonTraces(exportOf(atCap)).spans[0].attributes.deep)).toContain('leaf');
  });

  it('writes the proto3 JSON response', () => {
    expect(jsonResponse()).toEqual({});
    expect(jsonResponse({ rejectedSpans: 2, errorMessage: 'x' })).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: 'x' },
    });
  });
});

describe('transport', () => {
  it('knows the OTLP content types', () => {
    expect(otlpEncodingOf('application/x-protobuf')).toBe('protobuf');
    expect(otlpEncodingOf('application/json; charset=utf-8')).toBe('json');
    expect(otlpEncodingOf('text/plain')).toBeUndefined();
    expect(otlpEncodingOf(undefined)).toBeUndefined();
  });

  it('gunzips, refuses other encodings, bad gzip and bombs', async () => {
    const text = Buffer.from('{"resourceSpans":[]}');
    expect(await inflateOtlpBody(gzipSync(text), 'gzip', 1000)).toEqual(text);
    expect(await inflateOtlpBody(text, undefined, 1000)).toBe(text);
    expect(await inflateOtlpBody(text, 'identity', 1000)).toBe(text);
    await expect(inflateOtlpBody(text, 'br', 1000)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(inflateOtlpBody(text, 'gzip', 1000)).rejects.toMatchObject({ code: 'validation_failed' });
    const bomb = gzipSync(Buffer.alloc(1_000_000));
    await expect(inflateOtlpBody(bomb, 'gzip', 10_000)).rejects.toMatchObject({ code: 'payload_too_large' });
  });
});
