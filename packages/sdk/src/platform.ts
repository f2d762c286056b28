/**
 * @module platform
 * What differs between Node and browsers, set by the entry point: where the current run lives (Node:
 * AsyncLocalStorage, so decisions made anywhere inside `run()` carry its run id; browsers: the run whose
 * callback is executing), how to read the environment, and how to flush before the process or page goes.
 */

/** Holds the run the code is executing in. */
export interface ContextStore<T> {
  get(): T | undefined;
  run<R>(value: T, fn: () => R): R;
}

export interface Platform {
  env(name: string): string | undefined;
  /**
   * Calls `flush` when the process is about to exit (Node) or the page is hidden (browsers). Returns the
   * function that unregisters it.
   */
  onExit(flush: (final: boolean) => Promise<void> | void): () => void;
  createContext<T>(): ContextStore<T>;
}

/**
 * The browser default: a variable set while a run's callback executes. It is exact for one run at a time;
 * with concurrent runs, use the run handle's methods (`run.guard`, `run.recordToolCall`).
 */
function simpleContext<T>(): ContextStore<T> {
  let current: T | undefined;
  return {
    get: () => current,
    run<R>(value: T, fn: () => R): R {
      const prev = current;
      current = value;
      let out: R;
      try {
        out = fn();
      } catch (e) {
        current = prev;
        throw e;
      }
      if (out && typeof (out as { then?: unknown }).then === 'function') {
        return (out as unknown as Promise<unknown>).finally(() => {
          if (current === value) current = prev;
        }) as R;
      }
      current = prev;
      return out;
    },
  };
}

export const platform: Platform = {
  env: () => undefined,
  onExit: () => () => {},
  createContext: simpleContext,
};

/** Lets an entry point install its runtime's pieces. */
export function setPlatform(p: Partial<Platform>): void {
  Object.assign(platform, p);
}
