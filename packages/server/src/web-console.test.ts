import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandler } from './platform/error-handler.ts';
import { createTestHub, type TestHub } from './testing/test-hub.ts';
import { registerConsole } from './web-console.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

describe('GET /v1/setup/status', () => {
  it('asks for the owner account until a first user exists, then never again', async () => {
    const before = await t.request('GET', '/v1/setup/status');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ needs_owner: true, signup: 'open' });
    await t.signUp();
    const after = await t.request('GET', '/v1/setup/status');
    expect(after.body).toEqual({ needs_owner: false, signup: 'open' });
  });

  it('leaves unknown API paths a 404 problem, never the console page', async () => {
    const res = await t.request('GET', '/v1/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('not_found');
  });
});

describe('serving a console build', () => {
  const dist = mkdtempSync(join(tmpdir(), 'console-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'index-abc123.js.br'), brotliCompressSync('console.log(1)'));
  writeFileSync(join(dist, 'assets', 'index-abc123.js.gz'), gzipSync('console.log(1)'));
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  const app = Fastify({ logger: false });

  beforeAll(async () => {
    registerErrorHandler(app);
    await registerConsole(app, t.hub.ctx, { distDir: dist });
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers index.html, uncached, for the root and any browser path (SPA fallback)', async () => {
    for (const url of ['/', '/runs/run_123', '/policies/new?x=1']) {
      const res = await app.inject({ url, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="root">');
    }
  });

  it('serves hashed assets for a year, immutable, and 404s a missing one', async () => {
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // The build's precompressed copies go to browsers that accept them, the plain file to the rest.
    const br = await app.inject({
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe('console.log(1)');
    const gz = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe('console.log(1)');
    expect(js.headers['content-encoding']).toBeUndefined();
    expect(js.body).toBe('console.log(1)');
    const missing = await app.inject({ url: '/assets/gone-000.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).not.toContain('id="root"');
  });

  it('serves the other root files; API paths and non-browser requests never fall back', async () => {
    const icon = await app.inject({ url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toContain('image/svg+xml');
    const probe = await app.inject({ url: '/nothing-here', headers: { accept: 'application/json' } });
    expect(probe.statusCode).toBe(404);
    for (const url of ['/v1/whatever', '/api/auth/nope', '/healthz', '/metrics']) {
      const res = await app.inject({ url, headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('id="root"');
    }
  });
});
