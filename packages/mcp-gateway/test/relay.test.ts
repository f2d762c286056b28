/**
 * Everything the upstream offers passes through the gateway, in both directions, with the real MCP classes:
 * an `McpServer` upstream per session (a connector, in-memory), a `Client` downstream that supports sampling,
 * elicitation and roots, and a real hub on port 0. Also: resource reads and prompt gets on the run, `govern`,
 * and the HTTP endpoint's guards (Host/Origin, bearer token, the upstream's credentials kept upstream).
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createAgentOps } from '@agentops-hub/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CompleteRequestSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  SubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, type RunningHub, startHub } from '../../sdk/test/hub.ts';
import { createGateway, type GatewayOptions, type UpstreamInit } from '../src/gateway.ts';
import { serveHttp } from '../src/http.ts';
import { upstreamConnector } from '../src/upstream.ts';

let hub: RunningHub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => hub?.close());

/** What each upstream session saw: the client it was told about, and whether its slow tool was cancelled. */
const seen: { init: UpstreamInit[]; cancelled: boolean } = { init: [], cancelled: false };

/** An upstream that uses every feature: resources, templates, subscriptions, prompts, completion, logging… */
function upstreamServer() {
  const server = new McpServer(
    { name: 'everything', version: '3.0.0' },
    { capabilities: { resources: { subscribe: true }, logging: {}, completions: {} } },
  );
  server.registerResource('notes', 'note://today', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'buy milk' }],
  }));
  server.registerResource('secret', 'note://secret', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'the launch codes' }],
  }));
  server.registerResource(
    'order',
    new ResourceTemplate('order://{id}', { list: undefined }),
    { mimeType: 'application/json' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, text: JSON.stringify({ id }) }] }),
  );
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    setTimeout(() => void server.server.sendResourceUpdated({ uri: req.params.uri }), 10);
    return {};
  });
  server.server.setRequestHandler(CompleteRequestSchema, async (req) => ({
    completion: { values: [`${req.params.argument.value}-1`, `${req.params.argument.value}-2`], hasMore: false },
  }));
  server.registerPrompt('greet', { argsSchema: { name: z.string() } }, async ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello ${name}` } }],
  }));
  server.registerTool('ask_the_model', { inputSchema: { q: z.string() } }, async ({ q }, extra) => {
    const answer = await extra.sendRequest(
      {
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: { type: 'text', text: q } }], maxTokens: 10 },
      },
      z.object({ content: z.object({ text: z.string() }) }).passthrough(),
    );
    const form = await server.server.elicitInput({
      message: 'sure?',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
    });
    const roots = await server.server.listRoots();
    return {
      content: [
        {
          type: 'text',
          text: `${answer.content.text} | ${form.action} ${JSON.stringify(form.content)} | ${roots.roots[0]?.uri}`,
        },
      ],
    };
  });
  server.registerTool('slow', { inputSchema: {}, annotations: { readOnlyHint: true } }, async (_args, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 1; i <= 3; i++) {
      await server.server.sendLoggingMessage({ level: 'info', data: `step ${i}` }, extra.sessionId);
      if (token !== undefined)
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: 3 },
        });
    }
    if (extra._meta?.wait) {
      await new Promise<void>((r) => extra.signal.addEventListener('abort', () => r()));
      seen.cancelled = true;
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
  return server;
}

/** A fresh upstream server on one end of an in-memory pair; the other end is returned. */
async function connectedPair() {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await upstreamServer().connect(a);
  return b;
}

/** One upstream per session, connected in memory; it is told the client's capabilities, as over a real wire. */
const connector: GatewayOptions['upstream'] = async (init) => {
  seen.init.push(init);
  const client = new Client(init.clientInfo ?? { name: 'x', version: '0' }, { capabilities: init.capabilities });
  await client.connect(await connectedPair());
  return client;
};

let n = 0;
function gatewayFor(extra: Partial<GatewayOptions> = {}) {
  const agent = `RelayAgent${++n}`;
  const agentops = createAgentOps({
    hubUrl: hub.url,
    apiKey: hub.ingestKey,
    agent,
    logger: false,
    flushIntervalMs: 50,
  });
  return { agent, gateway: createGateway({ agentops, upstream: connector, agent, ...extra }) };
}

/** The reference upstream's transport of session `sid`, or a new session's (connected to a fresh server). */
async function sessionOf(transports: Map<string, StreamableHTTPServerTransport>, sid: string | undefined) {
  const known = sid ? transports.get(sid) : undefined;
  if (known) return known;
  const t = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => crypto.randomUUID(),
    onsessioninitialized: (id) => void transports.set(id, t),
  });
  await upstreamServer().connect(t);
  return t;
}

/**
 * Serves `upstream` on a loopback port with a gateway in front of it over Streamable HTTP (the upstream's
 * `headers`, the gateway's client `authToken`), runs `use` with the gateway's URL, then closes all three.
 */
/**
 * A Streamable HTTP upstream written by hand (no SDK), to send what the SDK would not: it answers `initialize` and
 * `tools/list` (its `tools`) as JSON (indented by `indent`), takes notifications with 202, and hands each
 * `tools/call` to `call`.
 */
function handWrittenUpstream(
  name: string,
  tools: string[],
  call: (m: { id: unknown; params: any }, res: ServerResponse) => unknown,
  indent?: number,
): Server {
  return createServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = JSON.parse(Buffer.concat(chunks).toString()) as { id?: unknown; method: string; params?: any };
    if (m.id === undefined) return void res.writeHead(202).end();
    if (m.method === 'tools/call') return call({ id: m.id, params: m.params }, res);
    const result =
      m.method === 'initialize'
        ? { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name, version: '1' } }
        : { tools: tools.map((t) => ({ name: t, inputSchema: { type: 'object' } })) };
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': `${name}-1` });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }, null, indent));
  });
}

async function throughGateway(
  upstream: Server,
  opts: { headers?: Record<string, string>; authToken?: string; sessionIdleMs?: number },
  use: (g: { agent: string; url: string }) => Promise<void>,
) {
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/mcp`;
  const { agent, gateway } = gatewayFor({ upstream: upstreamConnector({ url: upstreamUrl, headers: opts.headers }) });
  const http = await serveHttp(gateway, {
    port: 0,
    host: '127.0.0.1',
    authToken: opts.authToken,
    sessionIdleMs: opts.sessionIdleMs,
  });
  try {
    await use({ agent, url: http.url });
  } finally {
    await http.close();
    await gateway.close();
    upstream.closeAllConnections();
    upstream.close();
  }
}

