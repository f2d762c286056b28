/**
 * /healthz (the process is up), /readyz (the database answers), /metrics (Prometheus). The registry is
 * per app, not prom-client's global one, so tests can build many apps in one process.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/database.ts';

export function registerObservability(app: FastifyInstance, db: Db) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hub_' });
  const duration = new Histogram({
    name: 'hub_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'hub_http_errors_total',
    help: 'HTTP responses with status >= 500',
    labelNames: ['route'],
    registers: [registry],
  });

  // On every request: a synchronous hook, and one cached child histogram per (method, route, status),
  // so recording costs a Map lookup and an observe, not label hashing.
  const children = new Map<string, ReturnType<typeof duration.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const key = `${request.method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      child = duration.labels(request.method, route, String(status));
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    if (status >= 500) errors.inc({ route });
    done();
  });

  const pub = { config: { auth: 'public' as const }, schema: { hide: true } };
  app.get('/healthz', pub, async () => ({ status: 'ok' }));
  app.get('/readyz', pub, async (_req, reply) => {
    try {
      await sql`select 1`.execute(db.db);
      return { status: 'ready', database: db.dialect };
    } catch (e) {
      return reply.status(503).send({ status: 'not ready', database: db.dialect, error: (e as Error).message });
    }
  });
  app.get('/metrics', pub, async (_req, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return registry;
}
