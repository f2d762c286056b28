/**
 * Rate-limit counts shared by every hub process through Redis (fixed windows), with a local allowance.
 *
 * Asking Redis on every request put a Redis round trip in front of every ingest and every policy decision:
 * a socket write and a wake-up on both sides on loopback (on the scale-out bench, the largest item of a hub's
 * CPU after PostgreSQL's), a network round trip with a managed Redis. Most callers are far below their limit,
 * so far below it a hit is counted in memory and sent with the next sync (every `syncMs`, one INCRBY per key),
 * and only near the limit does each hit go to Redis and wait for the cluster's exact total.
 *
 * A hit is counted locally when (1) the process's view of the window (the cluster total it last heard plus its
 * own unsent hits) stays at or under half the limit, and (2) it has fewer than 1% of the limit unsent. Each
 * process's unsent hits are then at most 1% of the limit, so a cluster of fewer than 50 processes cannot pass
 * the limit on local counts alone: before it could, every process's view is past half and it asks Redis. The
 * limit can be passed only by a burst that goes from half the limit to all of it within one sync interval,
 * and then by at most 1% of it per process. Limits under 100 are always exact (the allowance rounds to 0).
 */
import type { Redis } from 'ioredis';
import { createWindowTable } from './window-table.ts';

/** INCRBY, and the window's expiry when this increment made the key. */
const ADD = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`;

type AddingRedis = Redis & { addToWindow(key: string, by: number, ttlMs: number): Promise<number> };

interface Entry {
  window: number;
  /** The cluster's total for the window, as last heard from Redis. */
  shared: number;
  /** This process's hits not sent yet. */
  pending: number;
}

/** Keys tracked at most; past it the table starts again (their unsent hits are sent first). */
const MAX_KEYS = 200_000;

export interface SharedWindowCounter {
  /** This hit's count in the current window across the cluster: a number when counted locally, else from Redis. */
  count(key: string, limit: number): number | Promise<number>;
  /** Sends the unsent hits; settles when Redis has answered them (at close, before disconnecting). */
  flush(): Promise<void>;
}

export function createSharedWindowCounter(
  redis: Redis,
  opts: { windowMs: number; syncMs?: number; now?: () => number },
): SharedWindowCounter {
  const r = redis as AddingRedis;
  r.defineCommand('addToWindow', { numberOfKeys: 1, lua: ADD });
  const syncMs = opts.syncMs ?? 50;
  const ttl = opts.windowMs + 1000;
  /** The entries with unsent hits: a sync visits only these, however many keys are tracked. */
  const unsent = new Map<string, Entry>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  /** Sends `by` hits of `e`'s window; `e` learns the cluster's total. */
  const send = (key: string, e: Entry, by: number): Promise<number> =>
    r.addToWindow(`hub-rl:${key}:${e.window}`, by, ttl).then((total) => {
      if (total > e.shared) e.shared = total;
      return total;
    });
  /** Sends the entry's unsent hits, if any. Rate limiting fails open: hits that could not be sent are not counted. */
  const sendUnsent = (key: string, e: Entry): Promise<unknown> | undefined => {
    unsent.delete(key);
    if (e.pending === 0) return undefined;
    const by = e.pending;
    e.pending = 0;
    return send(key, e, by).catch(() => {});
  };
  // A window's unsent hits go under that window's key when the key's next hit starts a new window.
  const table = createWindowTable<Entry>({
    windowMs: opts.windowMs,
    maxKeys: MAX_KEYS,
    now: opts.now,
    fresh: (window) => ({ window, shared: 0, pending: 0 }),
    retire: (key, e) => void sendUnsent(key, e),
  });

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const sends = [...unsent].map(([key, e]) => sendUnsent(key, e));
    await Promise.all(sends);
  }

  return {
    count(key, limit) {
      const e = table.current(key);
      const view = e.shared + e.pending + 1;
      if (view * 2 <= limit && (e.pending + 1) * 100 <= limit) {
        e.pending++;
        unsent.set(key, e);
        if (!timer) {
          timer = setTimeout(flush, syncMs);
          timer.unref();
        }
        return view;
      }
      // Near the limit: this hit and the unsent ones go now, and the answer is the cluster's exact total.
      const by = e.pending + 1;
      e.pending = 0;
      unsent.delete(key);
      return send(key, e, by);
    },
    flush,
  };
}
