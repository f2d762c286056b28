/**
 * Better Auth keeps the state of each of its calls in `AsyncLocalStorage`. On Node 20, while any
 * `AsyncLocalStorage` is enabled, async hooks run for every promise and tick of the whole process, so every
 * agent request (a policy decision, an ingest batch) paid for hooks that only Better Auth's own calls need.
 * Measured on the policy benchmark's load (one hub process, 50 connections, 12 s): 241,000–262,000 decisions
 * with the hooks on, 272,000–273,000 with them off.
 *
 * So each call into Better Auth (its HTTP `handler` and its `api` functions) is counted, and when none is
 * running, Better Auth's storages are disabled, which turns the hooks off. The next call turns them on again:
 * `AsyncLocalStorage.run` enables its storage itself. Better Auth does no work of a call after the call has
 * settled: without `advanced.backgroundTasks` (the hub sets none) it awaits its background tasks inside the call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Where Better Auth keeps its storages, one set per process (@better-auth/core's `context/global`). */
const BETTER_AUTH_GLOBAL = Symbol.for('better-auth:global');

let running = 0;

/** Disables Better Auth's storages (and with them the process's async hooks, when no other storage is on). */
export function quiesceAuthContext(): void {
  if (running > 0) return;
  const global = (globalThis as Record<symbol, { context?: Record<string, unknown> } | undefined>)[BETTER_AUTH_GLOBAL];
  for (const value of Object.values(global?.context ?? {})) if (value instanceof AsyncLocalStorage) value.disable();
}

function settled(): void {
  running--;
  quiesceAuthContext();
}

/** Runs one call into Better Auth, counted while it runs (a promise counts until it settles). */
export function countedAuthCall<T>(call: () => T): T {
  running++;
  let out: T;
  try {
    out = call();
  } catch (e) {
    settled();
    throw e;
  }
  if (out instanceof Promise) return out.finally(settled) as T;
  settled();
  return out;
}

/** Every function of Better Auth's `api`, counted; its other properties (an endpoint's `path`, …) as they are. */
function countedApi<Api extends object>(api: Api): Api {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(api, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(key);
      if (!fn) {
        fn = new Proxy(value, { apply: (f, self, args) => countedAuthCall(() => Reflect.apply(f, self, args)) });
        wrapped.set(key, fn);
      }
      return fn;
    },
  });
}

/** The Better Auth instance with its calls counted (see the module comment). */
export function withQuiescentContext<A extends { handler: (request: Request) => Promise<Response>; api: object }>(
  auth: A,
): A {
  const api = countedApi(auth.api);
  const handler = (request: Request) => countedAuthCall(() => auth.handler(request));
  return new Proxy(auth, {
    get(target, key, receiver) {
      if (key === 'api') return api;
      if (key === 'handler') return handler;
      return Reflect.get(target, key, receiver);
    },
  });
}
