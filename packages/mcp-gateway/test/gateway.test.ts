/**
 * The gateway with the real MCP classes: an `McpServer` upstream, a `Client` downstream, the gateway's `Server`
 * between them (in-memory transports, over stdio through the bin, and over Streamable HTTP), against a real
 * hub on port 0 that decides every call.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgentOps } from '@agentops-hub/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually, type RunningHub, startHub } from '../../sdk/test/hub.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { serveHttp } from '../src/http.ts';
import { hubFetch } from '../src/hub-fetch.ts';
import { splitCommand } from '../src/upstream.ts';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');

let hub: RunningHub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => hub?.close());

const refunds: { order_id: string; amount: number }[] = [];

/** The upstream: a real McpServer with a read-only and a destructive tool. */
async function upstreamClient() {
  const server = new McpServer({ name: 'test-shop', version: '1.0.0' }, { instructions: 'A test shop.' });
  server.registerTool(
    'lookup_order',
    { inputSchema: { order_id: z.string() }, annotations: { readOnlyHint: true } },
    async ({ order_id }) => ({ content: [{ type: 'text', text: JSON.stringify({ order_id, total: 250 }) }] }),
  );
  server.registerTool(
    'issue_refund',
    { inputSchema: { order_id: z.string(), amount: z.number() }, annotations: { destructiveHint: true } },
    async ({ order_id, amount }) => {
      refunds.push({ order_id, amount });
      return { content: [{ type: 'text', text: `refunded ${amount}` }] };
    },
  );
  server.registerTool(
    'broken',
    { inputSchema: { type: z.string() }, annotations: { destructiveHint: false } },
    async ({ type }) => ({
      isError: true,
      content: [{ type: 'text', text: `cannot ${type}` }],
    }),
  );
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'gateway-upstream', version: '1.0.0' });
  await client.connect(b);
  return client;
}

let n = 0;
async function setup() {
  const agent = `McpAgent${++n}`;
  const agentops = createAgentOps({
    hubUrl: hub.url,
    apiKey: hub.ingestKey,
    agent,
    logger: false,
    flushIntervalMs: 50,
    // What the bin gives its SDK client: approvals, decisions and telemetry below all go through it.
    fetch: hubFetch,
  });
  const gateway = createGateway({ agentops, upstream: await upstreamClient(), agent });
  return { agent, agentops, gateway };
}

async function connectSession(gateway: Gateway) {
  const session = gateway.createSession();
  const [a, b] = InMemoryTransport.createLinkedPair();
  await session.server.connect(a);
  const client = new Client({ name: 'test-client', version: '2.0.0' });
  await client.connect(b);
  return { client, session };
}

const textOf = (r: any) => (r.content as { text: string }[]).map((c) => c.text).join('\n');

async function runsOf(agent: string) {
  const r = await hub.api('GET', `/v1/runs?agent=${agent}`);
  return (r.body?.data ?? []) as any[];
}
const detail = async (id: string) => (await hub.api('GET', `/v1/runs/${id}`)).body;

