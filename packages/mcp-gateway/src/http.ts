/**
 * @module http
 * Serves the gateway over MCP Streamable HTTP at `/mcp`: one session (and one run) per `initialize`, routed by
 * the `Mcp-Session-Id` header; `DELETE /mcp` or a closed transport ends the session.
 *
 * Before any MCP handling, two guards. DNS-rebinding protection: on a loopback bind (the default), a request
 * whose `Host` or `Origin` names another host is refused (403), so a web page a user visits cannot reach the
 * gateway through a hostname that resolves to 127.0.0.1. And with `authToken`, every request must carry
 * `Authorization: Bearer <token>` (401 otherwise); that token is the gateway's own and is never sent upstream.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Gateway } from './gateway.ts';
import { HttpSessionTransport, rpcError } from './http-session.ts';
import type { ReplayLimits } from './replay-buffer.ts';

const MAX_BODY = 4 * 1024 * 1024;

/** Reads a request's JSON body (events, not an async iterator: this runs for every relayed message). */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        resolve(text ? JSON.parse(text) : undefined);
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** True for a bind address only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The hostname of a `Host` header or an origin, lower-cased, IPv6 in brackets; undefined when unparsable. */
function hostnameOf(value: string, isOrigin: boolean): string | undefined {
  try {
    return new URL(isOrigin ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface HttpOptions {
  port: number;
  host: string;
  /** Default `/mcp`. */
  path?: string;
  /**
   * Hostnames (any port) a request's `Host` and `Origin` may name. Default on a loopback bind: localhost,
   * 127.0.0.1 and [::1]; on any other bind, no check unless given.
   */
  allowedHosts?: string[];
  /** Clients must send `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** How many events (and bytes) each session keeps for clients that resume a broken stream. */
  replay?: ReplayLimits;
  /** A session without a request for this long, and no open stream, is ended. Default 30 minutes. */
  sessionIdleMs?: number;
}

/** A session left without a request this long (and with no stream open) is ended; its client starts a new one. */
export const SESSION_IDLE_MS = 30 * 60_000;

/**
 * The Streamable HTTP sessions of one gateway, without a server of their own: hand it each request of the MCP
 * endpoint (its guards already passed). `serveHttp` puts it behind its own `node:http` server; a host that
 * already serves HTTP (the hub's hosted endpoints) mounts it on a route of its own.
 */
export interface McpSessionRouter {
  /** Answers one request. `body`: the parsed JSON body when the host has read it already; else it is read here. */
  handle(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void>;
  /** Open sessions. */
  readonly size: number;
  /** Ends every session (and its run). */
  close(): Promise<void>;
}

export function createSessionRouter(
  gateway: Gateway,
  opts: {
    replay?: ReplayLimits;
    /**
     * Open sessions at most; a new one past it ends the least recently used (its client gets 404 at its next
     * request, and starts a new session, as the protocol says). Default: no limit.
     */
    maxSessions?: number;
    /**
     * A session without a request for this long, and with no stream open (no call waiting for its answer, no
     * standalone stream), is ended: a client that went away without `DELETE` would otherwise hold its run, its
     * upstream session and its memory until the gateway stops. Default 30 minutes.
     */
    idleMs?: number;
  } = {},
): McpSessionRouter {
  /** In order of last use (a used session is moved to the end). */
  const sessions = new Map<string, HttpSessionTransport>();
  const max = opts.maxSessions ?? Number.POSITIVE_INFINITY;
  const idleMs = opts.idleMs ?? SESSION_IDLE_MS;
  /** When each session last had a request. */
  const lastSeen = new WeakMap<HttpSessionTransport, number>();
  const sweep = setInterval(
    () => {
      const before = Date.now() - idleMs;
      for (const s of sessions.values())
        if ((lastSeen.get(s) ?? 0) < before && !s.hasOpenStream) void s.close().catch(() => {});
    },
    Math.min(idleMs / 2, 60_000),
  );
  sweep.unref();
  return {
    async handle(req, res, parsed) {
      try {
        const sid = req.headers['mcp-session-id'];
        const body = parsed !== undefined ? parsed : req.method === 'POST' ? await readJson(req) : undefined;
        const known = typeof sid === 'string' ? sessions.get(sid) : undefined;
        if (known) {
          lastSeen.set(known, Date.now());
          if (max !== Number.POSITIVE_INFINITY) {
            sessions.delete(known.sessionId);
            sessions.set(known.sessionId, known);
          }
          return await known.handle(req, res, body);
        }
        if (sid !== undefined) return fail(res, 404, 'unknown or ended session');
        if (req.method !== 'POST' || !isInitializeRequest(body))
          return fail(res, 400, 'no session: start one with an initialize request');
        if (sessions.size >= max) {
          const [, oldest] = sessions.entries().next().value as [string, HttpSessionTransport];
          sessions.delete(oldest.sessionId);
          void oldest.close().catch(() => {});
        }
        const transport = new HttpSessionTransport(opts.replay);
        const session = gateway.createSession({ transport: 'http', sessionId: transport.sessionId });
        sessions.set(transport.sessionId, transport);
        lastSeen.set(transport, Date.now());
        transport.onclose = () => {
          if (sessions.get(transport.sessionId) === transport) sessions.delete(transport.sessionId);
          void session.end();
        };
        await session.serveHttp(transport);
        await transport.handle(req, res, body);
      } catch (e) {
        if (!res.headersSent) fail(res, (e as { status?: number }).status ?? 400, (e as Error).message);
      }
    },
    get size() {
      return sessions.size;
    },
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.close().catch(() => {})));
    },
  };
}

function fail(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(rpcError(message));
}

/** Starts the HTTP endpoint; resolves once it listens. */
export async function serveHttp(
  gateway: Gateway,
  opts: HttpOptions,
): Promise<{ server: HttpServer; url: string; close(): Promise<void> }> {
  const path = opts.path ?? '/mcp';
  const allowed =
    opts.allowedHosts && opts.allowedHosts.length > 0
      ? new Set(opts.allowedHosts.map((h) => hostnameOf(h, false) ?? h.toLowerCase()))
      : isLoopback(opts.host)
        ? new Set(LOOPBACK_NAMES)
        : undefined;
  const token = opts.authToken ? digest(opts.authToken) : undefined;

  /** `Host` and `Origin` values already found allowed: parsing them (a URL each) is then skipped. */
  const passed = new Set<string>();
  const allows = (value: string, isOrigin: boolean) => {
    const key = isOrigin ? `o ${value}` : `h ${value}`;
    if (passed.has(key)) return true;
    if (!allowed!.has(hostnameOf(value, isOrigin) ?? '')) return false;
    if (passed.size < 64) passed.add(key);
    return true;
  };

  /** Why a request is refused before MCP sees it, if it is. */
  const refuse = (req: IncomingMessage): [number, string] | undefined => {
    if (allowed) {
      const host = req.headers.host ?? '';
      if (!allows(host, false)) return [403, `Invalid Host: ${host}`];
      const origin = req.headers.origin;
      if (origin !== undefined && !allows(origin, true)) return [403, `Invalid Origin: ${origin}`];
    }
    if (token) {
      const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
      // Compared as digests: same length, constant time.
      if (!m || !timingSafeEqual(digest(m[1]!.trim()), token)) return [401, 'a bearer token is required'];
    }
    return undefined;
  };
  const router = createSessionRouter(gateway, { replay: opts.replay, idleMs: opts.sessionIdleMs });

  const server = createServer(async (req, res) => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const refused = refuse(req);
    if (refused) {
      if (refused[0] === 401) res.setHeader('www-authenticate', 'Bearer');
      return fail(res, refused[0], refused[1]);
    }
    if (pathname !== path) return fail(res, 404, `not found: the MCP endpoint is ${path}`);
    await router.handle(req, res);
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
      await router.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
