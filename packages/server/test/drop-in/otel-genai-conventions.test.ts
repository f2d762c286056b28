/**
 * Drop-in: the OpenTelemetry GenAI semantic conventions, spans written with the OTel API as an
 * instrumentation would, exported by the real OTLP JSON exporter (`-http`). Two shapes:
 * - 1.36 and before: `gen_ai.system`, content as span events (`gen_ai.user.message`, `gen_ai.choice`);
 * - 1.37 and newer: `gen_ai.provider.name`, `gen_ai.system_instructions`/`gen_ai.input.messages`/
 *   `gen_ai.output.messages` JSON strings with parts, `gen_ai.usage.cache_read.input_tokens`,
 *   `gen_ai.usage.reasoning.output_tokens`, and a client's `gen_ai.usage.cost` (trusted over the table).
 * A fixture test: of the Node 20 packages, OpenLLMetry 0.27 writes the newer message attributes (see
 * openllmetry.test.ts), but none writes the whole newest shape with cache, reasoning and cost.
 */
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ListeningHub, startListeningHub } from './harness.ts';

let hub: ListeningHub;
let provider: BasicTracerProvider;

beforeAll(async () => {
  hub = await startListeningHub();
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'ConventionsBot', 'deployment.environment.name': 'staging' }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({
          url: `${hub.url}/v1/traces`,
          headers: { Authorization: `Bearer ${hub.org.apiKey}` },
        }),
      ),
    ],
  });
});

afterAll(async () => {
  await provider?.shutdown();
  await hub?.close();
});

const auth = () => ({ auth: hub.org.apiKey });
const tracer = () => provider.getTracer('conventions-test');
/** A child of `parent` (BasicTracerProvider registers no context manager, so the parent is passed). */
const child = (parent: Span, name: string, kind = SpanKind.INTERNAL) =>
  tracer().startSpan(name, { kind }, trace.setSpan(context.active(), parent));

async function runOfAgent(agent: string) {
  await provider.forceFlush();
  const list = await eventually(
    () => hub.t.request('GET', `/v1/runs?agent=${agent}`, auth()),
    (r) => r.status === 200 && r.body.data?.length === 1,
  );
  const run = await eventually(
    () => hub.t.request('GET', `/v1/runs/${list.body.data[0].id}`, auth()),
    (r) => r.status === 200 && r.body.cost_usd > 0,
  );
  return run.body;
}

