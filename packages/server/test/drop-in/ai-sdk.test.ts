/**
 * Drop-in: the Vercel AI SDK (`ai` 6 with `@ai-sdk/openai` 3) and its `experimental_telemetry`, exported by
 * the real OTLP protobuf exporter to a listening hub. The app changes nothing but the exporter's URL and
 * header: the run shows the agent, model, tokens counted once (the `ai.generateText` wrapper repeats its
 * steps' totals), a price from the table, the prompt and the answer, and the tool call with its result.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createOpenAI } from '@ai-sdk/openai';
import { type Context, type ContextManager, context, ROOT_CONTEXT } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { generateText, stepCountIs, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, type ListeningHub, type ScriptedModel, startListeningHub, startScriptedModel } from './harness.ts';

/**
 * What `NodeSDK`/`NodeTracerProvider.register()` install: an AsyncLocalStorage context manager, so the AI
 * SDK's steps and tool calls become children of its `ai.generateText` span. Without one (a bare
 * BasicTracerProvider) every span is a trace of its own.
 */
class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active = () => this.storage.getStore() ?? ROOT_CONTEXT;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ) {
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as (...a: unknown[]) => unknown;
    return ((...a: unknown[]) => this.with(ctx, () => fn(...a))) as T;
  }
  enable = () => this;
  disable = () => {
    this.storage.disable();
    return this;
  };
}

let hub: ListeningHub;
let model: ScriptedModel;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncContextManager());
  hub = await startListeningHub();
  model = await startScriptedModel([
    {
      content: null,
      tool_calls: [{ name: 'lookup_order', arguments: { order_id: 'A-1042' } }],
      input_tokens: 1200,
      output_tokens: 40,
      cached_tokens: 1024,
    },
    { content: 'Your order A-1042 shipped on Monday.', input_tokens: 1320, output_tokens: 18, reasoning_tokens: 6 },
  ]);
});

afterAll(async () => {
  context.disable();
  await model?.close();
  await hub?.close();
});

/** The exporter settings of docs/ingestion.md ("Vercel AI SDK"). */
function tracerProvider(serviceName?: string) {
  const exporter = new OTLPTraceExporter({
    url: `${hub.url}/v1/traces`,
    headers: { Authorization: `Bearer ${hub.org.apiKey}` },
  });
  return new BasicTracerProvider({
    resource: resourceFromAttributes(serviceName ? { 'service.name': serviceName } : {}),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
}

async function runSupportBot(provider: BasicTracerProvider, prompt: string) {
  const openai = createOpenAI({ baseURL: model.baseUrl, apiKey: 'scripted' });
  const result = await generateText({
    model: openai.chat('gpt-4o-mini'),
    system: 'You are the support bot of a parcel shop.',
    prompt,
    tools: {
      lookup_order: tool({
        description: 'Look an order up by id',
        inputSchema: z.object({ order_id: z.string() }),
        execute: async ({ order_id }) => ({ order_id, status: 'shipped', carrier: 'DHL' }),
      }),
    },
    stopWhen: stepCountIs(3),
    experimental_telemetry: {
      isEnabled: true,
      functionId: 'SupportBot',
      recordInputs: true,
      recordOutputs: true,
      tracer: provider.getTracer('ai'),
    },
  });
  await provider.forceFlush();
  return result;
}

const readRun = (id: string) => hub.t.request('GET', `/v1/runs/${id}`, { auth: hub.org.apiKey });

async function runOf(agent: string) {
  const list = await eventually(
    () => hub.t.request('GET', `/v1/runs?agent=${agent}`, { auth: hub.org.apiKey }),
    (r) => r.status === 200 && r.body.data?.length === 1,
  );
  return list.body.data[0].id as string;
}

describe('Vercel AI SDK experimental_telemetry → OTLP → hub', () => {
  it('maps a generateText call with a tool: agent, model, tokens once, cost, prompt, answer, tool call', async () => {
    const provider = tracerProvider('SupportBot');
    const result = await runSupportBot(provider, 'Where is my order A-1042?');
    expect(result.text).toBe('Your order A-1042 shipped on Monday.');
    expect(model.requests).toHaveLength(2);

    const runId = await runOf('SupportBot');
    const run = await eventually(
      () => readRun(runId),
      (r) => r.status === 200 && r.body.status === 'completed' && r.body.cost_usd > 0,
    );
    const body = run.body;
    expect(body.agent_name).toBe('SupportBot');
    // Both steps, each once: the wrapper's own totals (2520 / 58) are not added again.
    expect(body.input_tokens).toBe(1200 + 1320);
    expect(body.output_tokens).toBe(40 + 18);
    expect(body.cost_unknown).toBe(false);
    expect(JSON.stringify(body.input)).toContain('Where is my order A-1042?');
    expect(JSON.stringify(body.output)).toContain('Your order A-1042 shipped on Monday.');

    const calls = body.events.filter((e: any) => e.type === 'llm_call');
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.model).toBe('gpt-4o-mini');
      expect(c.payload.provider).toBe('openai');
      expect(c.cost_usd).toBeGreaterThan(0);
    }
    const [first, second] = [...calls].sort((a: any, b: any) => a.timestamp.localeCompare(b.timestamp));
    expect(first.payload).toMatchObject({ input_tokens: 1200, output_tokens: 40, cached_input_tokens: 1024 });
    expect(second.payload).toMatchObject({ input_tokens: 1320, output_tokens: 18, reasoning_tokens: 6 });
    expect(first.payload.input_messages).toEqual([
      { role: 'system', content: 'You are the support bot of a parcel shop.' },
      { role: 'user', content: 'Where is my order A-1042?' },
    ]);
    expect(first.payload.tool_calls).toEqual([
      { name: 'lookup_order', id: expect.any(String), arguments: { order_id: 'A-1042' } },
    ]);
    expect(second.payload.output_messages[0].content).toBe('Your order A-1042 shipped on Monday.');
    // Attributes without a field of their own stay on the event.
    expect(first.payload.attributes['ai.settings.maxRetries']).toBe(2);

    const called = body.events.find((e: any) => e.type === 'tool_called');
    const toolResult = body.events.find((e: any) => e.type === 'tool_result');
    expect(called.payload).toMatchObject({ tool: 'lookup_order', args: { order_id: 'A-1042' } });
    expect(toolResult.payload).toMatchObject({ tool: 'lookup_order', status: 'ok', result: { status: 'shipped' } });

    const wrapper = body.events.find((e: any) => e.payload.kind === 'llm_group');
    expect(wrapper.payload.reported_usage).toMatchObject({ input_tokens: 2520, output_tokens: 58 });

    const found = await hub.t.request('GET', '/v1/runs?q=A-1042 Monday', { auth: hub.org.apiKey });
    expect(found.body.data.map((r: any) => r.id)).toContain(runId);
    await provider.shutdown();
  });

  it('names the agent by functionId when the app set no service name', async () => {
    // NodeSDK reports `unknown_service:node` when OTEL_SERVICE_NAME is unset: the functionId is the better name.
    const provider = tracerProvider('unknown_service:node');
    await runSupportBot(provider, 'Where is my parcel A-7?');
    const list = await eventually(
      () => hub.t.request('GET', '/v1/runs?q=A-7', { auth: hub.org.apiKey }),
      (r) => r.status === 200 && r.body.data?.length === 1,
    );
    expect(list.body.data[0].agent_name).toBe('SupportBot');
    expect(list.body.data[0].metadata.otel).toMatchObject({
      service_name: 'unknown_service:node',
      function_id: 'SupportBot',
    });
    await provider.shutdown();
  });
});
