/**
 * Caps on connections a caller holds open: SSE streams and long-polls. Each costs a socket, a timer
 * and listeners for as long as it lasts, so one key could otherwise hold thousands (a finding: 4,000
 * approval streams from one ingest key). Counted per caller (API key, or person) and per org, in this
 * process; over either cap `acquire` throws 429 `rate_limited` with Retry-After, before anything is
 * held. The slot is given back by the function `acquire` returns, which is safe to call twice.
 *
 * @example
 * const limits = createStreamLimits(); // 20 per key or person, 200 per org
 * const release = limits.acquire(caller);
 * reply.raw.once('close', release);
 */
import type { Caller } from './caller.ts';
import { AppError } from './errors.ts';

export interface StreamLimitOptions {
  /** Open streams per API key or per person. Default 20. */
  perCaller?: number;
  /** Open streams per org, all callers together. Default 200. */
  perOrg?: number;
  /** Seconds a refused client is told to wait. Default 5. */
  retryAfterS?: number;
}

export function createStreamLimits(opts: StreamLimitOptions = {}) {
  const perCaller = opts.perCaller ?? 20;
  const perOrg = opts.perOrg ?? 200;
  const retryAfterS = opts.retryAfterS ?? 5;
  const open = new Map<string, number>();

  const count = (k: string) => open.get(k) ?? 0;
  const add = (k: string, d: number) => {
    const n = count(k) + d;
    if (n > 0) open.set(k, n);
    else open.delete(k); // no entry per caller that once streamed
  };

  return {
    /** Takes a slot for `caller` or throws 429; returns the (idempotent) release. */
    acquire(caller: Pick<Caller, 'orgId' | 'actor' | 'keyId' | 'userId'>): () => void {
      const who = `c:${caller.keyId ?? caller.userId ?? caller.actor.id ?? 'anonymous'}`;
      const org = `o:${caller.orgId}`;
      if (count(who) >= perCaller)
        throw new AppError('rate_limited', `Too many open streams for this caller (at most ${perCaller}).`, {
          retryAfterS,
        });
      if (count(org) >= perOrg)
        throw new AppError('rate_limited', `Too many open streams for this organization (at most ${perOrg}).`, {
          retryAfterS,
        });
      add(who, 1);
      add(org, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        add(who, -1);
        add(org, -1);
      };
    },
    /** Open streams of a caller or org key (`c:<id>`, `o:<org id>`): for tests and metrics. */
    openCount: (key: string) => count(key),
  };
}
export type StreamLimits = ReturnType<typeof createStreamLimits>;
