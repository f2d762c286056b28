/**
 * @module passthrough
 * A `tools/call` relayed as bytes, when both ends are Streamable HTTP (http-session.ts towards the client,
 * http-client.ts towards the upstream). Through the SDK, a relayed call is parsed into the `Protocol` of the
 * client's side, handed to the upstream `Client`'s `Protocol`, serialised, and its answer parsed and serialised
 * again on the way back; each layer adds its promises, maps and timers. Here, once the hub has allowed the call
 * (the upstream is never reached before: see policy.ts), the client's params are sent upstream under an id of
 * the gateway's, and the upstream's response goes back to the client as the upstream wrote it, its id swapped
 * for the client's. The progress and logging notifications of the call go back as they came (the client's own
 * progress token travels up unchanged); the upstream's requests on the call's stream (sampling, elicitation,
 * roots) still go through the `Client`, which relays them on the call's stream. The call is recorded on the
 * run from the parsed response, as on the SDK path; a client's `notifications/cancelled` cancels it upstream.
 */
import { type JSONRPCMessage, type JSONRPCRequest, McpError, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { HttpClientTransport, RawRequest } from './http-client.ts';

export interface RawToolCall {
  upstream: HttpClientTransport;
  /** The client's `tools/call`, as it came. */
  request: JSONRPCRequest;
  /** Aborted when the client cancels the call (or its session ends). */
  signal: AbortSignal;
  /** How long the upstream may take; each progress notification starts it again. */
  timeoutMs: number;
  /** A notification related to the call, as the upstream wrote it. */
  onNotification(json: string): void;
  /** The call's response, the client's id in it: sent to the client before the promise resolves. */
  onAnswer(json: string): void;
}

/**
 * Sends the call upstream and relays its answer; resolves with the parsed result once the client has been sent
 * it. An error response, a timeout, a cancellation or a broken upstream rejects (nothing is sent then: the
 * caller answers, as the SDK path does, with a tool error).
 */
export function relayToolCall(o: RawToolCall): Promise<Record<string, unknown>> {
  const { upstream, request, signal } = o;
  const id = upstream.rawId();
  const json = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: request.params });
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const cancelUpstream = (reason: string) =>
      void upstream
        .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })
        .catch(() => {});
    const onAbort = () => {
      if (done) return;
      finish();
      cancelUpstream(String(signal.reason ?? 'cancelled by the client'));
      reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'cancelled')));
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      cancelUpstream('timed out');
      reject(new McpError(-32001, 'Request timed out', { timeout: o.timeoutMs }));
    }, o.timeoutMs);
    const call: RawRequest = {
      id,
      tries: 0,
      sink: {
        answer(text, message) {
          if (done) return;
          finish();
          const m = message as {
            result?: Record<string, unknown>;
            error?: { code: number; message: string; data?: unknown };
          };
          if (m.error)
            return reject(Object.assign(new Error(m.error.message), { code: m.error.code, data: m.error.data }));
          o.onAnswer(withId(text, id, request.id));
          resolve(m.result ?? {});
        },
        notify(text, message) {
          if (done) return;
          if ((message as { method: string }).method === 'notifications/progress') timer.refresh();
          o.onNotification(text);
        },
        fail(message) {
          if (done) return;
          finish();
          reject(new Error(message));
        },
      },
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    upstream.sendRaw(json, call).catch((e: Error) => call.sink.fail(e.message));
  });
}

/**
 * The response's JSON text with `to` as its id instead of `from`. The id is found as text (no parse and
 * serialise of what may be a large result): the one place `"<from>"` stands after an `"id":` key. Should it
 * stand elsewhere too (a result that quotes it), the message is parsed and serialised instead.
 */
export function withId(json: string, from: string, to: RequestId): string {
  const quoted = JSON.stringify(from);
  const at = json.indexOf(quoted);
  if (at >= 0 && json.indexOf(quoted, at + quoted.length) < 0 && afterIdKey(json, at))
    return json.slice(0, at) + JSON.stringify(to) + json.slice(at + quoted.length);
  const m = JSON.parse(json) as JSONRPCMessage & { id: RequestId };
  m.id = to;
  return JSON.stringify(m);
}

/** Whether the text before `at` ends with `"id":` (whitespace allowed around the colon). */
function afterIdKey(json: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && /\s/.test(json[i]!)) i--;
  if (json[i] !== ':') return false;
  i--;
  while (i >= 0 && /\s/.test(json[i]!)) i--;
  return json.slice(i - 3, i + 1) === '"id"';
}
