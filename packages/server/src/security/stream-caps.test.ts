/**
 * Finding 6: no cap on SSE streams and long-polls (one ingest key held 4,000 approval streams open).
 * On a real listening port with real sockets (inject holds no connection): one key's long-polls and
 * event streams share a cap of 20; the next is 429 problem+json `rate_limited` with Retry-After; a
 * client that hangs up gives its slot back at once, not when its wait would have ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedOrgId } from '../platform/caller.ts';
import { createStreamLimits } from '../platform/stream-limits.ts';
import { createTestHub, type TestHub } from '../testing/test-hub.ts';

const PER_KEY = 20;
let t: TestHub;
let base: string;

beforeAll(async () => {
  t = await createTestHub();
  base = await t.hub.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
});

/** An org whose ingest key has one pending approval to wait on. */
async function pendingApproval() {
  const a = await t.seedOrg();
  await t.requireApprovalFor(a);
  const key = (await t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: 'agent', scopes: ['ingest'] } }))
    .body.key as string;
  const d = await t.request('POST', '/v1/policy/evaluate', {
    auth: key,
    body: { agent: 'RefundBot', action: { type: 'refund', amount: 10 } },
  });
  expect(d.body.decision).toBe('REQUIRE_APPROVAL');
  return { a, key, id: d.body.approval_id as string };
}

/** Opens a long-poll that stays open until `signal` aborts it (the approval stays pending). */
function holdOpen(key: string, id: string, signal: AbortSignal) {
  return fetch(`${base}/v1/approvals/${id}?wait=60`, { headers: { authorization: `Bearer ${key}` }, signal }).catch(
    (e: unknown) => e,
  );
}

/**
 * Opens one more long-poll than the cap allows and returns the first to answer: the refused one, since
 * the others hold. Probing with a separate request instead raced the held ones: a probe that arrived
 * before them took a slot, pushed the last held poll out with a 429, and every later probe was the 20th.
 */
async function overTheCap(key: string, id: string, signal: AbortSignal) {
  const polls = Array.from({ length: PER_KEY + 1 }, () => holdOpen(key, id, signal));
  const first = await Promise.race(polls);
  if (!(first instanceof Response)) throw first;
  return { polls, refused: first };
}

/** Asks with a 1 s long-poll until the answer is `status` (the held ones register asynchronously). */
async function until(key: string, id: string, status: number, path = `/v1/approvals/${id}?wait=1`) {
  const end = Date.now() + 10_000;
  for (;;) {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    if (r.status === status) return r;
    await r.body?.cancel();
    if (Date.now() > end) throw new Error(`never ${status}, last ${r.status}`);
  }
}

describe('stream caps', () => {
  it('the long-poll after the 20th is 429 with Retry-After; hanging up frees the slots at once', async () => {
    const { key, id } = await pendingApproval();
    const held = new AbortController();
    const { polls, refused } = await overTheCap(key, id, held.signal);

    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { code: string }).code).toBe('rate_limited');
    // The event stream counts against the same cap.
    const sse = await fetch(`${base}/v1/approvals/events`, { headers: { authorization: `Bearer ${key}` } });
    expect(sse.status).toBe(429);
    await sse.body?.cancel();

    const hungUp = Date.now();
    held.abort();
    await Promise.all(polls);
    const accepted = await until(key, id, 200);
    expect(((await accepted.json()) as { status: string }).status).toBe('pending');
    // Well before the 60 s the held waits asked for: the slots came back when the sockets closed.
    expect(Date.now() - hungUp).toBeLessThan(10_000);
  });

  it('event streams: 20 open, the 21st refused; closing one lets a new one in', async () => {
    const { key, id } = await pendingApproval();
    const streams = Array.from({ length: PER_KEY }, () => new AbortController());
    const opened = await Promise.all(
      streams.map((c) =>
        fetch(`${base}/v1/approvals/events`, { headers: { authorization: `Bearer ${key}` }, signal: c.signal }),
      ),
    );
    expect(opened.map((r) => r.status)).toEqual(Array(PER_KEY).fill(200));
    expect(opened[0]!.headers.get('content-type')).toContain('text/event-stream');

    const over = await fetch(`${base}/v1/approvals/${id}?wait=1`, { headers: { authorization: `Bearer ${key}` } });
    expect(over.status).toBe(429);
    await over.body?.cancel();

    streams[0]!.abort();
    await until(key, id, 200, '/v1/approvals/events').then((r) => r.body?.cancel());
    for (const c of streams) c.abort();
  });

  it('another key of the same org is not held back by the first key’s cap', async () => {
    const { a, key, id } = await pendingApproval();
    const held = new AbortController();
    const { polls, refused } = await overTheCap(key, id, held.signal);
    try {
      expect(refused.status).toBe(429);
      await refused.body?.cancel();
      const other = await fetch(`${base}/v1/approvals/${id}?wait=1`, {
        headers: { authorization: `Bearer ${a.apiKey}` },
      });
      expect(other.status).toBe(200);
    } finally {
      // Held polls would otherwise keep the hub from closing for their whole 60 s.
      held.abort();
      await Promise.all(polls);
    }
  });
});

describe('createStreamLimits', () => {
  it('caps an org across its callers, and a release given twice frees one slot', () => {
    const limits = createStreamLimits({ perCaller: 2, perOrg: 3 });
    const orgId = trustedOrgId('org_caps');
    const as = (keyId: string) => ({ orgId, keyId, actor: { type: 'api_key' as const, id: keyId, name: keyId } });
    const r1 = limits.acquire(as('k1'));
    limits.acquire(as('k1'));
    expect(() => limits.acquire(as('k1'))).toThrow(/this caller/);
    limits.acquire(as('k2'));
    expect(() => limits.acquire(as('k3'))).toThrow(/this organization/);
    r1();
    r1();
    expect(limits.openCount(`o:${orgId}`)).toBe(2);
    limits.acquire(as('k3'));
    expect(() => limits.acquire(as('k4'))).toThrow(/this organization/);
  });
});
