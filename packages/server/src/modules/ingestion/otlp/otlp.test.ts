/**
 * `POST /v1/traces` end to end: the real OpenTelemetry JS SDK and its real OTLP exporters (protobuf and
 * JSON, gzip) send spans over real HTTP to a hub listening on a port; the runs and events come back through
 * the runs API.
 */
import { gzipSync } from 'node:zlib';
import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../../testing/test-hub.ts';

let t: TestHub;
let url: string;
beforeAll(async () => {
  t = await createTestHub();
  const address = await t.hub.app.listen({ port: 0, host: '127.0.0.1' });
  url = `${address}/v1/traces`;
});
afterAll(async () => t?.close());

/** Records spans with the real SDK; `flush` hands them to a real exporter and resolves with its result. */
function recorder(service = 'otel-test') {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('agentops-otlp-test', '1.0.0');
  const t0 = Date.now() - 5000;
  return {
    t0,
    start(name: string, attributes: Attributes, at: number, parent?: Span, kind = SpanKind.INTERNAL) {
      const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
      return tracer.startSpan(name, { kind, attributes, startTime: t0 + at }, ctx);
    },
    /** Takes the recorded spans (and forgets them). */
    take(): ReadableSpan[] {
      const spans = memory.getFinishedSpans();
      memory.reset();
      return spans;
    },
  };
}

async function send(exporter: SpanExporter, spans: ReadableSpan[]) {
  return new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
}

const proto = (org: SeededOrg, compression?: CompressionAlgorithm) =>
  new OTLPProtoExporter({ url, headers: { Authorization: `Bearer ${org.apiKey}` }, compression });
const json = (org: SeededOrg, compression?: CompressionAlgorithm) =>
  new OTLPHttpJsonExporter({ url, headers: { Authorization: `Bearer ${org.apiKey}` }, compression });

/** A typical agent trace: invoke_agent root, a chat call, a tool call. */
function agentTrace(r: ReturnType<typeof recorder>, agent: string, opts: { fail?: boolean } = {}) {
  const root = r.start(
    `invoke_agent ${agent}`,
    { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agent },
    0,
  );
  const chat = r.start(
    'chat gpt-4o-mini',
    {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 2000,
      'gen_ai.usage.output_tokens': 100,
    },
    10,
    root,
    SpanKind.CLIENT,
  );
  chat.end(r.t0 + 700);
  const tool = r.start(
    'execute_tool lookup_order',
    {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup_order',
      'gen_ai.tool.call.id': 'call_1',
      'gen_ai.tool.call.arguments': '{"order_id":42}',
    },
    800,
    root,
  );
  tool.end(r.t0 + 1200);
  if (opts.fail) {
    root.recordException(new Error('the model refused'), r.t0 + 1400);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'the model refused' });
  }
  root.end(r.t0 + 1500);
  return { traceId: root.spanContext().traceId, root, chat, tool };
}

async function runsOf(org: SeededOrg, agent: string) {
  const res = await t.request('GET', `/v1/runs?agent=${encodeURIComponent(agent)}`, { auth: org.apiKey });
  expect(res.status).toBe(200);
  return res.body.data as Array<{ id: string; status: string; agent_name: string }>;
}

async function runDetail(org: SeededOrg, id: string) {
  const res = await t.request('GET', `/v1/runs/${id}`, { auth: org.apiKey });
  expect(res.status).toBe(200);
  return res.body as {
    id: string;
    status: string;
    agent_name: string;
    parent_run_id: string | null;
    error: unknown;
    events: Array<{ id: string; type: string; payload: Record<string, unknown> }>;
  };
}

