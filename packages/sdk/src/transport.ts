/**
 * @module transport
 * One HTTP call to the hub with a timeout, and retries with exponential backoff and full jitter for what
 * can succeed later (no answer, 408, 429 with its Retry-After, 5xx). Other answers are returned as they are.
 */
import type { Problem } from '@agentops-hub/contracts';
import { ApiError } from './errors.ts';

export interface TransportOptions {
  hubUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  fetch: typeof fetch;
  requestTimeoutMs: number;
  maxRetries: number;
  /** Base and cap of the backoff (ms). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface HubResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  body?: unknown;
  /** Attempts for this call (default: the transport's maxRetries). */
  attempts?: number;
  timeoutMs?: number;
  /** Ask the runtime to finish the request even while the page unloads (browsers). */
  keepalive?: boolean;
  /** Stop retrying after this time (epoch ms). */
  deadline?: number;
  signal?: AbortSignal;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Full jitter: a random wait between 0 and min(cap, base·2^attempt). */
export function backoff(attempt: number, baseMs: number, capMs: number): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export function createTransport(o: TransportOptions) {
  const base = o.hubUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
  const backoffMs = o.backoffMs ?? 250;
  const maxBackoffMs = o.maxBackoffMs ?? 10_000;

  async function once(method: string, path: string, c: CallOptions): Promise<HubResponse> {
    const ctrl = new AbortController();
    // One attempt never outlives the call's deadline.
    let ms = c.timeoutMs ?? o.requestTimeoutMs;
    if (c.deadline !== undefined) ms = Math.max(50, Math.min(ms, c.deadline - Date.now()));
    const timeout = setTimeout(() => ctrl.abort(), ms);
    const onAbort = () => ctrl.abort();
    c.signal?.addEventListener('abort', onAbort);
    try {
      const res = await o.fetch(base + path, {
        method,
        headers: c.body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body),
        signal: ctrl.signal,
        keepalive: c.keepalive,
      });
      const text = await res.text();
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return { status: res.status, body, headers: res.headers };
    } finally {
      clearTimeout(timeout);
      c.signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    /**
     * Sends one request, retrying what may succeed later. Resolves with the last answer (any status);
     * rejects with `ApiError('unreachable')` when no answer ever came back.
     */
    async call(method: string, path: string, c: CallOptions = {}): Promise<HubResponse> {
      const attempts = Math.max(1, c.attempts ?? o.maxRetries);
      let lastError: unknown;
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (c.signal?.aborted) break;
        let wait = -1;
        try {
          const res = await once(method, path, c);
          if (!RETRYABLE.has(res.status) || attempt === attempts - 1) return res;
          const retryAfter = Number(res.headers.get('retry-after'));
          wait = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, maxBackoffMs) : -1;
          lastError = new ApiError(res.body?.code ?? 'internal', res.status, problemMessage(res));
        } catch (e) {
          lastError = e;
        }
        if (attempt === attempts - 1) break;
        if (wait < 0) wait = backoff(attempt, backoffMs, maxBackoffMs);
        if (c.deadline !== undefined && Date.now() + wait > c.deadline) break;
        await sleep(wait);
      }
      if (lastError instanceof ApiError) throw lastError;
      throw new ApiError('unreachable', 0, `AgentOps hub at ${base} unreachable: ${describe(lastError)}`);
    },
    /** `call`, then a problem answer becomes an `ApiError`. */
    async json<T>(method: string, path: string, c: CallOptions = {}): Promise<T> {
      const res = await this.call(method, path, c);
      if (res.status >= 400) throw toApiError(res);
      return res.body as T;
    },
  };
}
export type Transport = ReturnType<typeof createTransport>;

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (e.name === 'AbortError' ? 'timed out' : e.message);
  }
  return String(e);
}

function problemMessage(res: HubResponse): string {
  const p = res.body as Partial<Problem> | undefined;
  return p && typeof p === 'object' ? (p.detail ?? p.title ?? `HTTP ${res.status}`) : `HTTP ${res.status}`;
}

export function toApiError(res: HubResponse): ApiError {
  const p = res.body && typeof res.body === 'object' ? (res.body as Problem) : undefined;
  return new ApiError(p?.code ?? 'internal', res.status, problemMessage(res), p);
}
