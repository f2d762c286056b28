/**
 * A broken Streamable HTTP stream is resumed without losing a message: the SDK's own client talks to the gateway
 * through a TCP proxy that the test cuts in the middle of a tool call's stream, and keeps closed while the call
 * goes on; the client reconnects with `Last-Event-ID` (its resumption token) and gets what it missed. A real hub
 * (port 0) decides the call; the upstream is an `McpServer` in memory whose tool the test paces.
 */
import { createServer as httpServer } from 'node:http';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { createAgentOps } from '@agentops-hub/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, type RunningHub, startHub } from '../../sdk/test/hub.ts';
import { createGateway } from '../src/gateway.ts';
import { serveHttp } from '../src/http.ts';
import { parseEventId, ReplayBuffer } from '../src/replay-buffer.ts';
import { upstreamConnector } from '../src/upstream.ts';

let hub: RunningHub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => hub?.close());

/** Lets the test hold the upstream tool between its first progress notification and the rest. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/**
 * An upstream whose `steps` tool reports progress 1, 2 and 3 and answers, waiting for the test after progress 1
 * (or, with `quiet_first`, before it: a call that sends nothing for a while, as one waiting for a person).
 */
function upstream(hold: ReturnType<typeof gate>, finished: ReturnType<typeof gate>) {
  const server = new McpServer({ name: 'paced', version: '1.0.0' });
  server.registerTool('steps', { inputSchema: { quiet_first: z.boolean() } }, async ({ quiet_first }, extra) => {
    const progressToken = extra._meta?.progressToken ?? 0;
    const progress = (n: number) =>
      extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: n, total: 3 } });
    if (quiet_first) await hold.opened;
    await progress(1);
    await hold.opened;
    await progress(2);
    await progress(3);
    setTimeout(finished.open, 50);
    return { content: [{ type: 'text', text: 'all three steps done' }] };
  });
  return server;
}

/**
 * The upstream's event store: every event in order, ids `<stream>_<n>`. (The SDK's example store orders the
 * events of one millisecond by a random suffix, so a replay may swap them.)
 */
function orderedEventStore(): EventStore {
  const events: { id: string; stream: string; message: JSONRPCMessage }[] = [];
  return {
    async storeEvent(stream, message) {
      const id = `${stream}_${events.length}`;
      events.push({ id, stream, message });
      return id;
    },
    async getStreamIdForEventId(id) {
      return events.find((e) => e.id === id)?.stream;
    },
    async replayEventsAfter(lastId, { send }) {
      const at = events.findIndex((e) => e.id === lastId);
      const stream = events[at]!.stream;
      for (const e of events.slice(at + 1)) if (e.stream === stream) await send(e.id, e.message);
      return stream;
    },
  };
}

/**
 * A TCP proxy in front of the gateway: `cut()` destroys every connection through it and holds new ones until
 * `restore()`, as a network that breaks and comes back does. Requests seen are kept (their first line and headers).
 */
