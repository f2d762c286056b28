/**
 * @module http-session
 * The server side of one MCP Streamable HTTP session, on `node:http` directly. The SDK's
 * `StreamableHTTPServerTransport` converts every Node request into a web `Request` and writes its answer back
 * from a web `ReadableStream`; on the gateway's hot path (a relayed `tools/call`) that conversion is a large
 * part of the extra hop, so the gateway writes the event stream itself.
 *
 * The protocol, as the MCP specification (2025-06-18 and later) has it:
 * - `POST` carries one message or a batch. Only notifications or responses → 202. Requests → a
 *   `text/event-stream` answer that carries their responses and the messages related to them, ended once every
 *   request in it is answered.
 * - `GET` opens the session's one standalone stream (409 when one is open): what the server sends unrelated
 *   to any request. Without one, such messages are dropped, as the SDK does.
 * - `DELETE` ends the session. The session id travels in `Mcp-Session-Id`; a `MCP-Protocol-Version` header
 *   must name a version this SDK supports.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

// Shape checks, not schema parses: the SDK's Protocol validates each message it handles; these only route.
const isMessage = (m: unknown): m is JSONRPCMessage =>
  typeof m === 'object' && m !== null && (m as { jsonrpc?: unknown }).jsonrpc === '2.0';
const isRequest = (m: JSONRPCMessage): m is JSONRPCRequest => 'method' in m && 'id' in m;
const isResponse = (m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } =>
  'id' in m && !('method' in m) && ('result' in m || 'error' in m);

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

/** One session's transport: hand it each HTTP request of the session with `handle`. */
export class HttpSessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly sessionId = randomUUID();
  private initialized = false;
  private closed = false;
  /** The open answer of each request being handled, and how many of its requests are still unanswered. */
  private readonly streamOf = new Map<RequestId, { res: ServerResponse; pending: Set<RequestId> }>();
  private standalone?: ServerResponse;

  async start(): Promise<void> {}

  /** Handles one HTTP request of this session; `body` is the parsed JSON of a POST. */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (req.method === 'POST') return this.post(req, res, body);
    if (req.method === 'GET') return this.get(req, res);
    if (req.method === 'DELETE') {
      if (!this.check(req, res)) return;
      res.writeHead(200).end();
      await this.close();
      return;
    }
    res.writeHead(405, { allow: 'GET, POST, DELETE' });
    res.end(rpcError('method not allowed'));
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const response = isResponse(message);
    const id = response ? message.id : options?.relatedRequestId;
    const stream = id === undefined ? undefined : this.streamOf.get(id);
    if (!stream) {
      // Unrelated (or related to a request already answered): the standalone stream, if the client opened one.
      if (!response && this.standalone && !this.standalone.writableEnded) this.standalone.write(event(message));
      return;
    }
    if (response) {
      this.streamOf.delete(id!);
      stream.pending.delete(id!);
      // The last answer of a stream ends it in the same write: headers, event and end in one packet when that
      // answer is all there is (the usual tools/call), instead of a second write for the end.
      if (stream.pending.size === 0) return void stream.res.end(event(message));
    }
    stream.res.write(event(message));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { res } of this.streamOf.values()) if (!res.writableEnded) res.end();
    this.streamOf.clear();
    this.standalone?.end();
    this.onclose?.();
  }

  /** Session id and protocol version headers; answers the error itself and returns false when wrong. */
  private check(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.headers['mcp-session-id'] !== this.sessionId) {
      res.writeHead(req.headers['mcp-session-id'] ? 404 : 400, { 'content-type': 'application/json' });
      res.end(rpcError(req.headers['mcp-session-id'] ? 'session not found' : 'Mcp-Session-Id header is required'));
      return false;
    }
    const version = req.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(rpcError(`unsupported protocol version ${version}`));
      return false;
    }
    return true;
  }

  private post(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const accept = req.headers.accept ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      res.writeHead(406, { 'content-type': 'application/json' });
      return void res.end(rpcError('Accept must list both application/json and text/event-stream'));
    }
    if (!(req.headers['content-type'] ?? '').includes('application/json')) {
      res.writeHead(415, { 'content-type': 'application/json' });
      return void res.end(rpcError('Content-Type must be application/json'));
    }
    const messages: unknown[] = Array.isArray(body) ? body : [body];
    if (messages.length === 0 || !messages.every(isMessage)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(rpcError('not a JSON-RPC message', -32600));
    }
    const initializing = messages.some((m) => isRequest(m) && m.method === 'initialize');
    if (initializing) {
      if (this.initialized || messages.length > 1) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end(rpcError('invalid initialize request', -32600));
      }
      this.initialized = true;
    } else if (!this.check(req, res)) return;

    const requests = messages.filter(isRequest);
    if (requests.length === 0) {
      res.writeHead(202).end();
    } else {
      res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
      const stream = { res, pending: new Set(requests.map((r) => r.id)) };
      for (const r of requests) this.streamOf.set(r.id, stream);
      keepOpen(res);
      res.on('close', () => {
        // The client went away: later messages for these requests have nowhere to go.
        for (const id of stream.pending) if (this.streamOf.get(id) === stream) this.streamOf.delete(id);
      });
    }
    for (const m of messages) this.onmessage?.(m);
  }

  private get(req: IncomingMessage, res: ServerResponse): void {
    if (!(req.headers.accept ?? '').includes('text/event-stream')) {
      res.writeHead(406, { 'content-type': 'application/json' });
      return void res.end(rpcError('Accept must list text/event-stream'));
    }
    if (!this.check(req, res)) return;
    if (this.standalone && !this.standalone.writableEnded) {
      res.writeHead(409, { 'content-type': 'application/json' });
      return void res.end(rpcError('only one standalone stream per session'));
    }
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    res.flushHeaders();
    keepOpen(res);
    this.standalone = res;
    res.on('close', () => {
      if (this.standalone === res) this.standalone = undefined;
    });
  }
}

/**
 * Headers are not written before the first event: a quick answer then leaves in one write (headers, event,
 * end). A slower one (a call waiting for a person's approval) gets its headers after half a second and an SSE
 * comment every 25 s after that, so HTTP clients' header and idle timeouts (undici's are 300 s) do not cut it.
 */
function keepOpen(res: ServerResponse): void {
  let timer: ReturnType<typeof setTimeout>;
  const beat = () => {
    if (res.writableEnded || res.destroyed) return;
    if (!res.headersSent) res.flushHeaders();
    else res.write(': keep-alive\n\n');
    timer = setTimeout(beat, 25_000);
  };
  timer = setTimeout(beat, 500);
  res.on('close', () => clearTimeout(timer));
  res.on('finish', () => clearTimeout(timer));
}

const event = (message: JSONRPCMessage) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

export function rpcError(message: string, code = -32000): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}
