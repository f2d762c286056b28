/**
 * @module http-client
 * The gateway's client side of MCP Streamable HTTP towards the upstream, on `node:http` with kept-alive
 * connections. The SDK's `StreamableHTTPClientTransport` does the same over `fetch` and web streams (a
 * `TextDecoderStream` and an event-source parser stream per response); on the gateway's hot path, a relayed
 * `tools/call`, that machinery was most of the extra hop's cost, so the gateway parses the event stream itself.
 *
 * What it does: POSTs each message with the session id and negotiated protocol version; reads a JSON or
 * `text/event-stream` answer and hands every message on; opens the standalone `GET` stream once the session is
 * initialized (the upstream's unsolicited requests and notifications) and reopens it when it ends; `DELETE`s
 * the session on `terminateSession()`. Not done: resuming a broken response stream (`Last-Event-ID`).
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Reopen the standalone stream this long after it ends (the upstream may close it to make clients poll). */
const REOPEN_MS = 1000;

export class HttpClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  sessionId?: string;
  private protocolVersion?: string;
  private closed = false;
  private readonly agent: Agent;
  private readonly open = new Set<IncomingMessage>();
  private standalone = false;

  constructor(
    private readonly url: URL,
    private readonly headers: Record<string, string> = {},
  ) {
    this.agent =
      url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, noDelay: true })
        : new Agent({ keepAlive: true, noDelay: true });
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the upstream connection is closed');
    const res = await this.request('POST', JSON.stringify(message));
    const sid = res.headers['mcp-session-id'];
    if (typeof sid === 'string') this.sessionId = sid;
    if (res.statusCode === 202) {
      res.resume();
      // The session is ready: open the standalone stream, and wait until it is open, so that what the upstream
      // sends outside a request right after `initialize` (a server that asks the client at once) is not missed.
      if ((message as { method?: string }).method === 'notifications/initialized') await this.openStandalone();
      return;
    }
    if (res.statusCode !== 200) {
      const text = await readAll(res);
      throw new Error(`the upstream answered HTTP ${res.statusCode}: ${text.slice(0, 500)}`);
    }
    const type = res.headers['content-type'] ?? '';
    if (type.includes('text/event-stream')) this.readEvents(res);
    else if (type.includes('application/json')) {
      const body = JSON.parse(await readAll(res)) as JSONRPCMessage | JSONRPCMessage[];
      for (const m of Array.isArray(body) ? body : [body]) this.deliver(m);
    } else {
      res.resume();
      throw new Error(`the upstream answered an unexpected content type: ${type}`);
    }
  }

  /** Ends the upstream session (`DELETE`); a server that does not allow it (405) is fine. */
  async terminateSession(): Promise<void> {
    if (!this.sessionId) return;
    const res = await this.request('DELETE');
    res.resume();
    if (res.statusCode !== 200 && res.statusCode !== 202 && res.statusCode !== 204 && res.statusCode !== 405)
      throw new Error(`the upstream refused to end the session: HTTP ${res.statusCode}`);
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const res of this.open) res.destroy();
    this.agent.destroy();
    this.onclose?.();
  }

  private request(method: 'POST' | 'GET' | 'DELETE', body?: string): Promise<IncomingMessage> {
    const headers: Record<string, string> = {
      ...this.headers,
      accept: method === 'GET' ? 'text/event-stream' : 'application/json, text/event-stream',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.sessionId) headers['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion) headers['mcp-protocol-version'] = this.protocolVersion;
    const send = this.url.protocol === 'https:' ? httpsRequest : request;
    return new Promise((resolve, reject) => {
      const req = send(this.url, { method, headers, agent: this.agent }, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Hands on each `message` event of a `text/event-stream` response as it arrives. */
  private readEvents(res: IncomingMessage, onEnd?: () => void): void {
    this.open.add(res);
    res.setEncoding('utf8');
    let buffer = '';
    let data: string[] = [];
    let event = 'message';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, buffer[nl - 1] === '\r' ? nl - 1 : nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (line === '') {
          // A blank line ends an event: dispatch it (priming events carry no data).
          if (data.length > 0 && event === 'message') this.parse(data.join('\n'));
          data = [];
          event = 'message';
        } else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
        else if (line.startsWith('event:')) event = line.slice(6).trim();
      }
    });
    res.on('error', (e) => this.onerror?.(e));
    res.on('close', () => {
      this.open.delete(res);
      onEnd?.();
    });
  }

  private parse(data: string): void {
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
      const res = await this.request('GET');
      if (res.statusCode !== 200) {
        // 405: the upstream offers no standalone stream.
        res.resume();
        this.standalone = false;
        return;
      }
      this.readEvents(res, () => {
        this.standalone = false;
        if (!this.closed && this.sessionId) setTimeout(() => void this.openStandalone(), REOPEN_MS).unref();
      });
    } catch (e) {
      this.standalone = false;
      this.onerror?.(e as Error);
    }
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}
