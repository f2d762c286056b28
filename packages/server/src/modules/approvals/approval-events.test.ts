// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
/**
 * The live inbox stream over real HTTP: an approval created or decided in an org reaches that org's open
 * streams at once, never another org's, and a hub shutdown ends open streams instead of waiting on them.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
let base: string;
beforeAll(async () => {
  t = await createTestHub();
  base = await t.hub.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => t?.close());

/** Reads an SSE stream in the background, collecting `event: approval` payloads. */
async function openStream(a: SeededOrg) {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/approvals/events`, {
    headers: { authorization: `Bearer ${a.apiKey}` },
    signal: ac.signal,
  });
  const events: { type: string; id: string }[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end = buf.indexOf('\n\n');
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (block.startsWith('event: approval')) events.push(JSON.parse(block.split('data: ')[1]));
          end = buf.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return { res, events, reading, close: () => ac.abort() };
}

async function until(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for an event');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function orgWithApprovalPolicy() {
  const a = await t.seedOrg();
  await t.requireApprovalFor(a);
  return a;
}

describe('GET /v1/approvals/events', () => {
  it("streams the org's approvals as they are created and decided, and nothing of other orgs", async () => {
    const a = await orgWithApprovalPolicy();
    const b = await orgWithApprovalPolicy();
    const streamA = await openStream(a);
    const streamB = await openStream(b);
    expect(streamA.res.status).toBe(200);
    expect(streamA.res.headers.get('content-type')).toContain('text/event-stream');

    const asked = await t.request('POST', '/v1/policy/evaluate', {
      auth: a.apiKey,
      body: { agent: 'RefundBot', action: { type: 'refund', amount: 40 } },
    });
    expect(asked.body.decision).toBe('REQUIRE_APPROVAL');
    const id = asked.body.approval_id as string;
    await until(() => streamA.events.length >= 1);
    expect(streamA.events[0]).toEqual({ type: 'created', id });

    const decided = await t.request('POST', `/v1/approvals/${id}/approve`, { auth: a.owner, body: {} });
    expect(decided.status, decided.text).toBe(200);
    await until(() => streamA.events.length >= 2);
    expect(streamA.events[1]).toEqual({ type: 'decided', id });

    expect(streamB.events).toEqual([]);
    streamA.close();
    streamB.close();
  });

  it('needs approvals:read, like the inbox', async () => {
    const res = await fetch(`${base}/v1/approvals/events`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('a hub shutdown ends open streams', async () => {
    const other = await createTestHub();
    const url = await other.hub.app.listen({ port: 0, host: '127.0.0.1' });
    const a = await other.seedOrg();
    const res = await fetch(`${url}/v1/approvals/events`, { headers: { authorization: `Bearer ${a.apiKey}` } });
    expect(res.status).toBe(200);
    const drained = (async () => {
      for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>) {
        // read until the hub ends the stream
      }
      return 'ended';
    })();
    const closed = other.close().then(() => 'closed');
    expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r('hung'), 8000))])).toBe('closed');
    expect(await drained).toBe('ended');
  });

  it('a client that stops reading is cut off once the unsent events pass MAX_UNSENT_BYTES', async () => {
    const a = await t.seedOrg();
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`GET /v1/approvals/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${a.apiKey}\r\n\r\n`);
    const first = await new Promise<Buffer>((r) => socket.once('data', r));
    expect(first.toString()).toContain('200');
    socket.pause(); // the attack: never read again, while events keep coming
    const id = `apr_${'x'.repeat(4000)}`;
    const sent = 4000; // about 16 MB of events, far past any socket buffers and the cap
    for (let i = 0; i < sent; i++) await t.hub.ctx.bus.publish('approval.created', { org_id: a.org.id, id });
    // Reading again, the client gets what was already on its way, then the end of the stream.
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    const ended = new Promise((r) => socket.once('close', () => r('closed')));
    socket.resume();
    expect(await Promise.race([ended, new Promise((r) => setTimeout(() => r('still open'), 10_000))])).toBe('closed');
    expect(received).toBeLessThan(sent * id.length);
  });
});