describe('POST /v1/traces with the real OpenTelemetry exporters', () => {
  it('takes protobuf from exporter-trace-otlp-proto: the agent span is the run, chat an llm_call, the tool a call + result', async () => {
    const org = await t.seedOrg();
    const r = recorder();
    const { traceId, chat, tool } = agentTrace(r, 'ProtoBot');
    const exporter = proto(org);
    const result = await send(exporter, r.take());
    await exporter.shutdown();
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(0); // ExportResultCode.SUCCESS

    const runs = await runsOf(org, 'ProtoBot');
    expect(runs.map((x) => x.id)).toEqual([`otel_${traceId}`]);
    const run = await runDetail(org, `otel_${traceId}`);
    expect(run).toMatchObject({ agent_name: 'ProtoBot', status: 'completed' });
    const types = run.events.map((e) => e.type);
    expect(types).toEqual(['run_started', 'llm_call', 'tool_called', 'tool_result', 'run_completed']);
    const llm = run.events.find((e) => e.id === `otel_${chat.spanContext().spanId}`)!;
    expect(llm.payload).toMatchObject({
      model: 'gpt-4o-mini',
      provider: 'openai',
      input_tokens: 2000,
      output_tokens: 100,
    });
    const called = run.events.find((e) => e.id === `otel_${tool.spanContext().spanId}`)!;
    expect(called.payload).toMatchObject({ tool: 'lookup_order', call_id: 'call_1', args: { order_id: 42 } });
  });

  it('takes gzip-compressed JSON from exporter-trace-otlp-http, and a failed run with its error', async () => {
    const org = await t.seedOrg();
    const r = recorder();
    const { traceId } = agentTrace(r, 'JsonBot', { fail: true });
    const exporter = json(org, CompressionAlgorithm.GZIP);
    const result = await send(exporter, r.take());
    await exporter.shutdown();
    expect(result.code).toBe(0);

    const run = await runDetail(org, `otel_${traceId}`);
    expect(run).toMatchObject({ agent_name: 'JsonBot', status: 'failed' });
    expect(JSON.stringify(run.error)).toContain('the model refused');
    expect(run.events.map((e) => e.type)).toContain('run_failed');
  });

  it('takes gzip-compressed protobuf', async () => {
    const org = await t.seedOrg();
    const r = recorder();
    const { traceId } = agentTrace(r, 'GzipProtoBot');
    const exporter = proto(org, CompressionAlgorithm.GZIP);
    expect((await send(exporter, r.take())).code).toBe(0);
    await exporter.shutdown();
    expect((await runsOf(org, 'GzipProtoBot')).map((x) => x.id)).toEqual([`otel_${traceId}`]);
  });

  it('upserts late, out-of-order and re-sent spans: one run, each event once', async () => {
    const org = await t.seedOrg();
    const r = recorder();
    const { traceId } = agentTrace(r, 'LateBot');
    const spans = r.take();
    const rootSpan = spans.find((s) => !s.parentSpanContext)!;
    const children = spans.filter((s) => s !== rootSpan);
    const exporter = proto(org);
    // Children first (they end first), the root in a later export, then everything again.
    expect((await send(exporter, children)).code).toBe(0);
    const early = await runDetail(org, `otel_${traceId}`);
    expect(early.events.map((e) => e.type).sort()).toEqual(['llm_call', 'tool_called', 'tool_result']);
    expect((await send(exporter, [rootSpan])).code).toBe(0);
    expect((await send(exporter, spans)).code).toBe(0);
    await exporter.shutdown();

    const runs = await runsOf(org, 'LateBot');
    expect(runs).toHaveLength(1);
    const run = await runDetail(org, `otel_${traceId}`);
    expect(run).toMatchObject({ agent_name: 'LateBot', status: 'completed' });
    expect(run.events.map((e) => e.type)).toEqual([
      'run_started',
      'llm_call',
      'tool_called',
      'tool_result',
      'run_completed',
    ]);
  });

  it('makes a nested invoke_agent span a child run', async () => {
    const org = await t.seedOrg();
    const r = recorder();
    const root = r.start(
      'invoke_agent Planner',
      { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'Planner' },
      0,
    );
    const sub = r.start(
      'invoke_agent Researcher',
      { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'Researcher' },
      100,
      root,
    );
    const call = r.start(
      'chat gpt-4o',
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 5,
      },
      150,
      sub,
    );
    call.end(r.t0 + 300);
    sub.end(r.t0 + 400);
    root.end(r.t0 + 500);
    const exporter = json(org);
    expect((await send(exporter, r.take())).code).toBe(0);
    await exporter.shutdown();

    const child = await runDetail(org, `otel_${sub.spanContext().spanId}`);
    expect(child).toMatchObject({ agent_name: 'Researcher', parent_run_id: `otel_${root.spanContext().traceId}` });
    expect(child.events.map((e) => e.type)).toContain('llm_call');
    expect(await runsOf(org, 'Planner')).toHaveLength(1);
  });

  it("keeps one org's traces from another org", async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    const r = recorder();
    const { traceId } = agentTrace(r, 'PrivateBot');
    const exporter = proto(a);
    expect((await send(exporter, r.take())).code).toBe(0);
    await exporter.shutdown();
    expect((await t.request('GET', `/v1/runs/otel_${traceId}`, { auth: b.apiKey })).status).toBe(404);
    expect(await runsOf(b, 'PrivateBot')).toEqual([]);
  });
});

