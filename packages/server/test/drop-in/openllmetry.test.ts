/**
 * Drop-in: OpenLLMetry (`@traceloop/node-server-sdk` 0.27) as its users set it up, `traceloop.initialize`
 * pointed at the hub (its own OTLP protobuf exporter, `Authorization: Bearer <apiKey>`), instrumenting the
 * real `openai` 6 client. Offline: the prompt-registry sync only runs against a traceloop.com URL and is
 * switched off anyway. 0.27 writes the newest GenAI shape (`gen_ai.provider.name`, `gen_ai.input.messages`
 * JSON parts); the older `gen_ai.prompt.N.*` shape is covered by genai-mapping.test.ts fixtures.
 */
import * as traceloop from '@traceloop/node-server-sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ListeningHub, type ScriptedModel, startListeningHub, startScriptedModel } from './harness.ts';

type OpenAIModule = NonNullable<traceloop.InitializeOptions['instrumentModules']>['openAI'];

let hub: ListeningHub;
let model: ScriptedModel;

beforeAll(async () => {
  hub = await startListeningHub();
  model = await startScriptedModel([
    {
      content: null,
      tool_calls: [{ name: 'lookup_order', arguments: { order_id: 'D-4455' } }],
      input_tokens: 700,
      output_tokens: 25,
    },
    { content: 'Order D-4455 was delivered to the front desk.', input_tokens: 760, output_tokens: 14 },
  ]);
  // The settings of docs/ingestion.md ("OpenLLMetry").
  traceloop.initialize({
    appName: 'SupportBot',
    baseUrl: hub.url,
    apiKey: hub.org.apiKey,
    // The default batch processor: a workflow and its calls leave in one export (see the run input below).
    traceloopSyncEnabled: false,
    silenceInitializationMessage: true,
    // Traceloop's types name openai's CommonJS declarations; at run time it is this very class.
    instrumentModules: { openAI: OpenAI as unknown as OpenAIModule },
  });
});

afterAll(async () => {
  await model?.close();
  await hub?.close();
});

const auth = () => ({ auth: hub.org.apiKey });

describe('OpenLLMetry (traceloop.initialize) → OTLP → hub', () => {
  it('maps a workflow with two chat calls and a tool: agent, model, tokens, cost, prompt, answer, tool', async () => {
    const client = new OpenAI({ baseURL: model.baseUrl, apiKey: 'scripted' });
    const answer = await traceloop.withWorkflow({ name: 'support_request' }, async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [
        { role: 'system', content: 'You are the front desk bot.' },
        { role: 'user', content: 'Was order D-4455 delivered?' },
      ];
      const first = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages,
        tools: [{ type: 'function', function: { name: 'lookup_order', parameters: { type: 'object' } } }],
      });
      const call = first.choices[0].message.tool_calls![0];
      const status = await traceloop.withTool(
        { name: 'lookup_order' },
        async (args: { order_id: string }) => ({
          order_id: args.order_id,
          status: 'delivered',
        }),
        { order_id: 'D-4455' },
      );
      const second = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          ...messages,
          first.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: JSON.stringify(status) },
        ],
      });
      return second.choices[0].message.content;
    });
    expect(answer).toBe('Order D-4455 was delivered to the front desk.');
    await traceloop.forceFlush();

    // A Traceloop workflow names the agent (docs/ingestion.md, agent identity); the app name is the service.
    const list = await eventually(
      () => hub.t.request('GET', '/v1/runs?agent=support_request', auth()),
      (r) => r.status === 200 && r.body.data?.length === 1,
    );
    const run = await eventually(
      () => hub.t.request('GET', `/v1/runs/${list.body.data[0].id}`, auth()),
      (r) => r.status === 200 && r.body.cost_usd > 0 && r.body.input_tokens === 1460,
    );
    const body = run.body;
    expect(body.metadata.otel.service_name).toBe('SupportBot');
    expect(body.output_tokens).toBe(39);
    expect(body.cost_unknown).toBe(false);
    // The workflow's input is empty ({args: [], kwargs: {}}): the run shows its first call's prompt, which the
    // mapping sees because the batch processor exported the workflow and its calls together.
    expect(JSON.stringify(body.input)).toContain('Was order D-4455 delivered?');
    expect(body.output).toBe('Order D-4455 was delivered to the front desk.');

    const calls = body.events.filter((e: any) => e.type === 'llm_call');
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.model).toBe('gpt-4o-mini');
      expect(c.payload.provider).toBe('openai');
      expect(c.cost_usd).toBeGreaterThan(0);
    }
    const asked = calls.find((c: any) => c.payload.input_tokens === 700);
    expect(asked.payload.input_messages).toEqual([
      { role: 'system', content: 'You are the front desk bot.' },
      { role: 'user', content: 'Was order D-4455 delivered?' },
    ]);
    expect(asked.payload.tool_calls).toEqual([
      { name: 'lookup_order', id: expect.any(String), arguments: { order_id: 'D-4455' } },
    ]);
    // `gen_ai.tool.definitions` has no field of its own: kept.
    expect(asked.payload.attributes['gen_ai.tool.definitions']).toContain('lookup_order');

    const called = body.events.find((e: any) => e.type === 'tool_called');
    const result = body.events.find((e: any) => e.type === 'tool_result');
    expect(called.payload).toMatchObject({ tool: 'lookup_order', args: { order_id: 'D-4455' } });
    expect(result.payload).toMatchObject({ status: 'ok', result: { status: 'delivered' } });

    const found = await hub.t.request('GET', '/v1/runs?q=front desk', auth());
    expect(found.body.data.map((r: any) => r.id)).toContain(body.id);
  });
});
