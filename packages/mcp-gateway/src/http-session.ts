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
 *
 * Resumable streams: every event carries an id (`<stream>-<seq>`, replay-buffer.ts) and is kept in a bounded
 * per-session buffer. A client whose connection broke sends `GET` with `Last-Event-ID`: it gets that stream's
 * events sent after that id, then the rest of the stream on the same answer (the responses still to come).
 * A broken connection is not a cancellation: the requests go on, and what they send meanwhile is kept. A stream
 * still waiting after half a second sends a priming event (an id, no data) to clients of protocol 2025-11-25 and
 * later, so that a long wait (an approval) is resumable before its first message.
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
import { parseEventId, ReplayBuffer, type ReplayLimits } from './replay-buffer.ts';

// Shape checks, not schema parses: the SDK's Protocol validates each message it handles; these only route.
const isMessage = (m: unknown): m is JSONRPCMessage =>
  typeof m === 'object' && m !== null && (m as { jsonrpc?: unknown }).jsonrpc === '2.0';
const isRequest = (m: JSONRPCMessage): m is JSONRPCRequest => 'method' in m && 'id' in m;
const isResponse = (m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } =>
  'id' in m && !('method' in m) && ('result' in m || 'error' in m);

/**
 * Messages in one `POST` (JSON-RPC batches were dropped from MCP in 2025-06-18; earlier clients send a few), and
 * requests of one session waiting for their answer. Past either the `POST` is refused whole: a client (in the hub,
 * any holder of an agent key) could otherwise start thousands of decisions and upstream calls with one request.
 */
export const MAX_BATCH = 32;
export const MAX_IN_FLIGHT = 16;
/**
 * Bytes an answer may hold that its client has not read yet. Past it the stream is cut rather than buffered
 * in this process without bound (a client that stops reading while the upstream goes on sending); its events
 * stay in the replay buffer, so the client resumes from its last event id as after any broken connection.
 */
export const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

/** The standalone (`GET`) stream's id; `POST` streams count from 1. */
const STANDALONE = '0';
/** The first protocol version whose clients accept an event without data (a priming event). */
const PRIMING_SINCE = '2025-11-25';

/** One event stream of the session, and the HTTP answer that carries it now (none while the client is away). */
interface Stream {
  id: string;
  res?: ServerResponse;
  /** Requests of this stream not answered yet (a `POST` stream ends with the last answer). */
  pending: Set<RequestId>;
  /** Whether to send a priming event when the headers go out before any message. */
  priming: boolean;
}