describe('GenAI semantic conventions → OTLP JSON → hub', () => {
  it('1.36: gen_ai.system, usage, content events, execute_tool', async () => {
    const agent = tracer().startSpan('invoke_agent RefundBot');
    agent.setAttributes({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'RefundBot' });
    const chat = child(agent, 'chat gpt-4o', SpanKind.CLIENT);
    chat.setAttributes({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.request.temperature': 0.1,
      'gen_ai.usage.input_tokens': 1500,
      'gen_ai.usage.output_tokens': 60,
    });
    chat.addEvent('gen_ai.system.message', { content: 'You issue refunds.' });
    chat.addEvent('gen_ai.user.message', { content: 'Refund order E-5150 please.' });
    chat.addEvent('gen_ai.choice', {
      index: 0,
      finish_reason: 'tool_calls',
      message: JSON.stringify({
        tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'refund', arguments: '{"order":"E-5150"}' } }],
      }),
    });
    chat.end();
    const tool = child(agent, 'execute_tool refund');
    tool.setAttributes({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'refund',
      'gen_ai.tool.call.id': 'call_9',
      'gen_ai.tool.call.arguments': '{"order":"E-5150"}',
      'gen_ai.tool.call.result': '{"refunded":true}',
    });
    tool.setStatus({ code: SpanStatusCode.OK });
    tool.end();
    agent.end();

    const run = await runOfAgent('RefundBot');
    expect(run.environment).toBe('staging');
    expect(run.input_tokens).toBe(1500);
    expect(run.output_tokens).toBe(60);
    const call = run.events.find((e: any) => e.type === 'llm_call');
    expect(call.model).toBe('gpt-4o-2024-08-06');
    expect(call.payload).toMatchObject({ provider: 'openai', request_model: 'gpt-4o' });
    expect(call.payload.input_messages).toEqual([
      { role: 'system', content: 'You issue refunds.' },
      { role: 'user', content: 'Refund order E-5150 please.' },
    ]);
    expect(call.payload.tool_calls).toEqual([{ id: 'call_9', name: 'refund', arguments: { order: 'E-5150' } }]);
    expect(call.payload.attributes).toEqual({ 'gen_ai.request.temperature': 0.1 });
    // The agent span carries no content: the run shows its model call's prompt.
    expect(JSON.stringify(run.input)).toContain('Refund order E-5150 please.');
    const called = run.events.find((e: any) => e.type === 'tool_called');
    expect(called.payload).toMatchObject({ tool: 'refund', call_id: 'call_9', args: { order: 'E-5150' } });
    const result = run.events.find((e: any) => e.type === 'tool_result');
    expect(result.payload).toMatchObject({ status: 'ok', result: { refunded: true } });
  });

  it('newest: provider.name, JSON messages with parts, cache and reasoning tokens, a client cost', async () => {
    const agent = tracer().startSpan('invoke_agent TriageBot');
    agent.setAttributes({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'TriageBot' });
    const chat = child(agent, 'chat claude-sonnet-4-5', SpanKind.CLIENT);
    chat.setAttributes({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Triage tickets.' }]),
      'gen_ai.input.messages': JSON.stringify([
        { role: 'user', parts: [{ type: 'text', content: 'Ticket F-6: the printer is on fire.' }] },
        { role: 'assistant', parts: [{ type: 'tool_call', id: 't1', name: 'page_oncall', arguments: { sev: 1 } }] },
        { role: 'tool', parts: [{ type: 'tool_call_response', id: 't1', response: { paged: 'ana' } }] },
      ]),
      'gen_ai.output.messages': JSON.stringify([
        { role: 'assistant', finish_reason: 'stop', parts: [{ type: 'text', content: 'Paged Ana, severity one.' }] },
      ]),
      'gen_ai.usage.input_tokens': 3000,
      'gen_ai.usage.output_tokens': 200,
      'gen_ai.usage.cache_read.input_tokens': 2048,
      'gen_ai.usage.reasoning.output_tokens': 120,
      'gen_ai.usage.cost': 0.0456,
      'app.ticket_queue': 'facilities',
    });
    chat.end();
    agent.end();

    const run = await runOfAgent('TriageBot');
    expect(run.cost_usd).toBeCloseTo(0.0456, 9);
    const call = run.events.find((e: any) => e.type === 'llm_call');
    expect(call.payload).toMatchObject({
      provider: 'anthropic',
      input_tokens: 3000,
      output_tokens: 200,
      cached_input_tokens: 2048,
      reasoning_tokens: 120,
      cost_usd: 0.0456,
    });
    expect(call.payload.input_messages).toEqual([
      { role: 'system', content: 'Triage tickets.' },
      { role: 'user', content: 'Ticket F-6: the printer is on fire.' },
      { role: 'assistant', tool_calls: [{ id: 't1', name: 'page_oncall', arguments: { sev: 1 } }] },
      { role: 'tool', content: '{"paged":"ana"}', tool_call_id: 't1' },
    ]);
    expect(call.payload.output_messages).toEqual([
      { role: 'assistant', content: 'Paged Ana, severity one.', finish_reason: 'stop' },
    ]);
    // A user's own attribute is kept on the event.
    expect(call.payload.attributes).toEqual({ 'app.ticket_queue': 'facilities' });
    expect(JSON.stringify(run.output)).toContain('Paged Ana, severity one.');

    const found = await hub.t.request('GET', '/v1/runs?q=printer fire', auth());
    expect(found.body.data.map((r: any) => r.id)).toEqual([run.id]);
  });
});
