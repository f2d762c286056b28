/**
 * @module http-client
 * The gateway's client side of MCP Streamable HTTP towards the upstream, on an undici `Pool` (kept-alive
 * connections to the upstream's origin) driven through `dispatch`: the answer's bytes come to one handler object
 * per request, which parses the event stream as it arrives. The SDK's `StreamableHTTPClientTransport` does the
 * same over `fetch` and web streams (a `TextDecoderStream` and an event-source parser stream per response); on the
 * gateway's hot path, a relayed `tools/call`, that machinery was most of the extra hop's cost.
 *
 * What it does: POSTs each message with the session id and negotiated protocol version; reads a JSON or
 * `text/event-stream` answer and hands every message on; opens the standalone `GET` stream once the session is
 * initialized (the upstream's unsolicited requests and notifications) and reopens it when it ends; `DELETE`s
 * the session on `terminateSession()`. A request's event stream that breaks before its response came is
 * resumed, as the MCP specification describes, when the upstream gave its events ids: `GET` with
 * `Last-Event-ID` (up to 5 tries, 0.1 s apart and doubling); when it cannot be resumed, the request is answered
 * with an error at once rather than left to its timeout.
 */

import type { LookupFunction } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { type Dispatcher, Pool } from 'undici';

/** Reopen the standalone stream this long after it ends (the upstream may close it to make clients poll). */
const REOPEN_MS = 1000;
/** Tries to resume one broken request stream, and the wait before the first (doubled each time). */
const RESUME_TRIES = 5;
const RESUME_WAIT_MS = 100;

/** What a request stream still owes: the response to `id`; `lastEventId` is where to resume it from. */
interface Owed {
  id: RequestId;
  lastEventId?: string;
  tries: number;
  /** A request sent with `sendRaw`: its stream's messages go here rather than to the SDK's `Client`. */
  sink?: RawSink;
}

/**
 * Where the messages of a request sent with `sendRaw` go, each with its JSON text as the upstream sent it: its
 * response, and the notifications related to it (progress, logging). Requests the upstream sends on that stream
 * (sampling, elicitation, roots) and its `notifications/cancelled` still go to the `Client`, which relays them.
 */
export interface RawSink {
  answer(json: string, message: JSONRPCMessage): void;
  notify(json: string, message: JSONRPCMessage): void;
  /** The request cannot be answered: the upstream refused it, or its stream broke and could not be resumed. */
  fail(message: string): void;
}

/** A request sent with `sendRaw`: its id (`rawId()`), and where its messages go. */
export type RawRequest = Owed & { sink: RawSink };

/** A prefix no other id of this process's upstream requests has (the SDK's `Client` numbers its own). */
const RAW_PREFIX = `gw-${Math.random().toString(36).slice(2, 10)}-`;

/** What an exchange answered: for an event stream, as soon as its headers came (the events follow). */
interface Answer {
  status: number;
  type: string;
  /** The body of an answer that is not an event stream. */
  text: string;
}

