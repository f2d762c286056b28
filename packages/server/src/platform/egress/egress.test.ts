/**
 * The egress guard: range checks and the allowlist as plain functions, then real sockets — loopback
 * HTTP servers that count their connections, so "refused" means no connection was ever made.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllowlist } from './allowlist.ts';
import { createEgressGuard } from './egress.ts';
import { refusedRange } from './ip-ranges.ts';

describe('refused ranges', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['fd12:3456::1', 'a private address'],
    ['fc00::1', 'a private address'],
    ['169.254.1.1', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['100.127.255.254', 'a carrier-grade NAT address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'a reserved address'],
    ['240.0.0.1', 'a reserved address'],
    ['192.0.0.8', 'a reserved address'],
    ['198.18.0.1', 'a reserved address'],
    ['198.19.255.1', 'a reserved address'],
    // IPv6 forms that reach an IPv4 address are judged by that address.
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:10.0.0.1', 'a private address'],
    ['::ffff:169.254.169.254', 'a cloud metadata address'],
    ['64:ff9b::a9fe:a9fe', 'a cloud metadata address'],
    ['::127.0.0.1', 'a reserved address'],
  ])('%s is %s', (ip, label) => {
    expect(refusedRange(ip)).toBe(label);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
  ])('%s is public', (ip) => {
    expect(refusedRange(ip)).toBeNull();
  });
});

describe('allowlist', () => {
  const allow = parseAllowlist(['127.0.0.1', '10.0.0.0/8', 'Hooks.Internal', 'fd00::/8', '[::1]']);

  it('allows listed IPs, CIDR ranges (v4-mapped included) and exact host names', () => {
    expect(allow.address('127.0.0.1')).toBe(true);
    expect(allow.address('127.0.0.2')).toBe(false);
    expect(allow.address('10.200.3.4')).toBe(true);
    expect(allow.address('::ffff:10.200.3.4')).toBe(true);
    expect(allow.address('11.0.0.1')).toBe(false);
    expect(allow.address('fd12::1')).toBe(true);
    expect(allow.address('::1')).toBe(true);
    expect(allow.host('hooks.internal')).toBe(true);
    expect(allow.host('HOOKS.internal.')).toBe(true);
    expect(allow.host('evil.hooks.internal')).toBe(false);
  });

  it('refuses an entry it cannot read, so a typo does not pass silently', () => {
    expect(() => parseAllowlist(['10.0.0.0/33'])).toThrow(/not a host name/);
    expect(() => parseAllowlist(['http://x'])).toThrow(/not a host name/);
  });

  it('lets write-time checks through for allowlisted targets only', () => {
    const strict = createEgressGuard();
    expect(strict.checkUrl('http://127.0.0.1:8080/x')).toBe('refused: 127.0.0.1 is a loopback address');
    expect(strict.checkUrl('http://[::ffff:127.0.0.1]/x')).toMatch(/loopback/);
    expect(strict.checkUrl('http://2130706433/x')).toMatch(/127\.0\.0\.1 is a loopback/); // decimal form
    expect(strict.checkUrl('http://localhost:3000/x')).toMatch(/^refused: localhost .*loopback/);
    expect(strict.checkUrl('http://LOCALHOST.:3000/x')).toMatch(/loopback/);
    expect(strict.checkUrl('http://api.localhost/x')).toMatch(/loopback/);
    expect(strict.checkUrl('http://169.254.169.254/latest/meta-data')).toMatch(/metadata/);
    expect(strict.checkUrl('ftp://example.com/x')).toMatch(/only http: and https:/);
    expect(strict.checkUrl('https://user:pw@example.com/x')).toMatch(/credentials/);
    expect(strict.checkUrl('https://hooks.example.com/x')).toBeNull();
    const open = createEgressGuard({ allow: ['127.0.0.1', 'localhost'] });
    expect(open.checkUrl('http://127.0.0.1:8080/x')).toBeNull();
    expect(open.checkUrl('http://localhost:3000/x')).toBeNull();
  });
});

/** A loopback HTTP server that counts its TCP connections. */
async function listen(handler: RequestListener) {
  const server: Server = createServer(handler);
  let connections = 0;
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, connections: () => connections };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const post = (guard: ReturnType<typeof createEgressGuard>, url: string) =>
  guard.post(url, { headers: { 'content-type': 'application/json' }, body: '{"hello":1}' });

