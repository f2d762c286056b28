/**
 * Drop-in: a Langfuse user changes the base URL and keeps their code. Two real Langfuse SDKs, each pointed
 * at a hub listening on loopback with a hub API key as the secret key and any public key:
 * 1. `@langfuse/otel` 5 (`LangfuseSpanProcessor`) on an OpenTelemetry tracer provider. `@langfuse/tracing`
 *    is not installed here, so the spans are made by the OTel API the way it makes them: tracer
 *    `langfuse-sdk`, Langfuse's own attribute names (`LangfuseOtelSpanAttributes` from `@langfuse/core`),
 *    around a real `openai` call to the scripted model. The processor exports to
 *    `/api/public/otel/v1/traces` with Basic auth.
 * 2. The `langfuse` v3 client: `trace()`, `generation()` with usage, `span()`, `event()`, `score()`,
 *    `flushAsync()` against `/api/public/ingestion`; its batch, sent again, adds nothing.
 */
import { LANGFUSE_TRACER_NAME, LangfuseOtelSpanAttributes as LF } from '@langfuse/core';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Langfuse } from 'langfuse';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ListeningHub, type ScriptedModel, startListeningHub, startScriptedModel } from './harness.ts';

let hub: ListeningHub;
let model: ScriptedModel;
let client: OpenAI;

beforeAll(async () => {
  hub = await startListeningHub();
  model = await startScriptedModel([{ content: 'Your refund was sent today.', input_tokens: 120, output_tokens: 8 }]);
  client = new OpenAI({ baseURL: model.baseUrl, apiKey: 'scripted' });
});

afterAll(async () => {
  await model?.close();
  await hub?.close();
});

const auth = () => ({ auth: hub.org.apiKey });
const PROMPT = 'Where is my refund for order 7?';

describe('@langfuse/otel span processor → /api/public/otel/v1/traces', () => {
  it('gives a run with agent, model, tokens, cost, prompt and completion', async () => {
    // The processor as Langfuse's docs set it up, with the hub's URL and an ingest key as the secret key.
    const processor = new LangfuseSpanProcessor({
      baseUrl: hub.url,
      publicKey: 'pk-lf-anything',
      secretKey: hub.org.apiKey,
    });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    const tracer = provider.getTracer(LANGFUSE_TRACER_NAME);

    const root = tracer.startSpan('handle-refund-question', {
      attributes: {
        [LF.OBSERVATION_TYPE]: 'span',
        [LF.TRACE_NAME]: 'lf-otel-support',
        [LF.TRACE_USER_ID]: 'user-7',
        [LF.TRACE_INPUT]: JSON.stringify({ question: PROMPT }),
      },
    });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: PROMPT }];
    const generation = tracer.startSpan(
      'chat-completion',
      {
        attributes: {
          [LF.OBSERVATION_TYPE]: 'generation',
          [LF.OBSERVATION_MODEL]: 'gpt-4o-mini',
          [LF.OBSERVATION_INPUT]: JSON.stringify(messages),
        },
      },
      trace.setSpan(context.active(), root),
    );
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    // What `@langfuse/openai` records from the response: the message and the usage.
    generation.setAttributes({
      [LF.OBSERVATION_OUTPUT]: JSON.stringify(answer.choices[0]!.message),
      [LF.OBSERVATION_USAGE_DETAILS]: JSON.stringify({
        input: answer.usage!.prompt_tokens,
        output: answer.usage!.completion_tokens,
        total: answer.usage!.total_tokens,
      }),
    });
    generation.end();
    root.setAttribute(LF.TRACE_OUTPUT, JSON.stringify({ answer: answer.choices[0]!.message.content }));
    root.end();
    await provider.forceFlush();
    await provider.shutdown();

    const traceId = root.spanContext().traceId;
    const run = await eventually(
      () => hub.t.request('GET', `/v1/runs/otel_${traceId}`, auth()),
      (r) => r.status === 200 && r.body.cost_usd > 0,
    );
    expect(run.body.agent_name).toBe('lf-otel-support');
    expect(run.body.status).toBe('completed');
    expect(run.body.input).toEqual({ question: PROMPT });
    expect(run.body.input_tokens).toBe(120);
    expect(run.body.output_tokens).toBe(8);
    const llm = run.body.events.find((e: any) => e.type === 'llm_call');
    expect(llm.payload.model).toBe('gpt-4o-mini');
    expect(JSON.stringify(llm.payload.input_messages)).toContain(PROMPT);
    expect(JSON.stringify(llm.payload.output_messages)).toContain('Your refund was sent today.');
  });
});

