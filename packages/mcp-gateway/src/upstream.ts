/**
 * @module upstream
 * Connects to the MCP server the gateway fronts: a command run over stdio (`--upstream-command`), or a
 * Streamable HTTP endpoint (`--upstream-url`).
 */
import type { LookupFunction } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { UpstreamConnector, UpstreamInit } from './gateway.ts';
import { HttpClientTransport } from './http-client.ts';

export type UpstreamSpec =
  | { command: string; cwd?: string; env?: Record<string, string> }
  | {
      url: string;
      headers?: Record<string, string>;
      /** Resolves the upstream's host name (see HttpClientTransport), e.g. a host's egress guard. */
      lookup?: LookupFunction;
    };

/**
 * Splits a command line into words: whitespace separates, single and double quotes group, a backslash escapes
 * the next character (outside single quotes). No shell is involved.
 * @example
 * splitCommand(`node server.js --name "My Server"`) // → ['node', 'server.js', '--name', 'My Server']
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || word) words.push(word);
      word = '';
      has = false;
    } else word += c;
  }
  if (quote) throw new Error(`unclosed ${quote} in command: ${line}`);
  if (has || word) words.push(word);
  return words;
}

/** The environment for an upstream command: the gateway's own, without its hub credentials. */
export function upstreamEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'AGENTOPS_API_KEY') out[k] = v;
  return out;
}

/**
 * Connects a client to the upstream server. `init` is what the gateway's own client said in its `initialize`:
 * the upstream sees the same capabilities (sampling, elicitation, roots), since the gateway relays those requests
 * to it, and the same client name. The upstream's headers (`spec.headers`, e.g. its credentials) are sent to the
 * upstream only: nothing the gateway answers its clients carries them.
 */
export async function connectUpstream(spec: UpstreamSpec, init: Partial<UpstreamInit> = {}): Promise<Client> {
  const client = new Client(init.clientInfo ?? { name: 'agentops-mcp-gateway', version: '0.1.0' }, {
    capabilities: init.capabilities ?? {},
  });
  if ('command' in spec) {
    const [command, ...args] = splitCommand(spec.command);
    if (!command) throw new Error('--upstream-command is empty');
    const stdio = new StdioClientTransport({
      command,
      args,
      cwd: spec.cwd,
      env: spec.env ?? upstreamEnv(),
      stderr: 'inherit',
    });
    await client.connect(oneAtATime(stdio));
  } else {
    await client.connect(new HttpClientTransport(new URL(spec.url), spec.headers ?? {}, { lookup: spec.lookup }));
  }
  return client;
}

/**
 * The transport with its incoming messages handed on one microtask apart. The stdio transport hands on every
 * message of a chunk at once, and the SDK's `Protocol` settles a response at once but runs notification
 * handlers a microtask later: the last progress notification of a tool call, read in the same chunk as the
 * call's response, would find the request already answered and be lost (the conformance suite's
 * `tools-call-with-progress` caught it). The HTTP transport (http-client.ts) does the same itself.
 */
function oneAtATime(inner: StdioClientTransport): Transport {
  let delivered: Promise<void> = Promise.resolve();
  const outer: Transport = {
    start: () => inner.start(),
    send: (message) => inner.send(message),
    close: () => inner.close(),
  };
  inner.onmessage = (message) => {
    delivered = delivered.then(() => outer.onmessage?.(message));
  };
  inner.onerror = (e) => outer.onerror?.(e);
  inner.onclose = () => outer.onclose?.();
  return outer;
}

/** A connector that opens one upstream connection per client session (`createGateway({ upstream })`). */
export function upstreamConnector(spec: UpstreamSpec): UpstreamConnector {
  return (init) => connectUpstream(spec, init);
}
