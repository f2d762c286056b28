/**
 * A `HUB_ROLE=worker` process's only HTTP: the probes and /metrics, answered by the hub's own routes
 * (`app.inject`, so the answers are the API server's), and 404 for everything else, so a misrouted
 * client cannot use a worker as an API. It serves TLS exactly when the API server would (`TLS_CERT` and
 * `TLS_KEY`, read the same way as app.ts does), so a probe or a scraper configured for https works
 * against every role, and /metrics never crosses the network in clear where the operator asked for TLS.
 *
 * @example
 * const probes = await listenProbesOnly(hub.app, config); // on config.port and config.host
 * probes.close();
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

export async function listenProbesOnly(
  app: Pick<FastifyInstance, 'inject'>,
  config: Pick<Config, 'port' | 'host' | 'tls'>,
): Promise<Server> {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' || !PROBES.has(path)) {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ status: 404, title: 'not found: this process is a HUB_ROLE=worker' }));
      return;
    }
    app.inject({ method: 'GET', url: path }).then(
      (r) => {
        res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'text/plain') });
        res.end(r.body);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  };
  const server: Server = config.tls.cert
    ? createHttpsServer({ key: readFileSync(config.tls.key!), cert: readFileSync(config.tls.cert) }, handle)
    : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  return server;
}
