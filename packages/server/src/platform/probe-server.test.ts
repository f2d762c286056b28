/** A worker's probe server: the probes and /metrics only, over TLS whenever the API server would use it. */
import { request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../testing/self-signed.ts';
import { createTestHub, type TestHub } from '../testing/test-hub.ts';
import { listenProbesOnly } from './probe-server.ts';

type Answer = { status: number; body: string; type: unknown };
function get(tls: boolean, port: number, path: string) {
  return new Promise<Answer>((resolve, reject) => {
    const request = tls ? httpsRequest : httpRequest;
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (r) => {
      let body = '';
      r.on('data', (d) => {
        body += d;
      });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body, type: r.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const portOf = (s: Server) => (s.address() as { port: number }).port;

describe('a worker probe server with TLS_CERT and TLS_KEY', () => {
  let t: TestHub;
  let probes: Server;
  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate();
    t = await createTestHub({ TLS_CERT: cert, TLS_KEY: key, HUB_PUBLIC_URL: 'https://localhost' });
    probes = await listenProbesOnly(t.hub.app, { ...t.config, port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    probes?.close();
    await t?.close();
  });

  it('answers the probes and /metrics over TLS, as the API server does', async () => {
    const health = await get(true, portOf(probes), '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toContain('ok');
    expect((await get(true, portOf(probes), '/readyz')).status).toBe(200);
    const metrics = await get(true, portOf(probes), '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('hub_enrichment_lag_seconds');
  });

  it('serves nothing else, and nothing in clear', async () => {
    const api = await get(true, portOf(probes), '/v1/agents');
    expect(api.status).toBe(404);
    expect(api.type).toBe('application/problem+json');
    // Plain HTTP to a TLS port: the server answers with a TLS alert or closes, never with a probe.
    const plain = await get(false, portOf(probes), '/healthz').catch((e: Error) => e);
    expect(plain instanceof Error || plain.status === 400).toBe(true);
  });
});

describe('a worker probe server without TLS settings', () => {
  it('answers over plain HTTP', async () => {
    const t = await createTestHub();
    const probes = await listenProbesOnly(t.hub.app, { ...t.config, port: 0, host: '127.0.0.1' });
    try {
      expect((await get(false, portOf(probes), '/healthz')).status).toBe(200);
      expect((await get(false, portOf(probes), '/v1/agents')).status).toBe(404);
    } finally {
      probes.close();
      await t.close();
    }
  });
});
