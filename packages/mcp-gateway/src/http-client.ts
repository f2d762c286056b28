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
 * the session on `terminateSession()`. Not done: resuming a broken upstream stream (`Last-Event-ID`); the
 * gateway's own streams to its clients are resumable (http-session.ts).
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { type Dispatcher, Pool } from 'undici';

/** Reopen the standalone stream this long after it ends (the upstream may close it to make clients poll). */
const REOPEN_MS = 1000;

/** What an exchange answered: for an event stream, as soon as its headers came (the events follow). */
interface Answer {
  status: number;
  type: string;
  /** The body of an answer that is not an event stream. */
  text: string;
}

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
  private standalone = false;
  /** The request headers, rebuilt only when the session id or protocol version changes. */
  private headerCache?: { key: string; post: Record<string, string>; get: Record<string, string> };

  constructor(
    url: URL,
    private readonly headers: Record<string, string> = {},
  ) {
    this.path = url.pathname + url.search;
    // No undici timeouts: a tool call may run for minutes, and the SDK's `Protocol` times each request itself.
    this.pool = new Pool(url.origin, { keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the upstream connection is closed');
    const res = await this.exchange('POST', JSON.stringify(message));
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

  private requestHeaders(method: 'POST' | 'GET' | 'DELETE'): Record<string, string> {
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

  /** Sends one request; resolves at the answer's headers for an event stream, else once the body is read. */
  private exchange(method: 'POST' | 'GET' | 'DELETE', body?: string, onEnd?: () => void): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.pool.dispatch(
        { path: this.path, method, headers: this.requestHeaders(method), body },
        new Exchange(this, resolve, reject, onEnd),
      );
    });
  }

  /** Takes the session id the upstream assigns (its `initialize` answer), before any message of it is handled. */
  sawSessionId(sid: string): void {
    this.sessionId = sid;
  }

  /** Parses one event's data and hands the message on. */
  parse(data: string): void {
    try {
      this.deliver(JSON.parse(data) as JSONRPCMessage);
    } catch (e) {
      this.onerror?.(new Error(`the upstream sent an event that is not JSON-RPC: ${(e as Error).message}`));
    }
  }

  /**
   * Hands on one message, each a microtask after the one before. The SDK's `Protocol` runs notification handlers
   * a microtask later but settles responses at once: a progress notification and the response that follows it
   * in the same chunk would otherwise meet a request already answered, and the progress would be lost.
   */
  private deliver(message: JSONRPCMessage): void {
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

/**
 * One request's answer as undici hands it over: the status and headers, then the body in chunks. An event stream
 * is parsed as it comes (each `message` event handed to the transport); any other body is collected whole.
 */
class Exchange implements Dispatcher.DispatchHandlers {
  private answer?: Answer;
  private sse = false;
  private body: Buffer[] = [];
  private buffer = '';
  private data: string[] = [];
  private event = 'message';
  private abort?: (e?: Error) => void;
  private ended = false;
  private cancelled = false;

  constructor(
    private readonly t: HttpClientTransport,
    private readonly resolve: (a: Answer) => void,
    private readonly reject: (e: Error) => void,
    private readonly onEnd?: () => void,
  ) {}

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
    if (!this.sse) {
      this.body.push(chunk);
      return true;
    }
    this.buffer += chunk.toString('utf8');
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, this.buffer[nl - 1] === '\r' ? nl - 1 : nl);
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf('\n');
      if (line === '') {
        // A blank line ends an event: dispatch it (priming events carry no data).
        if (this.data.length > 0 && this.event === 'message') this.t.parse(this.data.join('\n'));
        this.data = [];
        this.event = 'message';
      } else if (line.startsWith('data:')) this.data.push(line.slice(line[5] === ' ' ? 6 : 5));
      else if (line.startsWith('event:')) this.event = line.slice(6).trim();
    }
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
  }
}
