/**
 * What the drop-in tests share: a real hub listening on 127.0.0.1 (exporters and clients need a URL, not
 * `inject`), and a scripted OpenAI-compatible model on loopback that the real `openai` client (and every
 * instrumentation that patches it) talks to over HTTP. Only the model is scripted; the instrumentation
 * packages, their exporters and the hub run for real.
 *
 * @example
 * const hub = await startListeningHub();
 * const model = await startScriptedModel([{ content: 'Refund sent.', input_tokens: 120, output_tokens: 8 }]);
 * const client = new OpenAI({ baseURL: model.baseUrl, apiKey: 'scripted' });
 * // … instrument, call, flush, then read the run back with hub.t.request('GET', '/v1/runs?…', { auth: org.apiKey })
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestHub, type SeededOrg, type TestHub } from '../../src/testing/test-hub.ts';

export interface ListeningHub {
  t: TestHub;
  /** `http://127.0.0.1:<port>`: the base URL an exporter or client is pointed at. */
  url: string;
  org: SeededOrg;
  close(): Promise<void>;
}

/** A test hub with one seeded org, listening on a free loopback port. */
export async function startListeningHub(env: Record<string, string> = {}): Promise<ListeningHub> {
  const t = await createTestHub(env);
  const address = await t.hub.app.listen({ port: 0, host: '127.0.0.1' });
  const org = await t.seedOrg();
  return { t, url: address, org, close: () => t.close() };
}

export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ScriptedReply {
  /** The assistant's text (null with tool calls only). */
  content: string | null;
  tool_calls?: ScriptedToolCall[];
  input_tokens: number;
  output_tokens: number;
  cached_tokens?: number;
  reasoning_tokens?: number;
}

export interface ScriptedModel {
  /** `http://127.0.0.1:<port>/v1`: the `baseURL` of an OpenAI client. */
  baseUrl: string;
  /** Every request body the model received, in order. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/**
 * An OpenAI-compatible Chat Completions endpoint (`POST /v1/chat/completions`, non-streaming) that answers
 * each call with the next scripted reply (the last one repeats), with realistic usage figures.
 */
export async function startScriptedModel(replies: ScriptedReply[], model = 'gpt-4o-mini'): Promise<ScriptedModel> {
  const requests: Record<string, unknown>[] = [];
  let turn = 0;
  const server: Server = createServer((req, res) => {
    readJson(req)
      .then((body) => {
        if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { message: `the scripted model answers only chat completions, not ${req.url}` } }),
          );
          return;
        }
        requests.push(body);
        const reply = replies[Math.min(turn, replies.length - 1)]!;
        turn++;
        const toolCalls = reply.tool_calls?.map((c, i) => ({
          id: `call_scripted_${turn}_${i}`,
          type: 'function',
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        }));
        const answer = {
          id: `chatcmpl-scripted-${turn}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: typeof body.model === 'string' ? body.model : model,
          system_fingerprint: 'fp_scripted',
          choices: [
            {
              index: 0,
              finish_reason: toolCalls?.length ? 'tool_calls' : 'stop',
              logprobs: null,
              message: {
                role: 'assistant',
                content: reply.content,
                refusal: null,
                ...(toolCalls ? { tool_calls: toolCalls } : {}),
              },
            },
          ],
          usage: {
            prompt_tokens: reply.input_tokens,
            completion_tokens: reply.output_tokens,
            total_tokens: reply.input_tokens + reply.output_tokens,
            prompt_tokens_details: { cached_tokens: reply.cached_tokens ?? 0, audio_tokens: 0 },
            completion_tokens_details: { reasoning_tokens: reply.reasoning_tokens ?? 0, audio_tokens: 0 },
          },
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      })
      .catch((e) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(e) } }));
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Polls `read` until `done` holds (ingestion and enrichment are asynchronous), or fails after `ms`. */
export async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${ms} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await read();
  }
  return last;
}
