/**
 * Drop-in: OpenInference's OpenAI instrumentation (`@arizeai/openinference-instrumentation-openai` 4, the
 * Arize Phoenix convention) on the real `openai` 6 client, exported by the real OTLP protobuf exporter.
 * Each chat completion is an LLM span with `llm.*` attributes and flattened messages; the hub shows the
 * agent, model, tokens (cached and reasoning), a price from the table, the prompt, the answer and the tool
 * call the model asked for. The package sends no `llm.cost.total`; a span that carries one (a Phoenix
 * cost processor, say) is trusted over the table, as the last test shows with a hand-set attribute.
 */
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ListeningHub, type ScriptedModel, startListeningHub, startScriptedModel } from './harness.ts';

let hub: ListeningHub;
let model: ScriptedModel;
let provider: BasicTracerProvider;
let client: OpenAI;

beforeAll(async () => {
  hub = await startListeningHub();
  model = await startScriptedModel([
    {
      content: null,
      tool_calls: [{ name: 'lookup_order', arguments: { order_id: 'B-2077' } }],
      input_tokens: 900,
      output_tokens: 30,
      cached_tokens: 512,
    },
    { content: 'Order B-2077 is on its way to Lisbon.', input_tokens: 980, output_tokens: 16, reasoning_tokens: 5 },
  ]);
  // The settings of docs/ingestion.md ("OpenInference").
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'PhoenixBot' }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({
          url: `${hub.url}/v1/traces`,
          headers: { Authorization: `Bearer ${hub.org.apiKey}` },
        }),
      ),
    ],
  });
  const instrumentation = new OpenAIInstrumentation({ tracerProvider: provider });
  instrumentation.manuallyInstrument(OpenAI);
  client = new OpenAI({ baseURL: model.baseUrl, apiKey: 'scripted' });
});

afterAll(async () => {
  await provider?.shutdown();
  await model?.close();
  await hub?.close();
});

const auth = () => ({ auth: hub.org.apiKey });

describe('OpenInference OpenAI instrumentation → OTLP → hub', () => {
  it('maps each chat completion: agent, model, tokens, cost, prompt, answer, tool call', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You answer parcel questions.' },
      { role: 'user', content: 'Where is order B-2077?' },
    ];
    const first = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup_order',
            parameters: { type: 'object', properties: { order_id: { type: 'string' } } },
          },
        },
      ],
    });
    const call = first.choices[0].message.tool_calls![0];
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        ...messages,
        first.choices[0].message,
        { role: 'tool', tool_call_id: call.id, content: '{"status":"in transit","city":"Lisbon"}' },
      ],
    });
    await provider.forceFlush();

    // Without a span around them, each call is a trace, so a run of its own.
    const list = await eventually(
      () => hub.t.request('GET', '/v1/runs?agent=PhoenixBot', auth()),
      (r) => r.status === 200 && r.body.data?.length === 2,
    );
    const runs = await Promise.all(
      list.body.data.map((r: any) =>
        eventually(
          () => hub.t.request('GET', `/v1/runs/${r.id}`, auth()),
          (x) => x.status === 200 && x.body.cost_usd > 0,
        ).then((x) => x.body),
      ),
    );
    const toolTurn = runs.find((r) => r.input_tokens === 900)!;
    const answerTurn = runs.find((r) => r.input_tokens === 980)!;
    expect(toolTurn.agent_name).toBe('PhoenixBot');
    expect(toolTurn.output_tokens).toBe(30);
    expect(answerTurn.output_tokens).toBe(16);

    const toolCall = toolTurn.events.find((e: any) => e.type === 'llm_call');
    expect(toolCall.model).toBe('gpt-4o-mini');
    expect(toolCall.cost_usd).toBeGreaterThan(0);
    expect(toolCall.payload).toMatchObject({ provider: 'openai', cached_input_tokens: 512 });
    expect(toolCall.payload.input_messages).toEqual([
      { role: 'system', content: 'You answer parcel questions.' },
      { role: 'user', content: 'Where is order B-2077?' },
    ]);
    expect(toolCall.payload.tool_calls).toEqual([
      { name: 'lookup_order', id: call.id, arguments: { order_id: 'B-2077' } },
    ]);
    // The raw request's parameters are not a field of their own: kept as an attribute.
    expect(toolCall.payload.attributes['llm.invocation_parameters']).toContain('lookup_order');
    expect(toolTurn.input).toEqual(toolCall.payload.input_messages);

    const answer = answerTurn.events.find((e: any) => e.type === 'llm_call');
    expect(answer.payload.reasoning_tokens).toBe(5);
    expect(answer.payload.input_messages.at(-1)).toEqual({
      role: 'tool',
      content: '{"status":"in transit","city":"Lisbon"}',
      tool_call_id: call.id,
    });
    expect(JSON.stringify(answerTurn.output)).toContain('Order B-2077 is on its way to Lisbon.');

    const found = await hub.t.request('GET', '/v1/runs?q=Lisbon', auth());
    expect(found.body.data.map((r: any) => r.id)).toContain(answerTurn.id);
  });

  it('trusts llm.cost.total over the price table, inside an AGENT span', async () => {
    const tracer = provider.getTracer('support-app');
    await tracer.startActiveSpan('support', async (agent) => {
      agent.setAttributes({
        'openinference.span.kind': 'AGENT',
        'input.value': 'Cancel order C-3',
        'agent.name': 'CancelBot',
      });
      // A span the instrumentation would make, with the cost a cost-tracking processor adds. (The parent is
      // passed explicitly: a BasicTracerProvider registers no context manager.)
      const llm = tracer.startSpan('ChatCompletion', {}, trace.setSpan(context.active(), agent));
      llm.setAttributes({
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o-mini',
        'llm.provider': 'openai',
        'llm.token_count.prompt': 100,
        'llm.token_count.completion': 10,
        'llm.cost.total': 0.0123,
        'llm.output_messages.0.message.role': 'assistant',
        'llm.output_messages.0.message.content': 'Order C-3 is cancelled.',
      });
      llm.end();
      agent.setAttribute('output.value', 'Order C-3 is cancelled.');
      agent.end();
    });
    await provider.forceFlush();
    const list = await eventually(
      () => hub.t.request('GET', '/v1/runs?agent=CancelBot', auth()),
      (r) => r.status === 200 && r.body.data?.length === 1,
    );
    const run = await eventually(
      () => hub.t.request('GET', `/v1/runs/${list.body.data[0].id}`, auth()),
      (r) => r.status === 200 && r.body.cost_usd > 0,
    );
    expect(run.body.cost_usd).toBeCloseTo(0.0123, 9);
    expect(run.body.input).toBe('Cancel order C-3');
    expect(run.body.output).toBe('Order C-3 is cancelled.');
  });
});
