/**
 * The integrations against a real hub: the official `openai` client pointed at a local HTTP server that speaks
 * the OpenAI API (JSON and server-sent events), and the Vercel AI SDK driven by its own mock language model.
 */
import { createServer, type Server } from 'node:http';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAgentOps } from '../src/index.ts';
import { agentOpsTelemetry } from '../src/integrations/ai-sdk.ts';
import { wrapOpenAI } from '../src/integrations/openai.ts';
import { eventually, type RunningHub, startHub } from './hub.ts';

let hub: RunningHub;
let fake: Server;
let fakeUrl = '';
const seen: { path: string; body: any }[] = [];

/** Answers /v1/chat/completions and /v1/responses like OpenAI does, with fixed usage. */
function startFakeOpenAI(): Promise<void> {
  fake = createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const body = raw ? JSON.parse(raw) : {};
    seen.push({ path: req.url ?? '', body });
    if (req.url === '/v1/chat/completions' && !body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: `${body.model}-2024-07-18`,
          choices: [
            { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello!', refusal: null } },
          ],
          usage: {
            prompt_tokens: 1200,
            completion_tokens: 300,
            total_tokens: 1500,
            prompt_tokens_details: { cached_tokens: 200 },
            completion_tokens_details: { reasoning_tokens: 0 },
          },
        }),
      );
    } else if (req.url === '/v1/chat/completions') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      const base = { id: 'chatcmpl-2', object: 'chat.completion.chunk', created: 1, model: body.model };
      chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] });
      chunk({ ...base, choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] });
      if (body.stream_options?.include_usage)
        chunk({ ...base, choices: [], usage: { prompt_tokens: 50, completion_tokens: 7, total_tokens: 57 } });
      res.end('data: [DONE]\n\n');
    } else if (req.url === '/v1/responses') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'resp_1',
          object: 'response',
          created_at: 1,
          model: body.model,
          status: 'completed',
          output: [],
          usage: {
            input_tokens: 400,
            output_tokens: 80,
            total_tokens: 480,
            input_tokens_details: { cached_tokens: 0 },
          },
        }),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((r) =>
    fake.listen(0, '127.0.0.1', () => {
      fakeUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}/v1`;
      r();
    }),
  );
}

beforeAll(async () => {
  hub = await startHub();
  await startFakeOpenAI();
});
afterAll(async () => {
  await new Promise<void>((r) => fake.close(() => r()));
  await hub?.close();
});

let n = 0;
const client = () =>
  createAgentOps({
    hubUrl: hub.url,
    apiKey: hub.ingestKey,
    agent: `Integrated${++n}`,
    logger: false,
    flushIntervalMs: 100,
  });

async function settledRun(id: string) {
  return eventually(async () => {
    const r = await hub.api('GET', `/v1/runs/${id}`);
    const calls = r.body?.events?.filter((e: any) => e.type === 'llm_call') ?? [];
    return r.status === 200 && r.body.status !== 'running' && calls.every((e: any) => e.cost_usd !== null) && r.body;
  });
}

describe('openai', () => {
  it('records model, tokens and the hub-priced cost of chat completions, plain and streamed, and responses', async () => {
    const ops = client();
    const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: fakeUrl, maxRetries: 0 }), ops);
    let runId = '';
    await ops.run('chat', async (run) => {
      runId = run.id;
      const r = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(r.choices[0].message.content).toBe('Hello!');
      // The client's own promise comes back: .withResponse() still works.
      const { data, response } = await openai.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] })
        .withResponse();
      expect(response.status).toBe(200);
      expect(data.usage?.total_tokens).toBe(1500);
      const stream = await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'stream' }],
        stream: true,
      });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      expect(text).toBe('Hello');
      await openai.responses.create({ model: 'gpt-4.1-mini', input: 'hi' });
    });
    // The wrapper asked the stream for its usage.
    expect(seen.find((s) => s.body.stream)?.body.stream_options).toEqual({ include_usage: true });
    await ops.flush();
    const run = await settledRun(runId);
    const calls = run.events.filter((e: any) => e.type === 'llm_call');
    expect(calls.map((e: any) => e.payload.model)).toEqual([
      'gpt-4o-mini-2024-07-18',
      'gpt-4o-mini-2024-07-18',
      'gpt-4o',
      'gpt-4.1-mini',
    ]);
    expect(calls[0].payload).toMatchObject({
      provider: 'openai',
      input_tokens: 1200,
      output_tokens: 300,
      cached_input_tokens: 200,
    });
    expect(calls[2].payload).toMatchObject({ input_tokens: 50, output_tokens: 7 });
    expect(calls[3].payload).toMatchObject({ input_tokens: 400, output_tokens: 80 });
    for (const c of calls) expect(c.cost_usd).toBeGreaterThan(0);
    expect(run.input_tokens).toBe(1200 + 1200 + 50 + 400);
    expect(run.cost_usd).toBeGreaterThan(0);
  });

  it('a failed call is not recorded and its error reaches the caller unchanged', async () => {
    const ops = client();
    const openai = wrapOpenAI(new OpenAI({ apiKey: 'sk-test', baseURL: `${fakeUrl}/missing`, maxRetries: 0 }), ops);
    let runId = '';
    const err = await ops
      .run('bad', (run) => {
        runId = run.id;
        return openai.chat.completions.create({ model: 'gpt-4o', messages: [] });
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    await ops.flush();
    const run = await settledRun(runId);
    expect(run.status).toBe('failed');
    expect(run.events.some((e: any) => e.type === 'llm_call')).toBe(false);
  });
});

describe('Vercel AI SDK', () => {
  const usage = (input: number, output: number) => ({
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  });

  /** A scripted model: first a tool call, then text. */
  const scripted = () => {
    let step = 0;
    return new MockLanguageModelV3({
      provider: 'openai.chat',
      modelId: 'gpt-4o-mini',
      doGenerate: async () =>
        step++ === 0
          ? {
              content: [
                { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: JSON.stringify({ city: 'Oslo' }) },
              ],
              finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
              usage: usage(300, 20),
              warnings: [],
            }
          : {
              content: [{ type: 'text', text: 'It is 4°C in Oslo.' }],
              finishReason: { unified: 'stop', raw: 'stop' },
              usage: usage(400, 12),
              warnings: [],
            },
    });
  };
  const tools = {
    weather: tool({
      description: 'weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => ({ city, celsius: 4 }),
    }),
  };

  it('records each step as an llm_call and each tool execution, inside agentops.run', async () => {
    const ops = client();
    let runId = '';
    const text = await ops.run('weather', async (run) => {
      runId = run.id;
      const r = await generateText({
        model: scripted(),
        tools,
        stopWhen: stepCountIs(3),
        prompt: 'Weather in Oslo?',
        experimental_telemetry: { isEnabled: true, integrations: agentOpsTelemetry(ops) },
      });
      return r.text;
    });
    expect(text).toBe('It is 4°C in Oslo.');
    await ops.flush();
    const run = await settledRun(runId);
    const types = run.events.map((e: any) => e.type);
    expect(types.filter((t: string) => t === 'llm_call')).toHaveLength(2);
    const called = run.events.find((e: any) => e.type === 'tool_called');
    expect(called.payload).toMatchObject({ tool: 'weather', args: { city: 'Oslo' } });
    const result = run.events.find((e: any) => e.type === 'tool_result');
    expect(result.payload.result).toEqual({ city: 'Oslo', celsius: 4 });
    const llm = run.events.filter((e: any) => e.type === 'llm_call').map((e: any) => e.payload);
    expect(llm[0]).toMatchObject({ model: 'gpt-4o-mini', provider: 'openai', input_tokens: 300, output_tokens: 20 });
    expect(run.input_tokens).toBe(700);
    expect(run.cost_usd).toBeGreaterThan(0);
  });

  it('outside a run, each call becomes a run of its own named by functionId (streamText too)', async () => {
    const ops = client();
    const r = await generateText({
      model: scripted(),
      tools,
      stopWhen: stepCountIs(3),
      prompt: 'Weather?',
      experimental_telemetry: { isEnabled: true, functionId: 'weather-bot', integrations: agentOpsTelemetry(ops) },
    });
    expect(r.text).toContain('Oslo');
    const streamed = streamText({
      model: new MockLanguageModelV3({
        doStream: async () => ({
          stream: new ReadableStream({
            start(c) {
              c.enqueue({ type: 'text-start', id: 't' });
              c.enqueue({ type: 'text-delta', id: 't', delta: 'Hi' });
              c.enqueue({ type: 'text-end', id: 't' });
              c.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(10, 2) });
              c.close();
            },
          }),
        }),
      }),
      prompt: 'Say hi',
      experimental_telemetry: { isEnabled: true, functionId: 'greeter', integrations: agentOpsTelemetry(ops) },
    });
    expect(await streamed.text).toBe('Hi');
    await ops.flush();
    const agent = ops.agent!;
    const runs = await eventually(async () => {
      const list = await hub.api('GET', `/v1/runs?agent=${agent}`);
      return (
        list.body.data.length === 2 && list.body.data.every((x: any) => x.status === 'completed') && list.body.data
      );
    });
    const names = runs.map((x: any) => x.metadata.name).sort();
    expect(names).toEqual(['greeter', 'weather-bot']);
    const weather = runs.find((x: any) => x.metadata.name === 'weather-bot');
    expect(weather.input).toEqual({ prompt: 'Weather?' });
    expect(weather.output).toMatchObject({ text: 'It is 4°C in Oslo.' });
  });
});