async function proxyTo(port: number) {
  const pairs = new Set<[Socket, Socket]>();
  const held: Socket[] = [];
  const requests: string[] = [];
  let up = true;
  const pipe = (client: Socket) => {
    const server = tcpConnect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [client, server];
    pairs.add(pair);
    client.on('data', (b) => requests.push(b.toString('latin1')));
    client.pipe(server).pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', drop).on('close', drop);
    server.on('error', drop).on('close', drop);
  };
  const proxy: Server = createServer((client) => (up ? pipe(client) : held.push(client)));
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}/mcp`,
    requests,
    cut() {
      up = false;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    restore() {
      up = true;
      for (const c of held.splice(0)) pipe(c);
    },
    close() {
      this.cut();
      return new Promise<void>((r) => proxy.close(() => r()));
    },
  };
}

async function gatewayOverHttp(hold: ReturnType<typeof gate>, finished: ReturnType<typeof gate>, agent = 'ResumeBot') {
  const agentops = createAgentOps({
    hubUrl: hub.url,
    apiKey: hub.ingestKey,
    agent,
    logger: false,
    flushIntervalMs: 50,
  });
  const gateway = createGateway({
    agentops,
    agent,
    upstream: async (init) => {
      const [a, b] = InMemoryTransport.createLinkedPair();
      await upstream(hold, finished).connect(a);
      const client = new Client(init.clientInfo ?? { name: 'x', version: '0' }, { capabilities: init.capabilities });
      await client.connect(b);
      return client;
    },
  });
  const http = await serveHttp(gateway, { port: 0, host: '127.0.0.1' });
  return { gateway, http };
}

describe('mcp gateway: resuming a broken Streamable HTTP stream', () => {
  /**
   * Calls `steps` through a proxy that is cut when the client has seen the first event of the call's stream
   * (`cutAt`: the first progress, or the priming event of a call that stays quiet), kept closed until the call
   * has finished upstream, then restored.
   */
  async function cutMidCall(cutAt: 'progress' | 'priming', agent: string) {
    const hold = gate();
    const finished = gate();
    const { gateway, http } = await gatewayOverHttp(hold, finished, agent);
    const proxy = await proxyTo(Number(new URL(http.url).port));
    const client = new Client({ name: 'resuming-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(proxy.url), {
        reconnectionOptions: {
          initialReconnectionDelay: 20,
          maxReconnectionDelay: 100,
          reconnectionDelayGrowFactor: 1,
          maxRetries: 50,
        },
      }),
    );
    const progress: number[] = [];
    let lastSeen: string | undefined;
    // The network breaks; the call goes on upstream while the client is away.
    const cut = (token: string | undefined) => {
      lastSeen = token;
      proxy.cut();
      hold.open();
    };
    let token: string | undefined;
    const call = client.callTool({ name: 'steps', arguments: { quiet_first: cutAt === 'priming' } }, undefined, {
      onprogress: (p) => {
        progress.push(p.progress);
        // A priming event may come before progress 1 when the decision took over half a second.
        if (cutAt === 'progress' && p.progress === 1) cut(token);
      },
      onresumptiontoken: (t) => {
        token = t;
        if (cutAt === 'priming' && lastSeen === undefined) cut(t);
      },
    });
    await finished.opened;
    // Everything the call sent meanwhile (its progress, its result) is waiting in the gateway's buffer.
    proxy.restore();
    const result = await call;

    expect(result.content).toEqual([{ type: 'text', text: 'all three steps done' }]);
    expect(progress).toEqual([1, 2, 3]);
    // The client resumed from the id of the last event it had, on a GET with Last-Event-ID.
    expect(lastSeen).toMatch(/^\d+-\d+$/);
    const resumed = proxy.requests.find((r) => r.startsWith('GET') && /\r\nlast-event-id: /i.test(r));
    expect(resumed).toContain(`last-event-id: ${lastSeen}`);
    // The call was decided by the hub and recorded once, however many connections carried it.
    const run = await eventually(async () => {
      const list = await hub.api('GET', `/v1/runs?agent=${agent}`);
      const id = list.body?.data?.[0]?.id;
      const r = id && (await hub.api('GET', `/v1/runs/${id}`)).body;
      return r?.events?.some((e: { type: string }) => e.type === 'tool_result') && r;
    });
    expect(run.events.filter((e: { type: string }) => e.type === 'tool_called')).toHaveLength(1);

    await client.close();
    await proxy.close();
    await http.close();
    await gateway.close();
  }

  it('a client cut off in the middle of a tool call resumes with Last-Event-ID and loses no message', async () => {
    await cutMidCall('progress', 'ResumeBot1');
  });

  it('a call quiet for over half a second sends a priming event, so it resumes from before its first message', async () => {
    await cutMidCall('priming', 'ResumeBot2');
  });

  /**
   * The connection to the upstream breaks mid-call; the gateway resumes it with `Last-Event-ID`. `client`: in
   * memory (the call goes through the SDK's `Client`) or Streamable HTTP (the call is relayed as bytes).
   */
  async function upstreamBreaks(clientSide: 'memory' | 'http', agent: string) {
    const hold = gate();
    const finished = gate();
    // A Streamable HTTP upstream (the SDK's server transport) that keeps its events for resumption.
    const transports = new Map<string, StreamableHTTPServerTransport>();
    const upstreamHttp = httpServer(async (req, res) => {
      const sid = req.headers['mcp-session-id'] as string | undefined;
      let transport = sid ? transports.get(sid) : undefined;
      if (!transport) {
        const t = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => crypto.randomUUID(),
          eventStore: orderedEventStore(),
          onsessioninitialized: (id) => void transports.set(id, t),
        });
        await upstream(hold, finished).connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((r) => upstreamHttp.listen(0, '127.0.0.1', () => r()));
    const proxy = await proxyTo((upstreamHttp.address() as { port: number }).port);
    const agentops = createAgentOps({ hubUrl: hub.url, apiKey: hub.ingestKey, agent, logger: false });
    const gateway = createGateway({ agentops, agent, upstream: upstreamConnector({ url: proxy.url }) });
    const client = new Client({ name: 'c', version: '1' });
    const http = clientSide === 'http' ? await serveHttp(gateway, { port: 0, host: '127.0.0.1' }) : undefined;
    if (http) await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
    else {
      const [a, b] = InMemoryTransport.createLinkedPair();
      await gateway.createSession().server.connect(a);
      await client.connect(b);
    }

    const progress: number[] = [];
    const call = client.callTool({ name: 'steps', arguments: { quiet_first: false } }, undefined, {
      onprogress: (p) => {
        progress.push(p.progress);
        if (p.progress === 1) {
          proxy.cut();
          hold.open();
        }
      },
    });
    await finished.opened;
    proxy.restore();
    const result = await call;
    expect(result.content).toEqual([{ type: 'text', text: 'all three steps done' }]);
    expect(progress).toEqual([1, 2, 3]);
    expect(proxy.requests.some((r) => r.startsWith('GET') && /\r\nlast-event-id: /i.test(r))).toBe(true);

    await client.close();
    await http?.close();
    await gateway.close();
    await proxy.close();
    upstreamHttp.closeAllConnections();
    upstreamHttp.close();
  }

  it('resumes its own stream from the upstream when the connection to the upstream breaks mid-call', async () => {
    await upstreamBreaks('memory', 'ResumeBot3');
  });

  it('resumes the upstream stream of a tools/call relayed as bytes (both ends Streamable HTTP)', async () => {
    await upstreamBreaks('http', 'ResumeBot4');
  });

  it('refuses to resume from an event id it does not know, or whose successors it no longer keeps', async () => {
    const { gateway, http } = await gatewayOverHttp(gate(), gate());
    const client = new Client({ name: 'c', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(http.url));
    await client.connect(transport);
    const headers = {
      accept: 'text/event-stream',
      'mcp-session-id': transport.sessionId!,
      'mcp-protocol-version': transport.protocolVersion!,
    };
    for (const id of ['nonsense', '7-999999']) {
      const res = await fetch(http.url, { headers: { ...headers, 'last-event-id': id } });
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toContain(`cannot resume after event ${id}`);
    }
    await client.close();
    await http.close();
    await gateway.close();
  });

  it('keeps a bounded number of events per session and says when a resume would miss some', () => {
    const buffer = new ReplayBuffer({ events: 3, bytes: 1000 });
    for (let seq = 1; seq <= 5; seq++) buffer.add(seq % 2 ? '1' : '2', seq, `e${seq}`);
    // Events 1 and 2 were dropped: a resume from before event 2 may have missed something.
    expect(buffer.after('1', 1)).toBeUndefined();
    expect(buffer.after('1', 2)).toEqual(['e3', 'e5']);
    expect(buffer.after('2', 3)).toEqual(['e4']);
    expect(buffer.after('2', 5)).toEqual([]);
    // Bytes bound too: one big event pushes out the older ones.
    buffer.add('1', 6, 'x'.repeat(999));
    expect(buffer.after('1', 5)).toEqual(['x'.repeat(999)]);
    expect(buffer.after('1', 4)).toBeUndefined();
    expect(parseEventId('12-345')).toEqual({ stream: '12', seq: 345 });
    expect(parseEventId('12')).toBeUndefined();
  });
});
