/**
 * Hosted MCP endpoints end to end: a real MCP server (the official SDK's McpServer over Streamable HTTP, on
 * loopback), the hub listening on a real port, and the official SDK's client connecting to the hub's
 * endpoint with an agent's API key. Loopback upstreams are allowed by the operator here (HUB_EGRESS_ALLOW),
 * as a self-hosted hub fronting an internal MCP server would be; one test runs without it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectUpstream } from '@agentops-hub/mcp-gateway';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEgressGuard } from '../../platform/egress/egress.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { MAX_SESSIONS_PER_ORG, upstreamFailure } from './mcp-hosting.ts';

const UPSTREAM_TOKEN = `upstream-secret-${randomUUID()}`;

/** Told when the upstream's `flood` tool has sent its last notification. */
let floodSent = () => {};

/** Holds the upstream's `wait` tool until the test releases it. */
let release = () => {};
let released = Promise.resolve();
const holdWaits = () => {
  released = new Promise<void>((r) => (release = r));
};

/** An MCP server with a few tools; it records the headers of every request it gets. */
async function startUpstream() {
  const seen: IncomingHttpHeaders[] = [];
  const calls: string[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const server: Server = createServer(async (req, res) => {
    seen.push(req.headers);
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (!transport) {
      const mcp = new McpServer({ name: 'upstream', version: '1.0.0' });
      mcp.tool('lookup_order', { order_id: z.string() }, async ({ order_id }) => {
        calls.push(`lookup_order ${order_id}`);
        return { content: [{ type: 'text', text: `order ${order_id}: shipped` }] };
      });
      // A hostile or broken upstream: an answer larger than the gateway takes (16 MiB).
      mcp.tool('export_everything', {}, async () => ({
        content: [{ type: 'text', text: 'x'.repeat(17 * 1024 * 1024) }],
      }));
      // 32 MiB of progress notifications, then the answer.
      mcp.tool('flood', {}, async (_args, extra) => {
        const progressToken = extra._meta?.progressToken ?? 0;
        const message = 'x'.repeat(64 * 1024);
        for (let i = 0; i < 512; i++)
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: i, message },
          });
        floodSent();
        return { content: [{ type: 'text', text: 'flooded' }] };
      });
      mcp.tool('wait', {}, async () => {
        await released;
        return { content: [{ type: 'text', text: 'waited' }] };
      });
      mcp.tool('delete_customer', { customer_id: z.string() }, async ({ customer_id }) => {
        calls.push(`delete_customer ${customer_id}`);
        return { content: [{ type: 'text', text: 'deleted' }] };
      });
      const t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, t),
      });
      await mcp.connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  return {
    url,
    seen,
    calls,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let hub: TestHub;
let hubUrl: string;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let org: SeededOrg;
let agentKey: string;

beforeAll(async () => {
  upstream = await startUpstream();
  hub = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' });
  await hub.hub.app.listen({ port: 0, host: '127.0.0.1' });
  hubUrl = `http://127.0.0.1:${(hub.hub.app.server.address() as AddressInfo).port}`;
  org = await hub.seedOrg();
  const key = await hub.request('POST', '/v1/api-keys', {
    auth: org.apiKey,
    body: { name: 'mcp agent', scopes: ['ingest'] },
  });
  expect(key.status).toBe(201);
  agentKey = key.body.key;
});
afterAll(async () => {
  await hub?.close();
  await upstream?.close();
});

const register = (auth: string, body: Record<string, unknown>) =>
  hub.request('POST', '/v1/mcp-endpoints', { auth, body });

/** An MCP client connected to an endpoint of the hub at `base` (the suite's own hub unless told). */
async function connect(path: string, key: string, base = hubUrl) {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}${path}`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

/** The headers of an MCP client's `POST` with an API key. */
const mcpHeaders = (key: string) => ({
  authorization: `Bearer ${key}`,
  accept: 'application/json, text/event-stream',
  'content-type': 'application/json',
});

/** An `initialize` sent by hand: its status, and the session id when one was opened. */
async function initialize(url: string, key: string) {
  const r = await fetch(url, {
    method: 'POST',
    headers: mcpHeaders(key),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
    }),
  });
  await r.text();
  return { status: r.status, session: r.headers.get('mcp-session-id') };
}

/** A session opened by hand (initialize, then initialized): the headers of its next requests. */
async function rawSession(url: string, key: string) {
  const init = await initialize(url, key);
  expect(init.status).toBe(200);
  const session = { ...mcpHeaders(key), 'mcp-session-id': init.session! };
  const initialized = await fetch(url, {
    method: 'POST',
    headers: session,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(initialized.status).toBe(202);
  return session;
}

/** Opens a session's standalone stream (where the upstream's notifications reach the client between calls). */
async function standaloneStream(url: string, session: Record<string, string>) {
  const stream = await fetch(url, { headers: { ...session, accept: 'text/event-stream' } });
  expect(stream.status).toBe(200);
  const reader = stream.body!.getReader();
  const ended = (async () => {
    while (!(await reader.read()).done) {}
    return Date.now();
  })().catch(() => Date.now());
  /** When the hub ended the stream, or 0 if it is still open after `ms`. */
  return { endedWithin: (ms: number) => Promise.race([ended, new Promise<number>((r) => setTimeout(() => r(0), ms))]) };
}

describe('hosted MCP endpoints', () => {
  it("serves a remote MCP server behind the org's policies: an allowed call answers, a blocked one is a tool error naming the policy, and both are on a run", async () => {
    const created = await register(org.apiKey, {
      name: 'Orders',
      agent: 'HostedBot',
      upstream_url: upstream.url,
      upstream_headers: { Authorization: `Bearer ${UPSTREAM_TOKEN}` },
    });
    expect(created.status).toBe(201);
    expect(created.body.mcp_path).toBe(`/v1/mcp-endpoints/${created.body.id}/mcp`);
    const policy = await hub.request('POST', '/v1/policies', {
      auth: org.apiKey,
      body: {
        name: 'No customer deletion',
        status: 'active',
        priority: 1,
        rule: { when: { all: [{ field: 'action.type', op: 'eq', value: 'delete_customer' }] }, then: 'block' },
      },
    });
    expect(policy.status).toBe(201);

    const client = await connect(created.body.mcp_path, agentKey);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual([
        'delete_customer',
        'export_everything',
        'flood',
        'lookup_order',
        'wait',
      ]);
      const allowed = await client.callTool({ name: 'lookup_order', arguments: { order_id: 'A-1' } });
      expect(allowed.isError).toBeFalsy();
      expect(allowed.content).toEqual([{ type: 'text', text: 'order A-1: shipped' }]);
      const blocked = await client.callTool({ name: 'delete_customer', arguments: { customer_id: 'C-9' } });
      expect(blocked.isError).toBe(true);
      expect(JSON.stringify(blocked.content)).toContain('No customer deletion');
      // The upstream ran the allowed tool only.
      expect(upstream.calls).toEqual(['lookup_order A-1']);
    } finally {
      await client.close();
    }
    // The session is one run of the endpoint's agent, with both decisions on it (the SDK sends every 200 ms).
    let detail = '';
    await expect
      .poll(
        async () => {
          const runs = (await hub.request('GET', '/v1/runs?agent=HostedBot', { auth: org.apiKey })).body.data ?? [];
          if (runs.length === 0) return '';
          detail = JSON.stringify((await hub.request('GET', `/v1/runs/${runs[0].id}`, { auth: org.apiKey })).body);
          return detail;
        },
        { timeout: 5000 },
      )
      .toMatch(/tool_result/);
    expect(detail).toContain('lookup_order');
    expect(detail).toMatch(/delete_customer[\s\S]*BLOCK|BLOCK[\s\S]*delete_customer/);
  });

  it('sends the upstream headers to the upstream only: sealed at rest, never shown, never reaching the client', async () => {
    const created = await register(org.apiKey, {
      name: 'Secret upstream',
      agent: 'HostedBot',
      upstream_url: upstream.url,
      upstream_headers: { 'X-Upstream-Key': UPSTREAM_TOKEN },
    });
    expect(created.status).toBe(201);
    expect(created.body.upstream_header_names).toEqual(['X-Upstream-Key']);
    const shown = [
      created,
      await hub.request('GET', `/v1/mcp-endpoints/${created.body.id}`, { auth: org.apiKey }),
      await hub.request('GET', '/v1/mcp-endpoints', { auth: org.apiKey }),
      await hub.request('GET', '/v1/audit-log?limit=50', { auth: org.apiKey }),
    ];
    for (const r of shown) expect(JSON.stringify(r.body)).not.toContain(UPSTREAM_TOKEN);
    const stored = await hub.hub.ctx.db.db
      .selectFrom('mcp_endpoints')
      .select('upstream_headers_secret')
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(stored.upstream_headers_secret).toMatch(/^v1:/);
    expect(stored.upstream_headers_secret).not.toContain(UPSTREAM_TOKEN);

    upstream.seen.length = 0;
    const client = await connect(created.body.mcp_path, agentKey);
    try {
      const r = await client.callTool({ name: 'lookup_order', arguments: { order_id: 'B-2' } });
      expect(JSON.stringify(r)).not.toContain(UPSTREAM_TOKEN);
    } finally {
      await client.close();
    }
    expect(upstream.seen.length).toBeGreaterThan(0);
    for (const h of upstream.seen) {
      expect(h['x-upstream-key']).toBe(UPSTREAM_TOKEN);
      // The client's own API key stays in the hub.
      expect(JSON.stringify(h)).not.toContain(agentKey);
    }
  });

  it("another org's endpoint is not found: not read, not deleted, not connected to", async () => {
    const created = await register(org.apiKey, { name: 'Mine', agent: 'HostedBot', upstream_url: upstream.url });
    const other = await hub.seedOrg();
    const id = created.body.id;
    expect((await hub.request('GET', `/v1/mcp-endpoints/${id}`, { auth: other.apiKey })).status).toBe(404);
    expect((await hub.request('DELETE', `/v1/mcp-endpoints/${id}`, { auth: other.apiKey })).status).toBe(404);
    const list = await hub.request('GET', '/v1/mcp-endpoints', { auth: other.apiKey });
    expect(list.body.data).toEqual([]);
    await expect(connect(created.body.mcp_path, other.apiKey)).rejects.toThrow(/404/);
    expect((await hub.request('GET', `/v1/mcp-endpoints/${id}`, { auth: org.apiKey })).status).toBe(200);
  });

  it('deleting an endpoint ends its sessions; a session id is refused after', async () => {
    const created = await register(org.apiKey, { name: 'Short-lived', agent: 'HostedBot', upstream_url: upstream.url });
    const client = await connect(created.body.mcp_path, agentKey);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    expect(sessionId).toBeTruthy();
    expect((await hub.request('DELETE', `/v1/mcp-endpoints/${created.body.id}`, { auth: org.apiKey })).status).toBe(
      204,
    );
    const after = await fetch(`${hubUrl}${created.body.mcp_path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agentKey}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    await client.close().catch(() => {});
  });

  it('revoking a key ends the sessions it opened: an open event stream is closed, not left relaying the upstream', async () => {
    const created = await register(org.apiKey, { name: 'Revocable', agent: 'HostedBot', upstream_url: upstream.url });
    const made = await hub.request('POST', '/v1/api-keys', {
      auth: org.apiKey,
      body: { name: 'soon revoked', scopes: ['ingest'] },
    });
    expect(made.status).toBe(201);
    const url = `${hubUrl}${created.body.mcp_path}`;
    const session = await rawSession(url, made.body.key);
    const stream = await standaloneStream(url, session);
    expect(await stream.endedWithin(300)).toBe(0);

    expect((await hub.request('DELETE', `/v1/api-keys/${made.body.id}`, { auth: org.apiKey })).status).toBe(200);
    expect(await stream.endedWithin(3000)).toBeGreaterThan(0);
    const after = await fetch(url, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(401);
  });

  it('a key that expires ends the sessions it opened when it does', async () => {
    const created = await register(org.apiKey, { name: 'Expiring', agent: 'HostedBot', upstream_url: upstream.url });
    const expiresAt = Date.now() + 1500;
    const made = await hub.request('POST', '/v1/api-keys', {
      auth: org.apiKey,
      body: { name: 'contractor', scopes: ['ingest'], expires_at: new Date(expiresAt).toISOString() },
    });
    expect(made.status).toBe(201);
    const url = `${hubUrl}${created.body.mcp_path}`;
    const session = await rawSession(url, made.body.key);
    const at = await (await standaloneStream(url, session)).endedWithin(8000);
    expect(at).toBeGreaterThanOrEqual(expiresAt);
    expect(at).toBeLessThan(expiresAt + 3000);
  });

  it('one request cannot start thousands of calls: a batch holds 32 messages, a session 16 calls waiting for an answer', async () => {
    const created = await register(org.apiKey, { name: 'Bounded', agent: 'HostedBot', upstream_url: upstream.url });
    const url = `${hubUrl}${created.body.mcp_path}`;
    const session = await rawSession(url, agentKey);
    const call = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'wait', arguments: {} },
    });
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: session, body: JSON.stringify(body) });

    const batch = await post(Array.from({ length: 33 }, (_, i) => call(100 + i)));
    expect(batch.status).toBe(400);
    expect((await batch.json()).error.message).toContain('at most 32');

    holdWaits();
    try {
      // Sixteen calls wait upstream (each its own request, as a client sends them): the seventeenth is refused.
      const waiting = Array.from({ length: 16 }, (_, i) => post(call(200 + i)));
      await new Promise((r) => setTimeout(r, 300));
      const refused = await post(call(300));
      expect(refused.status).toBe(429);
      expect((await refused.json()).error.message).toContain('at most 16');
      release();
      const answers = await Promise.all(waiting.map(async (r) => (await r).text()));
      expect(answers.every((a) => a.includes('waited'))).toBe(true);
    } finally {
      release();
    }
    // Answered, they make room again.
    const again = await post(call(400));
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('waited');
  });

  it("a client that stops reading is cut off past 4 MiB unread, not buffered in the hub's memory", async () => {
    const created = await register(org.apiKey, { name: 'Flood', agent: 'HostedBot', upstream_url: upstream.url });
    const url = `${hubUrl}${created.body.mcp_path}`;
    const session = await rawSession(url, agentKey);
    const sent = new Promise<void>((r) => (floodSent = r));
    const res = await fetch(url, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'flood', arguments: {}, _meta: { progressToken: 'p' } },
      }),
    });
    expect(res.status).toBe(200);
    // Not read while the upstream sends its 32 MiB: the sockets' buffers fill, then the hub's answer would.
    await sent;
    await new Promise((r) => setTimeout(r, 500));
    let text = '';
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    } catch {
      // The cut connection.
    }
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(24 * 1024 * 1024);
    expect(text).not.toContain('flooded');
    // The session goes on.
    const after = await fetch(url, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 8,
        method: 'tools/call',
        params: { name: 'lookup_order', arguments: { order_id: 'B-2' } },
      }),
    });
    expect(await after.text()).toContain('order B-2: shipped');
  });

  it("an upstream's answer past 16 MiB is refused as a tool error, not held in the hub's memory", async () => {
    const created = await register(org.apiKey, { name: 'Huge', agent: 'HostedBot', upstream_url: upstream.url });
    const client = await connect(created.body.mcp_path, agentKey);
    try {
      const r = await client.callTool({ name: 'export_everything', arguments: {} });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/larger than 16777216 bytes/);
      // The session goes on.
      const ok = await client.callTool({ name: 'lookup_order', arguments: { order_id: 'C-3' } });
      expect(ok.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it("an org's open sessions are bounded per hub process: past the bound a new one gets 429, and ending one makes room", async () => {
    const own = await hub.seedOrg();
    const key = (
      await hub.request('POST', '/v1/api-keys', { auth: own.apiKey, body: { name: 'a', scopes: ['ingest'] } })
    ).body.key as string;
    // Two endpoints, since one endpoint and key keeps at most 100 sessions (its least recently used one ends).
    const busy = [
      await register(own.apiKey, { name: 'Busy 1', agent: 'HostedBot', upstream_url: upstream.url }),
      await register(own.apiKey, { name: 'Busy 2', agent: 'HostedBot', upstream_url: upstream.url }),
    ].map((r) => `${hubUrl}${r.body.mcp_path}`);
    const sessions: string[] = [];
    for (let batch = 0; batch < MAX_SESSIONS_PER_ORG / 20; batch++)
      for (const r of await Promise.all(Array.from({ length: 20 }, () => initialize(busy[batch % 2]!, key)))) {
        expect(r.status).toBe(200);
        sessions.push(r.session!);
      }
    const refused = await initialize(busy[1]!, key);
    expect(refused.status).toBe(429);
    // Another org is not held back by this one.
    const other = await register(org.apiKey, { name: 'Calm', agent: 'HostedBot', upstream_url: upstream.url });
    const calm = await connect(other.body.mcp_path, agentKey);
    await calm.close();
    const ended = await fetch(busy[0]!, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key}`, 'mcp-session-id': sessions[0]! },
    });
    expect(ended.status).toBeLessThan(300);
    expect((await initialize(busy[1]!, key)).status).toBe(200);
  });

  it("concurrent first requests cannot pass the org's session bound together", async () => {
    const own = await hub.seedOrg();
    const key = (
      await hub.request('POST', '/v1/api-keys', { auth: own.apiKey, body: { name: 'a', scopes: ['ingest'] } })
    ).body.key as string;
    // Three endpoints, so no endpoint and key reaches its own 100 (where its least recently used session ends).
    const urls: string[] = [];
    for (const name of ['Rush 1', 'Rush 2', 'Rush 3'])
      urls.push(
        `${hubUrl}${(await register(own.apiKey, { name, agent: 'HostedBot', upstream_url: upstream.url })).body.mcp_path}`,
      );
    // All at once: each one's count must see the sessions the others opened, not the count before any of them.
    const extra = 20;
    const results = await Promise.all(
      Array.from({ length: MAX_SESSIONS_PER_ORG + extra }, (_, i) => initialize(urls[i % urls.length]!, key)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(MAX_SESSIONS_PER_ORG);
    expect(statuses.filter((s) => s === 429)).toHaveLength(extra);
  });

  it("at the process's gateway bound a new gateway is refused rather than ending another org's sessions", async () => {
    const small = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1', HUB_MCP_GATEWAYS: '2' });
    const clients: Client[] = [];
    try {
      await small.hub.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(small.hub.app.server.address() as AddressInfo).port}`;
      const open = async (path: string, key: string) => {
        const client = await connect(path, key, base);
        clients.push(client);
        return client;
      };
      const endpoint = async (owner: SeededOrg, name: string) => {
        const r = await small.request('POST', '/v1/mcp-endpoints', {
          auth: owner.apiKey,
          body: { name, agent: 'HostedBot', upstream_url: upstream.url },
        });
        expect(r.status).toBe(201);
        return r.body.mcp_path as string;
      };
      const first = await small.seedOrg();
      const second = await small.seedOrg();
      // The first org fills the process: two gateways, each with a session open.
      const kept = await open(await endpoint(first, 'Kept'), first.apiKey);
      const closing = await open(await endpoint(first, 'Closing'), first.apiKey);
      const otherPath = await endpoint(second, 'Other');
      const refused = await initialize(`${base}${otherPath}`, second.apiKey);
      expect(refused.status).toBe(429);
      // The first org's sessions were left alone.
      expect((await kept.callTool({ name: 'lookup_order', arguments: { order_id: 'A-1' } })).isError).toBeFalsy();
      expect((await closing.listTools()).tools.length).toBeGreaterThan(0);
      // Once a gateway has no session, it is the one closed to make room.
      await (closing.transport as StreamableHTTPClientTransport).terminateSession();
      await closing.close();
      const admitted = await open(otherPath, second.apiKey);
      expect((await admitted.listTools()).tools.length).toBeGreaterThan(0);
      expect((await kept.callTool({ name: 'lookup_order', arguments: { order_id: 'A-2' } })).isError).toBeFalsy();
    } finally {
      for (const c of clients) await c.close().catch(() => {});
      await small.close();
    }
  });

  it('a POST whose body is JSON null is refused at once, naming the body', async () => {
    const created = await register(org.apiKey, { name: 'Null', agent: 'HostedBot', upstream_url: upstream.url });
    const r = await fetch(`${hubUrl}${created.body.mcp_path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agentKey}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: 'null',
      signal: AbortSignal.timeout(5000),
    });
    expect(r.status).toBe(400);
    expect((await r.json()).errors[0].path).toBe('(root)');
  });

  it('an endpoint deleted through another hub process takes no new session on this one', async () => {
    const other = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' }, { shareWith: { database: hub.database } });
    try {
      await other.hub.app.listen({ port: 0, host: '127.0.0.1' });
      const otherUrl = `http://127.0.0.1:${(other.hub.app.server.address() as AddressInfo).port}`;
      const created = await register(org.apiKey, { name: 'Shared', agent: 'HostedBot', upstream_url: upstream.url });
      // The other process serves a session first, so its gateway for this endpoint and key is cached.
      const first = new Client({ name: 'first', version: '1.0.0' });
      const transport = (path: string) =>
        new StreamableHTTPClientTransport(new URL(`${otherUrl}${path}`), {
          requestInit: { headers: { authorization: `Bearer ${agentKey}` } },
        });
      await first.connect(transport(created.body.mcp_path));
      await first.close();
      expect((await hub.request('DELETE', `/v1/mcp-endpoints/${created.body.id}`, { auth: org.apiKey })).status).toBe(
        204,
      );
      await expect(
        new Client({ name: 'second', version: '1.0.0' }).connect(transport(created.body.mcp_path)),
      ).rejects.toThrow(/404/);
    } finally {
      await other.close();
    }
  });

  it("a client is not told what the hub's DNS says of a refused or unknown upstream name", async () => {
    // The guard's resolver is the process edge: names of an internal zone, as the hub's DNS would answer them.
    const guard = createEgressGuard({
      resolve: async (host) => {
        if (host === 'db.corp.internal') return [{ address: '10.1.2.3', family: 4 }];
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      },
    });
    const failure = async (host: string) => {
      const e = await connectUpstream({ url: `http://${host}:9/mcp`, lookup: guard.lookup }).catch((x: Error) => x);
      expect(e).toBeInstanceOf(Error);
      return { raw: (e as Error).message, told: upstreamFailure(e as Error, host).message };
    };
    const refused = await failure('db.corp.internal');
    expect(JSON.stringify(refused.raw)).toContain('10.1.2.3'); // what the hub's log gets
    expect(refused.told).toBe('db.corp.internal does not resolve to an address this hub connects to');
    const unknown = await failure('nothing.corp.internal');
    expect(unknown.told).toBe('nothing.corp.internal does not resolve to an address this hub connects to');
    // Other failures are told as they are (a refused connection says nothing of the DNS).
    const other = new Error('connect ECONNREFUSED');
    expect(upstreamFailure(other, 'x')).toBe(other);
  });

  it('bad input names its field; an upstream URL on loopback is refused without HUB_EGRESS_ALLOW', async () => {
    const bad = await register(org.apiKey, { name: '', agent: 'A', upstream_url: 'ftp://x' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/upstream_url/);
    const injected = await register(org.apiKey, {
      name: 'n',
      agent: 'A',
      upstream_url: upstream.url,
      upstream_headers: { 'X-A': 'one\r\nX-Injected: two' },
    });
    expect(injected.status).toBe(400);
    expect(JSON.stringify(injected.body)).toMatch(/upstream_headers/);

    const strict = await createTestHub();
    try {
      const o = await strict.seedOrg();
      const refused = await strict.request('POST', '/v1/mcp-endpoints', {
        auth: o.apiKey,
        body: { name: 'internal', agent: 'A', upstream_url: upstream.url },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.detail).toMatch(/upstream_url: refused: 127\.0\.0\.1 is a loopback address/);
    } finally {
      await strict.close();
    }
  });

  it('an agent key may connect but not register; a read key may do neither', async () => {
    expect((await register(agentKey, { name: 'x', agent: 'A', upstream_url: upstream.url })).status).toBe(403);
    const created = await register(org.apiKey, { name: 'Readers', agent: 'HostedBot', upstream_url: upstream.url });
    const read = await hub.request('POST', '/v1/api-keys', { auth: org.apiKey, body: { name: 'r', scopes: ['read'] } });
    await expect(connect(created.body.mcp_path, read.body.key)).rejects.toThrow(/403/);
  });
});