/**
 * The largest message taken from the upstream, by default: what an MCP result with a few images in base64 needs,
 * with room. Past it the exchange is aborted and its request answered with an error, so a hostile or broken
 * upstream cannot fill the gateway's memory (in the hub, an org's upstream is the org's to choose).
 */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export class HttpClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  sessionId?: string;
  private protocolVersion?: string;
  private closed = false;
  private readonly pool: Pool;
  private readonly path: string;
  /** Exchanges whose event streams are being read: aborted on close. */
  readonly open = new Set<Exchange>();
  /** One message (a JSON body, or one event of a stream) larger than this is refused: see MAX_MESSAGE_BYTES. */
  readonly maxMessageBytes: number;
  private standalone = false;
  /** The request headers, rebuilt only when the session id or protocol version changes. */
  private headerCache?: { key: string; post: Record<string, string>; get: Record<string, string> };

  /**
   * `lookup`: resolves the upstream's host name for each new connection instead of the system resolver (a host
   * that connects for its users passes its egress guard's, which refuses internal addresses).
   */
  constructor(
    url: URL,
    private readonly headers: Record<string, string> = {},
    opts: { lookup?: LookupFunction; maxMessageBytes?: number } = {},
  ) {
    this.maxMessageBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.path = url.pathname + url.search;
    // No undici timeouts: a tool call may run for minutes, and the SDK's `Protocol` times each request itself.
    this.pool = new Pool(url.origin, {
      // Sockets to the upstream, at most: the session's requests in flight (http-session.ts's MAX_IN_FLIGHT),
      // its standalone stream and a notification or two. Further requests wait for a free one.
      connections: 20,
      keepAliveTimeout: 30_000,
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(opts.lookup ? { connect: { lookup: opts.lookup } } : {}),
    });
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the upstream connection is closed');
    const m = message as { id?: RequestId; method?: string };
    const owed = m.id !== undefined && m.method !== undefined ? { id: m.id, tries: 0 } : undefined;
    const res = await this.exchange('POST', JSON.stringify(message), owed);
    if (res.status === 202) {
      // The session is ready: open the standalone stream, and wait until it is open, so that what the upstream
      // sends outside a request right after `initialize` (a server that asks the client at once) is not missed.
      if ((message as { method?: string }).method === 'notifications/initialized') await this.openStandalone();
      return;
    }
    if (res.status !== 200) throw new Error(`the upstream answered HTTP ${res.status}: ${res.text.slice(0, 500)}`);
    if (res.type.includes('text/event-stream')) return;
    if (!res.type.includes('application/json'))
      throw new Error(`the upstream answered an unexpected content type: ${res.type}`);
    const body = JSON.parse(res.text) as JSONRPCMessage | JSONRPCMessage[];
    for (const m of Array.isArray(body) ? body : [body]) this.deliver(m);
  }

  /** A fresh id for `sendRaw`: a string, so it never meets one of the `Client`'s numbered requests. */
  rawId(): string {
    return `${RAW_PREFIX}${++this.rawCount}`;
  }
  private rawCount = 0;

  /**
   * Sends one request given as its JSON text, outside the SDK's `Client` (the gateway's `tools/call`
   * pass-through): its response and related notifications go to `request.sink` as text, and its stream is
   * resumed like any other when it breaks. Resolves once the upstream has taken the request.
   */
  async sendRaw(json: string, request: RawRequest): Promise<void> {
    if (this.closed) throw new Error('the upstream connection is closed');
    const res = await this.exchange('POST', json, request);
    if (res.status !== 200) throw new Error(`the upstream answered HTTP ${res.status}: ${res.text.slice(0, 500)}`);
    if (res.type.includes('text/event-stream')) return;
    if (!res.type.includes('application/json'))
      throw new Error(`the upstream answered an unexpected content type: ${res.type}`);
    const body = JSON.parse(res.text) as JSONRPCMessage | JSONRPCMessage[];
    if (!Array.isArray(body)) this.route(request, res.text, body);
    else for (const m of body) this.route(request, JSON.stringify(m), m);
  }

  /** Hands one message of a raw request's stream on: to its sink, or to the `Client` (see `RawSink`). */
  route(owed: RawRequest, json: string, message: JSONRPCMessage): void {
    const m = message as { id?: RequestId; method?: string };
    if (m.method === undefined) {
      if (m.id === owed.id) owed.sink.answer(json, message);
      else this.deliver(message);
    } else if (m.id === undefined && m.method !== 'notifications/cancelled') owed.sink.notify(json, message);
    else this.deliver(message);
  }

  /** Ends the upstream session (`DELETE`); a server that does not allow it (405) is fine. */
  async terminateSession(): Promise<void> {
    if (!this.sessionId) return;
    const res = await this.exchange('DELETE');
    if (res.status !== 200 && res.status !== 202 && res.status !== 204 && res.status !== 405)
      throw new Error(`the upstream refused to end the session: HTTP ${res.status}`);
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const x of this.open) x.cancel();
    await this.pool.destroy().catch(() => {});
    this.onclose?.();
  }

  /**
   * A request's stream ended before its response: resume it from its last event id, or, when that cannot be
   * done (no id, the upstream refuses, too many tries), answer the request with an error.
   */
  streamBroke(owed: Owed): void {
    if (this.closed) return;
    if (owed.lastEventId === undefined || owed.tries >= RESUME_TRIES) {
      this.giveUp(owed);
      return;
    }
    const wait = RESUME_WAIT_MS * 2 ** owed.tries++;
    setTimeout(() => {
      if (this.closed) return;
      this.exchange('GET', undefined, owed).then(
        (res) => res.status !== 200 && this.giveUp(owed),
        () => this.streamBroke(owed),
      );
    }, wait).unref();
  }

  giveUp(
    owed: Owed,
    message = 'the connection to the upstream MCP server broke before its answer, and could not be resumed',
  ): void {
    if (owed.sink) owed.sink.fail(message);
    else this.deliver({ jsonrpc: '2.0', id: owed.id, error: { code: -32000, message } });
  }

  private requestHeaders(method: 'POST' | 'GET' | 'DELETE', lastEventId?: string): Record<string, string> {
    if (lastEventId !== undefined) return { ...this.requestHeaders(method), 'last-event-id': lastEventId };
    const key = `${this.sessionId}|${this.protocolVersion}`;
    if (this.headerCache?.key !== key) {
      const common: Record<string, string> = { ...this.headers };
      if (this.sessionId) common['mcp-session-id'] = this.sessionId;
      if (this.protocolVersion) common['mcp-protocol-version'] = this.protocolVersion;
      this.headerCache = {
        key,
        post: { ...common, accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
        get: { ...common, accept: 'text/event-stream' },
      };
    }
    return method === 'POST' ? this.headerCache.post : this.headerCache.get;
  }

  /**
   * Sends one request; resolves at the answer's headers for an event stream, else once the body is read. `then`:
   * what the stream owes (its request's response, resumed when it breaks), or what to do when it ends.
   */
  private exchange(method: 'POST' | 'GET' | 'DELETE', body?: string, then?: Owed | (() => void)): Promise<Answer> {
    const owed = typeof then === 'object' ? then : undefined;
    const headers = this.requestHeaders(method, method === 'GET' ? owed?.lastEventId : undefined);
    return new Promise((resolve, reject) => {
      this.pool.dispatch({ path: this.path, method, headers, body }, new Exchange(this, resolve, reject, then));
    });
  }

  /** Takes the session id the upstream assigns (its `initialize` answer), before any message of it is handled. */
  sawSessionId(sid: string): void {
    this.sessionId = sid;
  }

  /**
   * Parses one event's data and hands the message on (to the sink of a raw request's stream, else to the
   * `Client`); returns it (undefined when it is not JSON).
   */
  parse(data: string, owed?: Owed): JSONRPCMessage | undefined {
    try {
      const message = JSON.parse(data) as JSONRPCMessage;
      if (owed?.sink) this.route(owed as RawRequest, data, message);
      else this.deliver(message);
      return message;
    } catch (e) {
      this.onerror?.(new Error(`the upstream sent an event that is not JSON-RPC: ${(e as Error).message}`));
      return undefined;
    }
  }

  /**
   * Hands on one message, each a microtask after the one before. The SDK's `Protocol` runs notification handlers
   * a microtask later but settles responses at once: a progress notification and the response that follows it
   * in the same chunk would otherwise meet a request already answered, and the progress would be lost.
   */
  deliver(message: JSONRPCMessage): void {
    this.delivered = this.delivered.then(() => this.onmessage?.(message));
  }
  private delivered: Promise<void> = Promise.resolve();

  /** The standalone stream: what the upstream sends outside any request. Reopened while the session lives. */
  private async openStandalone(): Promise<void> {
    if (this.standalone || this.closed) return;
    this.standalone = true;
    try {
      const res = await this.exchange('GET', undefined, () => {
        this.standalone = false;
        if (!this.closed && this.sessionId) setTimeout(() => void this.openStandalone(), REOPEN_MS).unref();
      });
      // 405: the upstream offers no standalone stream.
      if (res.status !== 200) this.standalone = false;
    } catch (e) {
      this.standalone = false;
      if (!this.closed) this.onerror?.(e as Error);
    }
  }
}

