/**
 * Per-key entries of the current fixed window, for rate-limit counts (rate-limit.ts in memory,
 * shared-window-counter.ts through Redis). A key's entry from a past window is retired and replaced by a fresh
 * one at its next hit; past `maxKeys` keys the table starts again, retiring every entry, so a flood of
 * distinct keys bounds the memory instead of growing it.
 */
export interface WindowTableOptions<E extends { window: number }> {
  windowMs: number;
  maxKeys: number;
  now?: () => number;
  fresh(window: number): E;
  /** Called for an entry leaving the table (its window ended, or the table starts again). */
  retire?(key: string, entry: E): void;
}

export function createWindowTable<E extends { window: number }>(opts: WindowTableOptions<E>) {
  const { windowMs, maxKeys, fresh, retire } = opts;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, E>();
  return {
    /** The key's entry for the window `now` falls in. */
    current(key: string): E {
      const window = Math.floor(now() / windowMs);
      let e = entries.get(key);
      if (e && e.window === window) return e;
      if (e) retire?.(key, e);
      if (entries.size >= maxKeys) {
        if (retire) for (const [k, old] of entries) retire(k, old);
        entries.clear();
      }
      e = fresh(window);
      entries.set(key, e);
      return e;
    },
  };
}
