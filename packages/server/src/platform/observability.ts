/**
 * /healthz (the process is up), /readyz (the database answers), /metrics (Prometheus). The registry is
 * per app, not prom-client's global one, so tests can build many apps in one process.
 *
 * Enrichment lag, per process (each process exposes its own /metrics; Prometheus adds `instance`):
 * `hub_enrichment_lag_seconds{stage}` is how long each row waited, from ingestion to priced (`priced`)
 * and to counted in the rollups (`rolled_up`); `hub_enrichment_backlog_seconds` is the age of the oldest
 * event this process still has to enrich; `hub_enrichment_partitions` how many org partitions it leases.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/database.ts';
import { addRouteHook } from './route-hooks.ts';
import { unhandledRejections } from './unhandled-rejections.ts';

/** What observability needs of enrichment (modules/ingestion/enrichment.ts). */
export interface EnrichmentProbe {
  onLag(listener: (stage: 'priced' | 'rolled_up', seconds: number[]) => void): void;
  backlogSeconds(): Promise<number>;
  partitions(): 'all' | readonly number[];
  busySeconds(): number;
}

function registerEnrichmentMetrics(registry: Registry, enrichment: EnrichmentProbe) {
  const lag = new Histogram({
    name: 'hub_enrichment_lag_seconds',
    help: 'Time from ingestion to each enrichment stage (priced; rolled_up), for the rows this process enriched',
    labelNames: ['stage'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [registry],
  });
  const rows = new Counter({
    name: 'hub_enrichment_rows_total',
    help: 'Rows this process enriched, by stage (priced: LLM calls; rolled_up: calls and runs)',
    labelNames: ['stage'],
    registers: [registry],
  });
  const children = { priced: lag.labels('priced'), rolled_up: lag.labels('rolled_up') };
  enrichment.onLag((stage, seconds) => {
    const h = children[stage];
    for (const s of seconds) h.observe(s);
    rows.inc({ stage }, seconds.length);
  });
  new Gauge({
    name: 'hub_enrichment_backlog_seconds',
    help: 'Age of the oldest event this process has to enrich and has not yet (0 when caught up)',
    registers: [registry],
    async collect() {
      this.set(await enrichment.backlogSeconds().catch(() => Number.NaN));
    },
  });
  new Counter({
    name: 'hub_enrichment_busy_seconds_total',
    help: 'Wall time this process spent in enrichment passes that handled rows',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(enrichment.busySeconds());
    },
  });
  new Gauge({
    name: 'hub_enrichment_partitions',
    help: 'Org partitions this process enriches (all 16 when it runs alone, 0 when it does not enrich)',
    registers: [registry],
    collect() {
      const p = enrichment.partitions();
      this.set(p === 'all' ? 16 : p.length);
    },
  });
}

export function registerObservability(app: FastifyInstance, db: Db, enrichment?: EnrichmentProbe) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hub_' });
  if (enrichment) registerEnrichmentMetrics(registry, enrichment);
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
  new Counter({
    name: 'hub_unhandled_rejections_total',
    help: 'Promise rejections nothing handled (each logged as an error; the process went on serving)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(unhandledRejections());
    },
  });

  // On every request: a synchronous hook bound to its route (route-hooks.ts), holding the route's
  // child histogram per status code, so recording costs an array read and an observe.
  function recorder(method: string, route: string) {
    const byStatus: ReturnType<typeof duration.labels>[] = [];
    return (status: number, ms: number) => {
      let child = byStatus[status];
      if (!child) {
        child = duration.labels(method, route, String(status));
        byStatus[status] = child;
      }
      child.observe(ms / 1000);
      if (status >= 500) errors.inc({ route });
    };
  }
  app.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      const record = recorder(method, route.url);
      addRouteHook(route, 'onResponse', (request, reply, done) => {
        if (request.method === method) record(reply.statusCode, reply.elapsedTime);
        done();
      });
    }
  });
  // Requests that match no route have no route hooks.
  const unmatched = new Map<string, ReturnType<typeof recorder>>();
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) {
      let record = unmatched.get(request.method);
      if (!record) {
        record = recorder(request.method, 'unmatched');
        unmatched.set(request.method, record);
      }
      record(reply.statusCode, reply.elapsedTime);
    }
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