describe('POST /v1/traces answers', () => {
  const span = (traceId: string, spanId: string, extra: Record<string, unknown> = {}) => ({
    traceId,
    spanId,
    name: 'invoke_agent PartialBot',
    kind: 1,
    startTimeUnixNano: String(BigInt(Date.now() - 1000) * 1_000_000n),
    endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } },
      { key: 'gen_ai.agent.name', value: { stringValue: 'PartialBot' } },
    ],
    ...extra,
  });
  const exportOf = (...spans: unknown[]) => ({ resourceSpans: [{ scopeSpans: [{ spans }] }] });

  it('200 {} in JSON when every span is taken', async () => {
    const org = await t.seedOrg();
    const res = await t.request('POST', '/v1/traces', {
      auth: org.apiKey,
      body: exportOf(span('a1'.repeat(16), 'b1'.repeat(8))),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.body).toEqual({});
  });

  it('200 with partialSuccess naming the rejected spans (JSON)', async () => {
    const org = await t.seedOrg();
    const res = await t.request('POST', '/v1/traces', {
      auth: org.apiKey,
      body: exportOf(span('a2'.repeat(16), 'b2'.repeat(8)), span('not-hex', 'b3'.repeat(8))),
    });
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess.rejectedSpans).toBe('1');
    expect(res.body.partialSuccess.errorMessage).toContain('traceId');
    expect(await runsOf(org, 'PartialBot')).toHaveLength(1);
  });

  it('200 with partial_success in protobuf when the request was protobuf', async () => {
    const org = await t.seedOrg();
    const r = recorder();
    agentTrace(r, 'ProtoPartialBot');
    const bytes = ProtobufTraceSerializer.serializeRequest(r.take())!;
    // Append a span with a 3-byte trace id to the first ScopeSpans… simplest: a second ResourceSpans whose
    // only span has a bad trace id (field 1 → ResourceSpans, 2 → ScopeSpans, 2 → Span, 1 → trace_id).
    const badSpan = Buffer.from([0x0a, 0x03, 1, 2, 3, 0x12, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
    const scopeSpans = Buffer.concat([Buffer.from([0x12, badSpan.length]), badSpan]);
    const resourceSpans = Buffer.concat([Buffer.from([0x12, scopeSpans.length]), scopeSpans]);
    const body = Buffer.concat([Buffer.from(bytes), Buffer.from([0x0a, resourceSpans.length]), resourceSpans]);
    const res = await t.hub.app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/x-protobuf' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-protobuf');
    const decoded = ProtobufTraceSerializer.deserializeResponse(res.rawPayload);
    expect(Number(decoded.partialSuccess?.rejectedSpans)).toBe(1);
    expect(await runsOf(org, 'ProtoPartialBot')).toHaveLength(1);
  });

  it('400 problem+json for bytes that are not protobuf, JSON that is not JSON, bad gzip', async () => {
    const org = await t.seedOrg();
    const post = (payload: Buffer | string, headers: Record<string, string>) =>
      t.hub.app.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: { authorization: `Bearer ${org.apiKey}`, ...headers },
        payload,
      });
    for (const res of [
      await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), { 'content-type': 'application/x-protobuf' }),
      await post('{"resourceSpans": [', { 'content-type': 'application/json' }),
      await post('not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
      await post('{}', { 'content-type': 'application/json', 'content-encoding': 'br' }),
      await post('x', { 'content-type': 'text/plain' }),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(res.body).code).toBe('validation_failed');
    }
    const ok = await post(gzipSync('{}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(ok.statusCode).toBe(200);
  });

  it('401 without credentials', async () => {
    const res = await t.request('POST', '/v1/traces', { body: { resourceSpans: [] } });
    expect(res.status).toBe(401);
  });

  it('leaves JSON parsing of the other routes alone', async () => {
    const org = await t.seedOrg();
    const res = await t.request('POST', '/v1/agents', {
      auth: org.apiKey,
      body: { name: 'ParserCheck', environment: 'test' },
    });
    expect(res.status).toBe(201);
  });
});
