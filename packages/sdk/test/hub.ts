/**
 * A real hub for the SDK's tests: the server app on a real database, listening on 127.0.0.1 port 0, with an
 * org, an owner key (`full`) for the test's own calls and an `ingest` key for the SDK (what agents get).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createTestHub, type SeededOrg, type TestHub } from '../../server/src/testing/test-hub.ts';

export interface RunningHub {
  t: TestHub;
  url: string;
  port: number;
  org: SeededOrg;
  /** Scope `ingest`: what the SDK is given. */
  ingestKey: string;
  /** Scope `full`: for the test's own setup and reads. */
  adminKey: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** `overrides`: more hub settings (e.g. HUB_EGRESS_ALLOW for an upstream on loopback). */
export async function startHub(overrides: Record<string, string> = {}): Promise<RunningHub> {
  const t = await createTestHub(overrides);
  const address = await t.hub.app.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(address).port);
  const org = await t.seedOrg();
  const k = await t.request('POST', '/v1/api-keys', { auth: org.apiKey, body: { name: 'agent', scopes: ['ingest'] } });
  if (k.status !== 201) throw new Error(`ingest key: ${k.status} ${k.text}`);
  const url = `http://127.0.0.1:${port}`;
  return {
    t,
    url,
    port,
    org,
    ingestKey: k.body.key,
    adminKey: org.apiKey,
    async api(method, path, body) {
      const r = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${org.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    },
    close: () => t.close(),
  };
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A TCP proxy in front of the hub that can fail: `down` resets every connection, `failNext(n)` resets the next
 * n. Real sockets, so the SDK sees the same errors as with a flaky network.
 */
export async function startFlakyProxy(targetPort: number) {
  let down = false;
  let failures = 0;
  let resets = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (down || failures > 0) {
      if (failures > 0) failures--;
      resets++;
      client.resetAndDestroy();
      return;
    }
    const u = connect(targetPort, '127.0.0.1');
    client.pipe(u).pipe(client);
    u.on('error', () => client.destroy());
    client.on('error', () => u.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setDown(v: boolean) {
      down = v;
      if (v) for (const s of sockets) s.destroy();
    },
    failNext(n: number) {
      failures = n;
    },
    get resets() {
      return resets;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
