/**
 * The one way the console talks to the hub: `api(path, options)` over fetch with the session cookie.
 * Errors are the hub's problem+json, thrown as `ApiError` with the same stable `code` the API documents
 * (`validation_failed`, `forbidden`, `not_found`, …) and the per-field `errors`.
 *
 * @example
 * const runs = await api<Page<Run>>('/v1/runs', { query: { status: 'failed', limit: 50 } });
 * await api('/v1/approvals/apr_1/approve', { method: 'POST', body: { comment: 'ok' } });
 */
import type { Page, Problem } from '@agentops-hub/contracts';

/** One field's problem in a problem+json answer. */
export type FieldError = NonNullable<Problem['errors']>[number];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** One page of a list: `{data, next_cursor}` (the contracts' `Page`). */
export type { Page };

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  /** Send the body as is (e.g. YAML text) instead of JSON. */
  rawBody?: string;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: ApiOptions['query']): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

export async function api<T = unknown>(path: string, opts: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.method && opts.method !== 'GET' && opts.method !== 'DELETE') {
    headers['content-type'] = 'application/json';
    body = '{}';
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The hub did not answer. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { detail: text };
  }
  if (!res.ok) {
    const p = (json ?? {}) as Record<string, unknown>;
    const message = String(p.detail ?? p.message ?? p.title ?? res.statusText ?? 'Request failed');
    throw new ApiError(
      res.status,
      String(p.code ?? (res.status === 404 ? 'not_found' : 'internal')),
      message,
      (p.errors as FieldError[]) ?? [],
      p,
    );
  }
  return json as T;
}

/**
 * The hub's sentence when `e` is a request for a feature outside the org's plan (402
 * `plan_feature_unavailable`: "Budgets is not included in your starter plan; it comes with the growth
 * plan. …"), else undefined. The one place the console recognises that answer: pages show it in a
 * `LockedFeature` panel, not as an error, and the feature stays visible.
 *
 * @example
 * const locked = planLockOf(budgets.error);
 * return locked ? <LockedFeature sentence={locked} /> : <QueryStatus query={budgets} />;
 */
export function planLockOf(e: unknown): string | undefined {
  return e instanceof ApiError && e.status === 402 && e.code === 'plan_feature_unavailable' ? e.message : undefined;
}

/** A readable message for any error a query or mutation throws. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    const fields = e.errors.map((f) => `${f.path}: ${f.message}`).join('; ');
    return fields ? `${e.message} (${fields})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