describe('langfuse v3 client → /api/public/ingestion', () => {
  it('gives a complete run with cost, prompt and completion; the same batch again adds nothing', async () => {
    const langfuse = new Langfuse({ baseUrl: hub.url, publicKey: 'support-bot', secretKey: hub.org.apiKey });
    // The batches as they went over the wire, to send one again the way the SDK retries.
    const sent: { url: string; headers: Record<string, string>; body: string }[] = [];
    const send = langfuse.fetch.bind(langfuse);
    langfuse.fetch = (url, options) => {
      if (String(url).endsWith('/api/public/ingestion'))
        sent.push({ url: String(url), headers: { ...options.headers }, body: String(options.body) });
      return send(url, options);
    };
    const errors: unknown[] = [];
    langfuse.on('error', (e) => errors.push(e));

    const lfTrace = langfuse.trace({
      name: 'refund-flow',
      userId: 'user-9',
      sessionId: 'chat-3',
      tags: ['refunds'],
      input: { question: PROMPT },
    });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: PROMPT }];
    const generation = lfTrace.generation({ name: 'answer', model: 'gpt-4o-mini', input: messages });
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    generation.end({
      output: answer.choices[0]!.message,
      usage: { input: answer.usage!.prompt_tokens, output: answer.usage!.completion_tokens },
    });
    const lookup = lfTrace.span({ name: 'crm_lookup', input: { order: 7 }, metadata: { type: 'tool' } });
    lookup.end({ output: { status: 'refunded' } });
    lfTrace.event({ name: 'customer-notified' });
    lfTrace.score({ name: 'helpfulness', value: 1 });
    lfTrace.update({ output: { answer: answer.choices[0]!.message.content } });
    await langfuse.flushAsync();
    expect(errors).toEqual([]);

    const run = await eventually(
      () => hub.t.request('GET', `/v1/runs/${lfTrace.id}`, auth()),
      (r) => r.status === 200 && r.body.cost_usd > 0,
    );
    expect(run.body.agent_name).toBe('support-bot');
    expect(run.body.status).toBe('completed');
    expect(run.body.input).toEqual({ question: PROMPT });
    expect(run.body.output).toEqual({ answer: 'Your refund was sent today.' });
    expect(run.body.metadata.langfuse).toMatchObject({ name: 'refund-flow', user_id: 'user-9', session_id: 'chat-3' });
    expect(run.body.input_tokens).toBe(120);
    expect(run.body.output_tokens).toBe(8);
    const llm = run.body.events.filter((e: any) => e.type === 'llm_call');
    expect(llm).toHaveLength(1);
    expect(llm[0].payload.model).toBe('gpt-4o-mini');
    expect(JSON.stringify(llm[0].payload.input)).toContain(PROMPT);
    expect(JSON.stringify(llm[0].payload.output)).toContain('Your refund was sent today.');
    const types = run.body.events.map((e: any) => e.type).sort();
    expect(types).toEqual(['llm_call', 'log', 'log', 'tool_called', 'tool_result']);

    // A retry: the same batch, byte for byte, with the same credentials.
    expect(sent.length).toBeGreaterThan(0);
    for (const { url, headers, body } of sent) {
      const res = await fetch(url, { method: 'POST', headers, body });
      expect(res.status).toBe(207);
      expect(((await res.json()) as { errors: unknown[] }).errors).toEqual([]);
    }
    const again = await hub.t.request('GET', `/v1/runs/${lfTrace.id}`, auth());
    expect(again.body.events).toHaveLength(run.body.events.length);
    expect(again.body.input_tokens).toBe(120);
    expect(again.body.cost_usd).toBeCloseTo(run.body.cost_usd, 9);
    await langfuse.shutdownAsync();
  });
});