/** Marks an `Owed` whose response has come (no request id is this object). */
const PAID = Symbol('answered') as unknown as RequestId;

/**
 * One request's answer as undici hands it over: the status and headers, then the body in chunks. An event stream
 * is parsed as it comes (each `message` event handed to the transport); any other body is collected whole.
 */
class Exchange implements Dispatcher.DispatchHandlers {
  private answer?: Answer;
  private sse = false;
  private body: Buffer[] = [];
  /** Text of the stream: a character whose UTF-8 bytes are split between two chunks waits for the rest. */
  private readonly decoder = new StringDecoder('utf8');
  /** The pieces of a line not ended yet: joined once its line break comes, so each byte is scanned once. */
  private partial: string[] = [];
  private data: string[] = [];
  private event = 'message';
  private id?: string;
  private abort?: (e?: Error) => void;
  private ended = false;
  private cancelled = false;
  /** Bytes of the message being read (a whole body, or the current event of a stream). */
  private size = 0;
  private oversized = false;
  private readonly owed?: Owed;
  private readonly onEnd?: () => void;

  constructor(
    private readonly t: HttpClientTransport,
    private readonly resolve: (a: Answer) => void,
    private readonly reject: (e: Error) => void,
    then?: Owed | (() => void),
  ) {
    if (typeof then === 'function') this.onEnd = then;
    else this.owed = then;
  }