/** A client that supports sampling, elicitation and roots, answering each with something recognisable. */
function richClient() {
  const client = new Client(
    { name: 'rich-client', version: '1.2.3' },
    { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
    model: 'test-model',
    role: 'assistant',
    content: { type: 'text', text: `model says hi to "${(req.params.messages[0]!.content as { text: string }).text}"` },
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: true } }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
  return client;
}

async function connectInMemory(gateway: ReturnType<typeof gatewayFor>['gateway'], client = richClient()) {
  const session = gateway.createSession();
  const [a, b] = InMemoryTransport.createLinkedPair();
  await session.server.connect(a);
  await client.connect(b);
  return { client, session };
}

const textOf = (r: any) => (r.content as { text: string }[]).map((c) => c.text).join('\n');
const runOf = async (agent: string, until: (run: any) => boolean) =>
  eventually(async () => {
    const list = await hub.api('GET', `/v1/runs?agent=${agent}`);
    const id = list.body?.data?.[0]?.id;
    const run = id && (await hub.api('GET', `/v1/runs/${id}`)).body;
    return run && until(run) && run;
  });

/**
 * Sampling, elicitation and roots from the upstream to the client during a tool call, logging and progress
 * back, and the client's cancellation up to the upstream's handler: through whichever gateway `client` is on.
 */