describe('guarded requests on real sockets', () => {
  it('refuses a loopback target without connecting, by IP and by a name that resolves to it', async () => {
    const target = await listen((_req, res) => res.end('secret'));
    const guard = createEgressGuard();
    const byIp = await post(guard, `${target.url}/hook`);
    expect(byIp).toMatchObject({ ok: false, status: null, error: 'refused: 127.0.0.1 is a loopback address' });
    const byName = await post(guard, `http://localhost:${target.port}/hook`);
    expect(byName.ok).toBe(false);
    expect(byName.error).toMatch(/^refused: localhost/);
    expect(target.connections()).toBe(0);
  });

  it('refuses a name when ANY of its addresses is internal (the resolver is a process edge)', async () => {
    const target = await listen((_req, res) => res.end('ok'));
    const guard = createEgressGuard({
      resolve: async () => [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    const r = await post(guard, `http://rebind.example:${target.port}/`);
    expect(r).toMatchObject({ ok: false, error: 'refused: rebind.example resolves to 127.0.0.1, a loopback address' });
    expect(target.connections()).toBe(0);
  });

  it('connects to the pinned address with the original Host header', async () => {
    let host = '';
    const target = await listen((req, res) => {
      host = req.headers.host ?? '';
      res.end('ok');
    });
    // hooks.internal does not exist in DNS: the connection can only go to the address resolved once.
    const guard = createEgressGuard({
      allow: ['hooks.internal'],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const r = await post(guard, `http://hooks.internal:${target.port}/x`);
    expect(r).toMatchObject({ ok: true, status: 200, error: null });
    expect(host).toBe(`hooks.internal:${target.port}`);
  });

  it('delivers to an allowlisted IP and reports a status without the body', async () => {
    const target = await listen((_req, res) => {
      res.statusCode = 500;
      res.end('internal secret: s3cr3t');
    });
    const guard = createEgressGuard({ allow: ['127.0.0.1'] });
    const r = await post(guard, `${target.url}/hook`);
    expect(r).toMatchObject({ ok: false, status: 500, error: 'HTTP 500' });
    expect(JSON.stringify(r)).not.toContain('s3cr3t');
    expect(target.connections()).toBe(1);
  });

  it('does not follow a redirect, so a refused address behind an allowed one is never reached', async () => {
    const inner = await listen((_req, res) => res.end('metadata secret'));
    const outer = await listen((_req, res) => {
      res.statusCode = 307;
      res.setHeader('location', `http://localhost:${inner.port}/latest/meta-data`);
      res.end();
    });
    const guard = createEgressGuard({ allow: [`127.0.0.1/32`] });
    const r = await post(guard, `${outer.url}/hook`);
    expect(r).toMatchObject({ ok: false, status: 307, error: 'HTTP 307 (redirects are not followed)' });
    expect(inner.connections()).toBe(0);
  });

  it('gives up on a slow receiver at the timeout', async () => {
    const target = await listen(() => {}); // never answers
    const guard = createEgressGuard({ allow: ['127.0.0.1'], timeoutMs: 300 });
    const started = Date.now();
    const r = await post(guard, target.url);
    expect(r).toMatchObject({ ok: false, status: null, error: 'timed out after 0.3 s' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cuts a huge response at the cap and destroys the socket', async () => {
    let closed = false;
    const target = await listen((_req, res) => {
      res.on('close', () => {
        closed = true;
      });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump(); // endless
    });
    const guard = createEgressGuard({ allow: ['127.0.0.1'], maxResponseBytes: 64 * 1024 });
    const r = await post(guard, target.url);
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.bytesRead).toBeGreaterThanOrEqual(64 * 1024);
    expect(r.bytesRead).toBeLessThan(64 * 1024 + 128 * 1024); // at most a few chunks past the cap
    await new Promise((res) => setTimeout(res, 100));
    expect(closed).toBe(true);
  });

  it('names an unreachable receiver by its error code only', async () => {
    const target = await listen((_req, res) => res.end('ok'));
    const port = target.port;
    for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
    const r = await post(createEgressGuard({ allow: ['127.0.0.1'] }), `http://127.0.0.1:${port}/`);
    expect(r).toMatchObject({ ok: false, status: null, error: 'connection failed: ECONNREFUSED' });
  });
});

describe('the guarded lookup (connections kept open for a user: a hosted MCP upstream)', () => {
  const connect = (guard: ReturnType<typeof createEgressGuard>, host: string, port: number) =>
    new Promise<string>((resolve) => {
      const socket = netConnect({ host, port, lookup: guard.lookup });
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (e) => resolve(e.message));
    });

  it('refuses a name with an internal address before any connection, and pins the checked one when allowed', async () => {
    const target = await listen((_req, res) => res.end('ok'));
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const refused = await connect(createEgressGuard({ resolve }), 'rebind.example', target.port);
    expect(refused).toBe('refused: rebind.example resolves to 127.0.0.1, a loopback address');
    expect(target.connections()).toBe(0);
    // An operator-allowed name connects, to the address resolved once (the name is not in any DNS).
    const allowed = createEgressGuard({
      allow: ['mcp.internal'],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect(await connect(allowed, 'mcp.internal', target.port)).toBe('connected');
    expect(target.connections()).toBe(1);
  });
});