/** One session's transport: hand it each HTTP request of the session with `handle`. */
export class HttpSessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /**
   * Sees each incoming message before `onmessage`; returns true when it took the message (the gateway's
   * `tools/call` pass-through). A request it takes is still routed: its answer goes out with `write`.
   */
  intercept?: (message: JSONRPCMessage) => boolean;
  readonly sessionId = randomUUID();
  private initialized = false;
  private closed = false;
  /** The stream of each request being handled. */
  private readonly streamOf = new Map<RequestId, Stream>();
  /** The `POST` streams not ended yet, by id: a resume finds them here. */
  private readonly streams = new Map<string, Stream>();
  /** Exists once the client opened it; kept (and its events kept) while the client reconnects. */
  private standalone?: Stream;
  private lastStream = 0;
  private seq = 0;
  private readonly replay: ReplayBuffer;
  private readonly headers: Record<string, string>;

  constructor(limits?: ReplayLimits) {
    this.replay = new ReplayBuffer(limits);
    this.headers = {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'mcp-session-id': this.sessionId,
    };
  }

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
    this.write(JSON.stringify(message), response ? message.id : options?.relatedRequestId, response);
  }

  /**
   * Sends one message given as its JSON text: a response (`response`, to request `id`) or a message related to
   * request `id` (or to none). The gateway's `tools/call` pass-through (passthrough.ts) writes the upstream's
   * bytes this way, with the event ids, replay buffer and stream ends of every other message.
   */
  write(json: string, id: RequestId | undefined, response: boolean): void {
    let stream = id === undefined ? undefined : this.streamOf.get(id);
    if (!stream) {
      // Unrelated (or related to a request already answered): the standalone stream, if the client opened one.
      if (response || !this.standalone) return;
      stream = this.standalone;
    }
    const seq = ++this.seq;
    const text = `id: ${stream.id}-${seq}\nevent: message\ndata: ${dataLines(json)}\n\n`;
    this.replay.add(stream.id, seq, text);
    if (response) {
      this.streamOf.delete(id!);
      stream.pending.delete(id!);
      if (stream.pending.size === 0) {
        this.streams.delete(stream.id);
        // The last answer of a stream ends it in the same write: headers, event and end in one packet when that
        // answer is all there is (the usual tools/call), instead of a second write for the end.
        const res = stream.res;
        stream.res = undefined;
        if (res && !res.writableEnded) {
          if (!res.headersSent) res.writeHead(200, { ...this.headers, 'content-length': Buffer.byteLength(text) });
          res.end(text);
        }
        return;
      }
    }
    const res = stream.res;
    if (!res || res.writableEnded) return; // the client is away: the event is kept for its resume
    if (!res.headersSent) res.writeHead(200, this.headers);
    res.write(text);
    if (res.writableLength > MAX_UNREAD_BYTES) {
      stream.res = undefined;
      res.destroy();
    }
  }

  /** Whether a response of the session is still open: a call waiting for its answer, or the standalone stream. */
  get hasOpenStream(): boolean {
    if (this.streamOf.size > 0) return true;
    const res = this.standalone?.res;
    return res !== undefined && !res.writableEnded && !res.destroyed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) if (s.res && !s.res.writableEnded) s.res.end();
    this.streams.clear();
    this.streamOf.clear();
    this.standalone?.res?.end();
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
    if (messages.length > MAX_BATCH) {
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(rpcError(`a batch holds at most ${MAX_BATCH} messages`, -32600));
    }
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
    if (this.streamOf.size + requests.length > MAX_IN_FLIGHT) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      return void res.end(
        rpcError(
          `at most ${MAX_IN_FLIGHT} requests of a session may wait for their answer: retry once some are answered`,
        ),
      );
    }
    if (requests.length === 0) {
      res.writeHead(202).end();
    } else {
      const version = req.headers['mcp-protocol-version'];
      const stream: Stream = {
        id: String(++this.lastStream),
        res,
        pending: new Set(requests.map((r) => r.id)),
        priming: typeof version === 'string' && version >= PRIMING_SINCE,
      };
      this.streams.set(stream.id, stream);
      for (const r of requests) this.streamOf.set(r.id, stream);
      this.attach(stream, res);
    }
    for (const m of messages) if (!this.intercept?.(m)) this.onmessage?.(m);
  }

  private get(req: IncomingMessage, res: ServerResponse): void {
    if (!(req.headers.accept ?? '').includes('text/event-stream')) {
      res.writeHead(406, { 'content-type': 'application/json' });
      return void res.end(rpcError('Accept must list text/event-stream'));
    }
    if (!this.check(req, res)) return;
    const last = req.headers['last-event-id'];
    if (typeof last === 'string' && last !== '') {
      this.resume(last, res);
      return;
    }
    if (this.standalone?.res && !this.standalone.res.writableEnded) {
      res.writeHead(409, { 'content-type': 'application/json' });
      return void res.end(rpcError('only one standalone stream per session'));
    }
    this.standalone ??= { id: STANDALONE, pending: new Set(), priming: false };
    res.writeHead(200, this.headers);
    res.flushHeaders();
    this.attach(this.standalone, res);
  }

  /**
   * `GET` with `Last-Event-ID`: replays the stream's events after that id, then carries the rest of the stream
   * (a stream already ended ends after the replay). A connection the client still holds for that stream is
   * ended: the client's resume says it is broken.
   */
  private resume(last: string, res: ServerResponse): void {
    const at = parseEventId(last);
    const missed = at && this.replay.after(at.stream, at.seq);
    if (!at || !missed || at.seq > this.seq) {
      res.writeHead(400, { 'content-type': 'application/json' });
      return void res.end(rpcError(`cannot resume after event ${last}: it is unknown or its successors are gone`));
    }
    const stream = at.stream === STANDALONE ? this.standalone : this.streams.get(at.stream);
    res.writeHead(200, this.headers);
    if (!stream) return void res.end(missed.join(''));
    const old = stream.res;
    stream.res = undefined;
    if (old && !old.writableEnded) old.end();
    if (missed.length > 0) res.write(missed.join(''));
    else res.flushHeaders();
    this.attach(stream, res);
  }

  /** Makes `res` carry `stream` until it ends or the client goes away (then the stream waits for a resume). */
  private attach(stream: Stream, res: ServerResponse): void {
    stream.res = res;
    keepOpen(res, stream, this);
    res.on('close', () => {
      if (stream.res === res) stream.res = undefined;
    });
  }

  /** A priming event: an id (after everything sent so far) and no data, so the client can resume from here. */
  primingEvent(stream: Stream): string {
    return `id: ${stream.id}-${this.seq}\ndata: \n\n`;
  }

  /** The headers of an event stream of this session. */
  get streamHeaders(): Record<string, string> {
    return this.headers;
  }
}

/**
 * Headers are not written before the first event: a quick answer then leaves in one write (headers, event,
 * end). A slower one (a call waiting for a person's approval) gets its headers after half a second (with a
 * priming event, for clients that take one) and an SSE comment every 25 s after that, so HTTP clients' header and
 * idle timeouts (undici's are 300 s) do not cut it.
 */
function keepOpen(res: ServerResponse, stream: Stream, session: HttpSessionTransport): void {
  let timer: ReturnType<typeof setTimeout>;
  const beat = () => {
    if (res.writableEnded || res.destroyed) return;
    if (!res.headersSent) {
      res.writeHead(200, session.streamHeaders);
      if (stream.priming) res.write(session.primingEvent(stream));
      else res.flushHeaders();
    } else res.write(': keep-alive\n\n');
    timer = setTimeout(beat, 25_000);
  };
  timer = setTimeout(beat, 500);
  res.on('close', () => clearTimeout(timer));
  res.on('finish', () => clearTimeout(timer));
}

export function rpcError(message: string, code = -32000): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * A JSON text as the payload of one SSE event. The upstream's bytes (passthrough.ts) may be pretty-printed:
 * a line break inside an event's `data:` would end that field early and cut the JSON. JSON has line breaks
 * only between tokens (inside strings they are escaped), so each line becomes its own `data:` line, which
 * the client joins back with `\n`: the same JSON.
 */
function dataLines(json: string): string {
  return json.includes('\n') || json.includes('\r') ? json.split(/\r\n|\r|\n/).join('\ndata: ') : json;
}