async function relaysBothWays(client: Client) {
  const r = await client.callTool({ name: 'ask_the_model', arguments: { q: 'what is 2+2' } });
  expect(textOf(r)).toBe('model says hi to "what is 2+2" | accept {"ok":true} | file:///work');

  const logs: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, async (x) => void logs.push(x.params.data));
  await client.setLoggingLevel('info');
  const progress: number[] = [];
  const slow = await client.callTool({ name: 'slow', arguments: {} }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  });
  expect(textOf(slow)).toBe('done');
  expect(progress).toEqual([1, 2, 3]);
  await eventually(async () => logs.length === 3);
  expect(logs).toEqual(['step 1', 'step 2', 'step 3']);

  // The client cancels: the upstream's handler sees its signal abort.
  seen.cancelled = false;
  const ctl = new AbortController();
  const pending = client.request(
    { method: 'tools/call', params: { name: 'slow', arguments: {}, _meta: { wait: true } } },
    z.object({}).passthrough(),
    { signal: ctl.signal },
  );
  await new Promise((r) => setTimeout(r, 200));
  ctl.abort('changed my mind');
  await expect(pending).rejects.toThrow();
  await eventually(async () => seen.cancelled);
}

describe('mcp gateway relay', () => {
  it('declares the upstream capabilities and relays resources, templates, subscriptions, prompts, completion', async () => {
    const { agent, gateway } = gatewayFor();
    const { client } = await connectInMemory(gateway);
    // The upstream was told who the client is and what it supports.
    expect(seen.init.at(-1)).toMatchObject({ clientInfo: { name: 'rich-client' }, capabilities: { sampling: {} } });
    expect(client.getServerVersion()).toMatchObject({ name: 'everything', version: '3.0.0' });
    expect(client.getServerCapabilities()).toMatchObject({
      resources: { subscribe: true },
      logging: {},
      completions: {},
    });

    expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual([
      'note://secret',
      'note://today',
    ]);
    expect((await client.listResourceTemplates()).resourceTemplates[0]?.uriTemplate).toBe('order://{id}');
    expect((await client.readResource({ uri: 'note://today' })).contents[0]).toMatchObject({ text: 'buy milk' });
    expect((await client.readResource({ uri: 'order://42' })).contents[0]).toMatchObject({ text: '{"id":"42"}' });
    // An upstream error comes back as the upstream sent it: the same code and message as without the gateway.
    const missing = await client.readResource({ uri: 'note://nope' }).catch((e) => e);
    const direct = new Client({ name: 'direct', version: '1' });
    await direct.connect(await connectedPair());
    const alone = await direct.readResource({ uri: 'note://nope' }).catch((e) => e);
    expect(alone.code).toBe(-32602);
    expect({ code: missing.code, message: missing.message }).toEqual({ code: alone.code, message: alone.message });
    await direct.close();

    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (x) => void updated.push(x.params.uri));
    await client.subscribeResource({ uri: 'note://today' });
    await eventually(async () => updated.includes('note://today'));

    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['greet']);
    const prompt = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    expect(prompt.messages[0]?.content).toMatchObject({ text: 'Hello Ada' });
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'greet' },
      argument: { name: 'name', value: 'Ad' },
    });
    expect(completion.completion.values).toEqual(['Ad-1', 'Ad-2']);

    // Resource reads and prompt gets are on the session's run, as log events.
    const run = await runOf(agent, (r) => r.events.filter((e: any) => e.payload?.mcp).length >= 4);
    const mcp = run.events.filter((e: any) => e.type === 'log' && e.payload.mcp).map((e: any) => e.payload.mcp);
    expect(mcp).toContainEqual({ action: 'mcp.resource_read', uri: 'note://today' });
    expect(mcp).toContainEqual({ action: 'mcp.prompt_get', name: 'greet', arguments: { name: 'Ada' } });
    await client.close();
  });

  it('relays sampling, elicitation and roots to the client, logging and progress back, and cancellation up', async () => {
    const { gateway } = gatewayFor();
    const { client } = await connectInMemory(gateway);
    await relaysBothWays(client);
    await client.close();
  });

  it('with govern, a policy can block a resource read or a prompt get; other reads go through', async () => {
    const { agent, gateway } = gatewayFor({ govern: { resources: true, prompts: true } });
    const policy = await hub.api('POST', '/v1/policies', {
      name: `No secrets for ${agent}`,
      status: 'active',
      rule: {
        when: {
          all: [
            { field: 'agent.name', op: 'eq', value: agent },
            { field: 'action.type', op: 'eq', value: 'mcp.resource_read' },
            { field: 'action.uri', op: 'eq', value: 'note://secret' },
          ],
        },
        then: 'block',
      },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);
    const { client } = await connectInMemory(gateway);
    const refused = await client.readResource({ uri: 'note://secret' }).catch((e) => e);
    expect(refused.code).toBe(-32003);
    expect(refused.message).toContain(`blocked by policy "No secrets for ${agent}"`);
    expect((await client.readResource({ uri: 'note://today' })).contents[0]).toMatchObject({ text: 'buy milk' });
    expect((await client.getPrompt({ name: 'greet', arguments: { name: 'Bo' } })).messages).toHaveLength(1);

    // Each governed request was decided by the hub on the session's run.
    const run = await runOf(agent, (r) => r.decisions?.length >= 3);
    const refusedEvent = run.events.find((e: any) => e.payload?.refused);
    expect(refusedEvent.payload).toMatchObject({ mcp: { action: 'mcp.resource_read', uri: 'note://secret' } });
    await client.close();
  });
});

