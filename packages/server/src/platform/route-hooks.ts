/**
 * Hooks bound to one route when the route is declared (Fastify's `onRoute`), with the route's config
 * and URL in their closure.
 *
 * Why: `request.routeOptions` builds a fresh object on every read, and the auth check, the rate limit
 * and the metrics each read it, on every request. A route's config never changes after it is declared,
 * so the hot paths (ingest, evaluate) take it from the closure instead.
 *
 * @example
 * app.addHook('onRoute', (route) => {
 *   const bucket = route.config?.rateBucket;
 *   addRouteHook(route, 'preHandler', (req, reply, done) => limit(req, bucket, done));
 * });
 */
import type { RouteOptions } from 'fastify';

type LifecycleHook = 'onRequest' | 'preHandler' | 'onResponse';

/** Appends `hook` to the route's own hooks of that kind (they run after the app-wide ones). */
export function addRouteHook<K extends LifecycleHook>(
  route: RouteOptions,
  name: K,
  hook: NonNullable<RouteOptions[K]>,
) {
  const existing = route[name] as unknown;
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  (route as Record<LifecycleHook, unknown>)[name] = [...list, ...(Array.isArray(hook) ? hook : [hook])];
}