async function policy(name: string, when: unknown, then: string) {
  const r = await hub.api('POST', '/v1/policies', { name, status: 'active', rule: { when, then } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

describe('mcp gateway', () => {
  it('lists the upstream tools with their annotations and forwards allowed calls, recording them live', async () => {
    const { agent, gateway } = await setup();
    const { client, session } = await connectSession(gateway);
    expect(client.getInstructions()).toBe('A test shop.');
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['broken', 'issue_refund', 'lookup_order']);
    expect(tools.tools.find((t) => t.name === 'issue_refund')?.annotations?.destructiveHint).toBe(true);

    const r = await client.callTool({ name: 'lookup_order', arguments: { order_id: 'A-1' } });
    expect(r.isError).toBeFalsy();
    expect(JSON.parse(textOf(r))).toEqual({ order_id: 'A-1', total: 250 });
    const refund = await client.callTool({ name: 'issue_refund', arguments: { order_id: 'A-1', amount: 20 } });
    expect(textOf(refund)).toBe('refunded 20');

    // Visible while the session is still open.
    const run = await eventually(async () => {
      const [first] = await runsOf(agent);
      const d = first && (await detail(first.id));
      return d?.events.filter((e: any) => e.type === 'tool_result').length === 2 && d;
    });
    expect(run.status).toBe('running');
    expect(run.metadata).toMatchObject({ source: 'mcp-gateway', client: { name: 'test-client' } });
    const types = run.events.map((e: any) => e.type);
    expect(types.filter((t: string) => t === 'tool_called')).toHaveLength(2);
    // Only the tool that is not read-only is an external action.
    const actions = run.events.filter((e: any) => e.type === 'external_action');
    expect(actions).toHaveLength(1);
    expect(actions[0].payload.action).toMatchObject({
      type: 'issue_refund',
      order_id: 'A-1',
      amount: 20,
      annotations: { destructiveHint: true, readOnlyHint: false, openWorldHint: true },
    });
    expect(run.decisions).toHaveLength(2);

    await client.close();
    await session.end();
    const ended = await eventually(async () => {
      const d = await detail(run.id);
      return d.status === 'completed' && d;
    });
    expect(ended.ended_at).not.toBeNull();
  });

  it('a blocked call is an MCP tool error naming the policy, and the upstream tool is not called', async () => {
    const { agent, gateway } = await setup();
    await policy(
      `No destructive tools for ${agent}`,
      {
        all: [
          { field: 'agent.name', op: 'eq', value: agent },
          { field: 'action.annotations.destructiveHint', op: 'eq', value: true },
        ],
      },
      'block',
    );
    const { client } = await connectSession(gateway);
    const before = refunds.length;
    const r = await client.callTool({ name: 'issue_refund', arguments: { order_id: 'A-1', amount: 5 } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(`blocked by policy "No destructive tools for ${agent}"`);
    expect(refunds.length).toBe(before);
    // Read-only and non-destructive tools still work (unannotated tools count as destructive, the MCP
    // default); an argument named `type` does not replace the action type.
    expect((await client.callTool({ name: 'lookup_order', arguments: { order_id: 'A-2' } })).isError).toBeFalsy();
    const broken = await client.callTool({ name: 'broken', arguments: { type: 'fly' } });
    expect(broken.isError).toBe(true);
    expect(textOf(broken)).toBe('cannot fly');
    const run = await eventually(async () => {
      const [first] = await runsOf(agent);
      const d = first && (await detail(first.id));
      return d?.events.filter((e: any) => e.type === 'tool_result').length === 3 && d;
    });
    const blocked = run.events.find((e: any) => e.type === 'tool_result' && e.payload.tool === 'issue_refund');
    expect(blocked.payload).toMatchObject({ is_error: true });
    const brokenAction = run.events.find((e: any) => e.type === 'external_action');
    expect(brokenAction.payload).toMatchObject({ status: 'failed', action: { type: 'broken', arg_type: 'fly' } });
    await client.close();
  });

  it('waits for approval when a policy asks (with progress), then forwards the call', async () => {
    const { agent, gateway } = await setup();
    await policy(
      `Refunds for ${agent} need a human`,
      {
        all: [
          { field: 'agent.name', op: 'eq', value: agent },
          { field: 'action.type', op: 'eq', value: 'issue_refund' },
        ],
      },
      'require_approval',
    );
    const { client } = await connectSession(gateway);
    const progress: string[] = [];
    const call = client.callTool({ name: 'issue_refund', arguments: { order_id: 'B-7', amount: 300 } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
      timeout: 30_000,
    });
    const approval = await eventually(async () => {
      const r = await hub.api('GET', '/v1/approvals?status=pending');
      return (r.body.data as any[]).find((a) => a.action?.order_id === 'B-7');
    });
    expect(approval.action).toMatchObject({ type: 'issue_refund', amount: 300 });
    expect(approval.run_id).toMatch(/^run_/);
    await hub.api('POST', `/v1/approvals/${approval.id}/approve`, {});
    const r = await call;
    expect(textOf(r)).toBe('refunded 300');
    expect(progress[0]).toContain(approval.id);
    expect(refunds).toContainEqual({ order_id: 'B-7', amount: 300 });

    // A rejected approval is a tool error.
    const second = client.callTool({ name: 'issue_refund', arguments: { order_id: 'B-8', amount: 1 } });
    const again = await eventually(async () => {
      const list = await hub.api('GET', '/v1/approvals?status=pending');
      return (list.body.data as any[]).find((a) => a.action?.order_id === 'B-8');
    });
    await hub.api('POST', `/v1/approvals/${again.id}/reject`, { comment: 'no' });
    const rejected = await second;
    expect(rejected.isError).toBe(true);
    expect(textOf(rejected)).toMatch(/not approved \(rejected\)/);
    await client.close();
  });

  it('with the kill switch on, calls are refused and say why; each session is its own run', async () => {
    const { agent, gateway } = await setup();
    const one = await connectSession(gateway);
    const two = await connectSession(gateway);
    await hub.api('POST', '/v1/controls/kill-switch', { engaged: true, reason: 'gateway test' });
    try {
      const r = await one.client.callTool({ name: 'lookup_order', arguments: { order_id: 'A-1' } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('The kill switch is engaged: gateway test');
    } finally {
      await hub.api('POST', '/v1/controls/kill-switch', { engaged: false });
    }
    expect((await two.client.callTool({ name: 'lookup_order', arguments: { order_id: 'A-1' } })).isError).toBeFalsy();
    const runs = await eventually(async () => {
      const list = await runsOf(agent);
      return list.length === 2 && list;
    });
    expect(new Set(runs.map((r) => r.id)).size).toBe(2);
    await gateway.close();
    await eventually(async () => (await runsOf(agent)).every((r) => r.status === 'completed'));
  });

  it('serves Streamable HTTP: one run per session', async () => {
    const { agent, gateway } = await setup();
    const http = await serveHttp(gateway, { port: 0, host: '127.0.0.1' });
    try {
      const client = new Client({ name: 'http-client', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
      expect((await client.listTools()).tools).toHaveLength(3);
      const r = await client.callTool({ name: 'lookup_order', arguments: { order_id: 'H-1' } });
      expect(JSON.parse(textOf(r)).order_id).toBe('H-1');
      const bad = await fetch(http.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(bad.status).toBe(400);
      // Ending the session (DELETE /mcp) ends its run.
      await (client.transport as StreamableHTTPClientTransport).terminateSession();
      await client.close();
      const [run] = await eventually(async () => {
        const list = await runsOf(agent);
        return list.length === 1 && list[0].status === 'completed' && list;
      });
      expect(run.metadata).toMatchObject({ transport: 'http', client: { name: 'http-client' } });
    } finally {
      await http.close();
    }
  });

  it('the bin fronts a stdio upstream command', async () => {
    const agent = `McpBin${++n}`;
    const transport = new StdioClientTransport({
      // The bin on the sources (no build needed); test/packed.test.ts runs the installed, built one.
      command: process.execPath,
      args: [
        '--conditions=@agentops-hub/source',
        '--import',
        'tsx',
        join(root, 'packages/mcp-gateway/bin/agentops-mcp-gateway.mjs'),
        ...['--agent', agent, '--upstream-command', 'node --import tsx examples/mcp-server.ts'],
      ],
      env: { ...process.env, AGENTOPS_HUB_URL: hub.url, AGENTOPS_API_KEY: hub.ingestKey } as Record<string, string>,
      cwd: root,
      stderr: 'ignore',
    });
    const client = new Client({ name: 'bin-client', version: '1.0.0' });
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(['issue_refund', 'lookup_order']);
      const r = await client.callTool({ name: 'lookup_order', arguments: { order_id: 'A-1' } });
      expect(JSON.parse(textOf(r)).item).toBe('Blender Pro 900');
    } finally {
      await client.close();
    }
    // Closing the client ends the gateway, which ends the session's run.
    await eventually(async () => {
      const [run] = await runsOf(agent);
      return run?.status === 'completed';
    }, 15_000);
  }, 60_000);

  it('splits upstream commands like a shell, without one', () => {
    expect(splitCommand(`npm run -s example:mcp-server`)).toEqual(['npm', 'run', '-s', 'example:mcp-server']);
    expect(splitCommand(`node "my server.js" --name 'A B' x\\ y ""`)).toEqual([
      'node',
      'my server.js',
      '--name',
      'A B',
      'x y',
      '',
    ]);
    expect(() => splitCommand('node "open')).toThrow(/unclosed/);
  });
});