describe('mcp gateway over HTTP', () => {
  it('refuses another Host or Origin on a loopback bind, and requires the bearer token when set', async () => {
    const { gateway } = gatewayFor();
    const http = await serveHttp(gateway, { port: 0, host: '127.0.0.1', authToken: 'gw-token' });
    try {
      const init = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
      };
      // node:http, not fetch: fetch does not let a caller set Host.
      const post = (headers: Record<string, string>, message: unknown = init) =>
        new Promise<{ status: number; headers: IncomingMessage['headers'] }>((resolve, reject) => {
          const req = request(http.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
          });
          req.on('response', (res) => {
            res.resume();
            resolve({ status: res.statusCode!, headers: res.headers });
          });
          req.on('error', reject);
          req.end(JSON.stringify(message));
        });
      const auth = { authorization: 'Bearer gw-token' };
      expect((await post({ ...auth, host: 'evil.example.com' })).status).toBe(403);
      expect((await post({ ...auth, origin: 'http://evil.example.com' })).status).toBe(403);
      const noToken = await post({});
      expect(noToken.status).toBe(401);
      expect(noToken.headers['www-authenticate']).toBe('Bearer');
      expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401);
      const ok = await post({ ...auth, origin: `http://localhost:${new URL(http.url).port}` });
      expect(ok.status).toBe(200);
      expect((await post({ ...auth, host: `[::1]:${new URL(http.url).port}` })).status).toBe(200);
      // The Streamable HTTP rules: both media types accepted, a session for anything but initialize.
      expect((await post({ ...auth, accept: 'application/json' })).status).toBe(406);
      const sid = ok.headers['mcp-session-id'] as string;
      expect(sid).toMatch(/^[0-9a-f-]{36}$/);
      expect((await post({ ...auth, 'mcp-session-id': 'nope' })).status).toBe(404);
      const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
      const session = { ...auth, 'mcp-session-id': sid };
      expect((await post({ ...session, 'mcp-protocol-version': '1999-01-01' }, ping)).status).toBe(400);
      expect((await post({ ...session, 'mcp-protocol-version': '2025-06-18' }, ping)).status).toBe(200);
    } finally {
      await http.close();
    }
  });

  it('relays a tools/call between two Streamable HTTP ends as bytes, with all the call does, recorded on the run', async () => {
    // The upstream notes the id of each tools/call it gets: the gateway's own (a string), never the client's.
    const callIds: unknown[] = [];
    const transports = new Map<string, StreamableHTTPServerTransport>();
    const upstream = createServer(async (req, res) => {
      let body: unknown;
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        body = JSON.parse(Buffer.concat(chunks).toString());
        for (const m of [body].flat() as { method?: string; id?: unknown }[])
          if (m.method === 'tools/call') callIds.push(m.id);
      }
      const transport = await sessionOf(transports, req.headers['mcp-session-id'] as string | undefined);
      await transport.handleRequest(req, res, body);
    });
    await throughGateway(upstream, {}, async ({ agent, url }) => {
      const client = richClient();
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      await relaysBothWays(client);
      expect(callIds).toHaveLength(3);
      expect(callIds.every((id) => typeof id === 'string' && id.startsWith('gw-'))).toBe(true);
      // An unknown tool: the upstream's own answer (a tool error) comes back as it wrote it.
      const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} });
      expect(unknown.isError).toBe(true);
      expect(textOf(unknown)).toBe('MCP error -32602: Tool no_such_tool not found');
      // Each call is on the run, with its result, as the SDK path records it.
      const run = await runOf(agent, (r) => r.events.filter((e: any) => e.type === 'tool_result').length >= 3);
      const asked = run.events.find((e: any) => e.type === 'tool_result' && e.payload.tool === 'ask_the_model');
      expect(asked.payload).toMatchObject({ is_error: false });
      expect(JSON.stringify(asked.payload.result)).toContain('model says hi');
      expect(run.events.filter((e: any) => e.type === 'tool_called').length).toBeGreaterThanOrEqual(3);
      await client.close();
    });
  });

  it('relays a pretty-printed answer of the upstream as bytes, each of its lines its own SSE data line', async () => {
    // A hand-written upstream that answers every request as indented JSON (legal JSON-RPC over HTTP): its
    // line breaks must not end the event's data field early, or the client gets cut JSON and never its answer.
    const upstream = handWrittenUpstream(
      'pretty',
      ['pretty_echo'],
      (m, res) => {
        const result = {
          content: [{ type: 'text', text: `line one\nline two: ${JSON.stringify(m.params.arguments)}` }],
        };
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'pretty-1' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }, null, 2));
      },
      2,
    );
    await throughGateway(upstream, {}, async ({ url }) => {
      const client = new Client({ name: 'plain-client', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      const r = await client.callTool({ name: 'pretty_echo', arguments: { say: 'hi' } });
      expect(textOf(r)).toBe('line one\nline two: {"say":"hi"}');
      await client.close();
    });
  });

  it("reads an upstream's event stream whatever its chunks: a character split between two, a line over many", async () => {
    // A hand-written upstream that answers tools/call as an event stream written a few bytes at a time, with
    // pauses, so that the gateway gets UTF-8 sequences cut in two and one long line in many chunks.
    const text = `héllo 🌍 ${'ü'.repeat(70_000)} 日本`;
    const upstream = handWrittenUpstream('chunky', ['chunky_echo'], async (m, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 'chunky-1' });
      const event = Buffer.from(
        `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text }] } })}\n\n`,
      );
      // The first cuts fall inside "é" and "🌍" (2 and 4 bytes); then 4 KiB pieces, each its own write.
      const h = event.indexOf(Buffer.from('héllo'));
      const cuts = [h + 2, h + 8, h + 10];
      for (let at = cuts[2]! + 4096; at < event.length; at += 4096) cuts.push(at);
      let prev = 0;
      for (const at of [...cuts, event.length]) {
        res.write(event.subarray(prev, at));
        prev = at;
        await new Promise((r) => setTimeout(r, 2));
      }
      res.end();
    });
    await throughGateway(upstream, {}, async ({ url }) => {
      const client = new Client({ name: 'plain-client', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      const r = await client.callTool({ name: 'chunky_echo', arguments: {} });
      expect(textOf(r)).toBe(text);
      await client.close();
    });
  });

  it('ends a session left without a request and with no stream open; one with its stream open stays', async () => {
    const upstream = handWrittenUpstream('idle', [], () => {
      throw new Error('no tool to call');
    });
    await throughGateway(upstream, { sessionIdleMs: 2000 }, async ({ url }) => {
      const headers = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
      const open = async () => {
        const init = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'idle', version: '1' } },
          }),
        });
        await init.text();
        const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id')! };
        await (
          await fetch(url, {
            method: 'POST',
            headers: session,
            body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
          })
        ).text();
        return session;
      };
      const list = (session: Record<string, string>) =>
        fetch(url, {
          method: 'POST',
          headers: session,
          body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
        }).then(async (r) => {
          await r.text();
          return r.status;
        });
      const idle = await open();
      const listening = await open();
      const stream = await fetch(url, { headers: { ...listening, accept: 'text/event-stream' } });
      expect(stream.status).toBe(200);
      // Used now and then, a session stays however long it lives.
      const used = await open();
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 400));
        expect(await list(used)).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 1600));
      expect(await list(idle)).toBe(404);
      expect(await list(listening)).toBe(200);
      await stream.body?.cancel();
    });
  });

  it('sends the upstream its own credentials only, one upstream session per client session, ended with it', async () => {
    // A real Streamable HTTP upstream that requires its own bearer token and notes what it was sent.
    const requests: IncomingMessage['headers'][] = [];
    const transports = new Map<string, StreamableHTTPServerTransport>();
    let deleted = 0;
    const upstream = createServer(async (req, res) => {
      requests.push(req.headers);
      if (req.headers.authorization !== 'Bearer upstream-secret') return void res.writeHead(401).end();
      if (req.method === 'DELETE') deleted++;
      const transport = await sessionOf(transports, req.headers['mcp-session-id'] as string | undefined);
      await transport.handleRequest(req, res);
    });
    const seenByClient: string[] = [];
    const recordingFetch: typeof fetch = async (url, init) => {
      const res = await fetch(url, init);
      seenByClient.push(JSON.stringify([...res.headers]));
      return res;
    };
    const upstreamAuth = { headers: { Authorization: 'Bearer upstream-secret' }, authToken: 'gw-token' };
    await throughGateway(upstream, upstreamAuth, async ({ url }) => {
      const clients = [richClient(), richClient()];
      for (const c of clients)
        await c.connect(
          new StreamableHTTPClientTransport(new URL(url), {
            requestInit: { headers: { authorization: 'Bearer gw-token' } },
            fetch: recordingFetch,
          }),
        );
      const read = await clients[0]!.readResource({ uri: 'note://today' });
      expect(JSON.stringify(read)).not.toContain('upstream-secret');
      expect(transports.size).toBe(2);
      // The gateway's own token never reaches the upstream; the upstream's never reaches the client.
      expect(requests.every((h) => h.authorization === 'Bearer upstream-secret')).toBe(true);
      expect(seenByClient.join('\n')).not.toContain('upstream-secret');
      // A notification outside any request reaches the client on its standalone stream (GET /mcp).
      const updated: string[] = [];
      clients[1]!.setNotificationHandler(
        ResourceUpdatedNotificationSchema,
        async (x) => void updated.push(x.params.uri),
      );
      await clients[1]!.subscribeResource({ uri: 'note://today' });
      await eventually(async () => updated.includes('note://today'));
      // Ending a client session (DELETE /mcp) ends its upstream session.
      await (clients[0]!.transport as StreamableHTTPClientTransport).terminateSession();
      await eventually(async () => deleted === 1);
      for (const c of clients) await c.close();
    });
  });
});