  cancel(): void {
    this.cancelled = true;
    this.abort?.(new Error('the upstream connection is closed'));
  }

  onConnect(abort: (e?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(status: number, raw: Buffer[]): boolean {
    if (status < 200) return true;
    let type = '';
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1').toLowerCase();
      if (name === 'content-type') type = raw[i + 1]!.toString('latin1');
      else if (name === 'mcp-session-id') this.t.sawSessionId(raw[i + 1]!.toString('latin1'));
    }
    this.answer = { status, type, text: '' };
    if (status === 200 && type.includes('text/event-stream')) {
      this.sse = true;
      this.t.open.add(this);
      this.resolve(this.answer);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.t.maxMessageBytes) {
      this.oversized = true;
      this.abort?.(new Error(`the upstream MCP server sent a message larger than ${this.t.maxMessageBytes} bytes`));
      return false;
    }
    if (!this.sse) {
      this.body.push(chunk);
      return true;
    }
    const text = this.decoder.write(chunk);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      let line = text.slice(from, nl);
      from = nl + 1;
      if (this.partial.length > 0) {
        this.partial.push(line);
        line = this.partial.join('');
        this.partial = [];
      }
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        // A blank line ends an event: dispatch it (priming events carry no data).
        if (this.id !== undefined && this.owed) this.owed.lastEventId = this.id;
        if (this.data.length > 0 && this.event === 'message') {
          const m = this.t.parse(this.data.join('\n'), this.owed) as { id?: RequestId; method?: string } | undefined;
          // The response this stream owed has come: nothing to resume any more.
          if (this.owed && m && m.method === undefined && m.id === this.owed.id) this.owed.id = PAID;
        }
        this.data = [];
        this.event = 'message';
        this.id = undefined;
        // The next event's bytes start after this one (what is left of the chunk is already its).
        this.size = text.length - from;
      } else if (line.startsWith('data:')) this.data.push(line.slice(line[5] === ' ' ? 6 : 5));
      else if (line.startsWith('event:')) this.event = line.slice(6).trim();
      else if (line.startsWith('id:')) this.id = line.slice(line[3] === ' ' ? 4 : 3);
    }
    if (from < text.length) this.partial.push(text.slice(from));
    return true;
  }

  onComplete(): void {
    if (this.sse) {
      this.end();
      return;
    }
    const a = this.answer!;
    a.text = Buffer.concat(this.body).toString('utf8');
    this.resolve(a);
  }

  onError(e: Error): void {
    if (!this.sse) {
      this.reject(e);
      return;
    }
    if (!this.cancelled) this.t.onerror?.(e);
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.t.open.delete(this);
    this.onEnd?.();
    if (!this.owed || this.owed.id === PAID || this.cancelled) return;
    // Resuming would only send the oversized message again.
    if (this.oversized)
      this.t.giveUp(this.owed, `the upstream MCP server's answer is larger than ${this.t.maxMessageBytes} bytes`);
    else this.t.streamBroke(this.owed);
  }
}
