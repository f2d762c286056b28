/**
 * @module cli
 * `agentops-mcp-gateway --agent NAME (--upstream-command "CMD" | --upstream-url URL) [--transport stdio|http]`
 * The hub is named by `AGENTOPS_HUB_URL` / `AGENTOPS_API_KEY` (or `--hub-url` / `--api-key`). On stdio, stdout
 * belongs to the MCP protocol: everything the gateway says goes to stderr.
 */
import { parseArgs } from 'node:util';
import { createAgentOps } from '@agentops-hub/sdk';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createGateway } from './gateway.ts';
import { serveHttp } from './http.ts';
import type { HttpClientTransport } from './http-client.ts';
import { hubFetch } from './hub-fetch.ts';
import { connectUpstream, type UpstreamSpec, upstreamConnector } from './upstream.ts';

const USAGE = `Usage: agentops-mcp-gateway --agent NAME (--upstream-command "CMD" | --upstream-url URL) [options]

An MCP server that fronts another MCP server, relays everything it offers, and asks AgentOps Hub before every
tools/call (and, with --govern, before resource reads and prompt gets).

  --agent NAME              the agent the sessions run as (default: AGENTOPS_AGENT)
  --upstream-command "CMD"  start the upstream MCP server with this command, over stdio
  --upstream-url URL        or reach it over Streamable HTTP
  --upstream-header "K: V"  a header for --upstream-url (repeatable)
  --transport stdio|http    how clients reach the gateway (default stdio)
  --port N, --host H        for --transport http (default 8808 on 127.0.0.1); the endpoint is /mcp
  --allowed-host H          a hostname clients may name in Host/Origin (repeatable; default on a loopback
                            bind: localhost, 127.0.0.1, [::1])
  --auth-token T            clients must send "Authorization: Bearer T" (default AGENTOPS_MCP_GATEWAY_TOKEN)
  --session-idle S          end an HTTP session without a request for S seconds and no open stream (default 1800)
  --govern resources,prompts  also ask the hub before resources/read and prompts/get
  --hub-url URL             default AGENTOPS_HUB_URL, else http://localhost:3000
  --api-key KEY             default AGENTOPS_API_KEY
  --approval-timeout S      seconds a call waits for a person's approval (default: until it expires)
  --fail-open               allow calls when the hub cannot be reached (default: block them)
  --quiet                   no log lines on stderr
`;

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      agent: { type: 'string' },
      'upstream-command': { type: 'string' },
      'upstream-url': { type: 'string' },
      'upstream-header': { type: 'string', multiple: true },
      transport: { type: 'string', default: 'stdio' },
      port: { type: 'string', default: '8808' },
      host: { type: 'string', default: '127.0.0.1' },
      'allowed-host': { type: 'string', multiple: true },
      'auth-token': { type: 'string' },
      'session-idle': { type: 'string' },
      govern: { type: 'string', default: '' },
      'hub-url': { type: 'string' },
      'api-key': { type: 'string' },
      'approval-timeout': { type: 'string' },
      'fail-open': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const fail = (msg: string): never => {
    process.stderr.write(`${msg}\n\n${USAGE}`);
    process.exit(2);
  };
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const agent = values.agent ?? process.env.AGENTOPS_AGENT;
  if (!agent) fail('--agent is required (or set AGENTOPS_AGENT)');
  const cmd = values['upstream-command'];
  const url = values['upstream-url'];
  if (!cmd === !url) fail('give exactly one of --upstream-command or --upstream-url');
  if (values.transport !== 'stdio' && values.transport !== 'http') fail('--transport is stdio or http');
  const log = values.quiet ? () => {} : (line: string) => process.stderr.write(`[agentops-mcp-gateway] ${line}\n`);

  const headers: Record<string, string> = {};
  for (const h of values['upstream-header'] ?? []) {
    const i = h.indexOf(':');
    if (i < 1) fail(`--upstream-header "${h}" is not "Name: value"`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const spec: UpstreamSpec = cmd ? { command: cmd } : { url: url!, headers };
  const govern = new Set(values.govern!.split(',').filter(Boolean));
  for (const g of govern)
    if (g !== 'resources' && g !== 'prompts') fail(`--govern takes resources and/or prompts, not "${g}"`);
  if (url) {
    // Fail fast on a wrong URL or credentials: each client session opens its own connection (with the client's
    // capabilities), so this probe's session is ended right away. A command is not started twice: a command
    // that fails is reported to the client's initialize and on stderr.
    const probe = await connectUpstream(spec).catch((e) => fail(`cannot reach the upstream MCP server: ${e.message}`));
    await (probe.transport as HttpClientTransport).terminateSession().catch(() => {});
    await probe.close().catch(() => {});
  }

  const agentops = createAgentOps({
    hubUrl: values['hub-url'],
    apiKey: values['api-key'],
    agent: agent!,
    // Sessions are watched live in the console: send events within a fraction of a second.
    flushIntervalMs: 200,
    policyFailure: values['fail-open'] ? 'open' : 'closed',
    fetch: hubFetch,
    logger: { warn: log },
  });
  const approvalTimeoutMs = values['approval-timeout'] ? Number(values['approval-timeout']) * 1000 : undefined;
  const sessionIdleS = values['session-idle'] === undefined ? undefined : Number(values['session-idle']);
  if (sessionIdleS !== undefined && !(sessionIdleS > 0)) fail('--session-idle must be a number of seconds above 0');
  const gateway = createGateway({
    agentops,
    upstream: upstreamConnector(spec),
    agent: agent!,
    approvalTimeoutMs,
    govern: { resources: govern.has('resources'), prompts: govern.has('prompts') },
    log,
  });

  let closing = false;
  const shutdown = async (code = 0) => {
    if (closing) return;
    closing = true;
    await Promise.race([gateway.close(), new Promise((r) => setTimeout(r, 5000))]);
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(0));

  if (values.transport === 'stdio') {
    const session = gateway.createSession({ transport: 'stdio' });
    const transport = new StdioServerTransport();
    transport.onclose = () => void shutdown(0);
    session.onupstreamclose = () => {
      log('the upstream MCP server closed the connection');
      void shutdown(1);
    };
    process.stdin.on('end', () => void shutdown(0));
    await session.server.connect(transport);
    log(`agent ${agent}: serving on stdio`);
  } else {
    const http = await serveHttp(gateway, {
      port: Number(values.port),
      host: values.host!,
      allowedHosts: values['allowed-host'],
      authToken: values['auth-token'] ?? process.env.AGENTOPS_MCP_GATEWAY_TOKEN,
      sessionIdleMs: sessionIdleS === undefined ? undefined : sessionIdleS * 1000,
    });
    log(`agent ${agent}: serving MCP over Streamable HTTP at ${http.url}`);
  }
}
