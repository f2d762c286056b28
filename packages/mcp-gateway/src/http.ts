/**
 * @module http
 * Serves the gateway over MCP Streamable HTTP at `/mcp`: one session (and one run) per `initialize`, routed by
 * the `Mcp-Session-Id` header; `DELETE /mcp` or a closed transport ends the session.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from './gateway.ts';

const MAX_BODY = 4 * 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** Starts the HTTP endpoint; resolves once it listens. */
export async function serveHttp(
  gateway: Gateway,
  opts: { port: number; host: string; path?: string },
): Promise<{ server: HttpServer; url: string; close(): Promise<void> }> {
  const path = opts.path ?? '/mcp';
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; end: () => Promise<void> }>();

  const rpcError = (res: import('node:http').ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      if (url.pathname !== path) return rpcError(res, 404, `not found: the MCP endpoint is ${path}`);
      const sid = req.headers['mcp-session-id'];
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const known = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (known) return await known.transport.handleRequest(req, res, body);
      if (sid !== undefined) return rpcError(res, 404, 'unknown or ended session');
      if (req.method !== 'POST' || !isInitializeRequest(body))
        return rpcError(res, 400, 'no session: start one with an initialize request');
      let session: ReturnType<Gateway['createSession']> | undefined;
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          if (session) sessions.set(id, { transport, end: session.end });
        },
      });
      session = gateway.createSession({ transport: 'http' });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        void session?.end();
      };
      await session.server.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (e) {
      if (!res.headersSent) rpcError(res, (e as { status?: number }).status ?? 400, (e as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    server,
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}${path}`,
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
