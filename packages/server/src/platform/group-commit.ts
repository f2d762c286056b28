/**
 * Group commit: write submissions that arrive while a transaction is in flight are gathered and
 * committed together in the next one. Each submitter still waits for its own commit (202 only after
 * the write is durable), but 50 concurrent requests cost one transaction instead of 50.
 * If a grouped transaction fails, each submission is retried alone, so one bad request cannot fail
 * its neighbours.
 *
 * A writer may be synchronous (SQLite's prepared statements: it returns nothing), or return a promise
 * (PostgreSQL, or SQLite while another transaction holds the connection). A synchronous write is
 * committed and its submitters told inside the same `setImmediate` callback: no promise per batch, which
 * with async hooks active (Better Auth's AsyncLocalStorage) also saves their hook calls, and a lone
 * request (an agent waiting on one decision) is answered in the turn its row was written.
 */
import type { MaybePromise } from './maybe-promise.ts';

export interface GroupCommit<Op> {
  submit(ops: Op[]): Promise<void>;
  /**
   * `submit` for a caller that answers through a callback: `done()` once the ops are committed,
   * `done(error)` if they failed. No promise per submission (a hot path's request can then run
   * without any; see evaluate.service.ts).
   */
  submitWith(ops: Op[], done: (error?: unknown) => void): void;
  /** Waits for everything submitted so far. */
  drain(): Promise<void>;
}

/**
 * One submission: told through `done` (submitWith) or its promise's `resolve`/`reject` (submit). Kept as
 * fields rather than a callback made per `submit`: under tsx each function made in a call is also named.
 */
type Pending<Op> = {
  ops: Op[];
  done: ((error?: unknown) => void) | null;
  resolve: (() => void) | null;
  reject: ((error: unknown) => void) | null;
};

export function createGroupCommit<Op>(opts: {
  /** Commits `ops` in one transaction: returns when done (synchronous), or a promise of it. */
  write(ops: Op[]): MaybePromise<void>;
  maxOps?: number;
  onError?: (e: unknown) => void;
}): GroupCommit<Op> {
  const maxOps = opts.maxOps ?? 5000;
  const queue: Pending<Op>[] = [];
  /** A flush is scheduled or running (a loop of batches, possibly waiting on an asynchronous write). */
  let active = false;
  /** drain() callers, told when the queue is empty and nothing is being written. */
  let idle: (() => void)[] = [];

  /** The next batch: whole submissions, up to maxOps ops (one oversized submission goes alone). */
  function nextBatch(): Pending<Op>[] {
    const batch: Pending<Op>[] = [];
    let n = 0;
    while (queue.length && (n === 0 || n + queue[0]!.ops.length <= maxOps)) {
      const p = queue.shift()!;
      batch.push(p);
      n += p.ops.length;
    }
    return batch;
  }

  /** Writes batches until the queue is empty; when a write is asynchronous, goes on once it is done. */
  function flush(): void {
    while (queue.length) {
      const pending = commit(nextBatch());
      if (pending) {
        pending.then(flush, (e) => {
          opts.onError?.(e);
          flush();
        });
        return;
      }
    }
    active = false;
    const waiting = idle;
    idle = [];
    for (const w of waiting) w();
  }

  /** Commits one batch and tells its submitters; a promise (that never rejects) when the write is asynchronous. */
  function commit(batch: Pending<Op>[]): Promise<void> | undefined {
    let pending: MaybePromise<void>;
    try {
      pending = opts.write(batch.length === 1 ? batch[0]!.ops : batch.flatMap((p) => p.ops));
    } catch (thrown) {
      return retryAlone(batch, thrown);
    }
    if (pending instanceof Promise)
      return pending.then(
        () => settleAll(batch),
        (thrown) => retryAlone(batch, thrown),
      );
    settleAll(batch);
    return undefined;
  }

  function settleAll(batch: Pending<Op>[]) {
    for (const p of batch) settle(p);
  }

  /** A grouped write failed: each submission is written alone, so one bad one cannot fail its neighbours. */
  function retryAlone(batch: Pending<Op>[], thrown: unknown): Promise<void> | undefined {
    const e = thrown ?? new Error('group commit failed');
    if (batch.length === 1) return settle(batch[0]!, e);
    opts.onError?.(e);
    return retryFrom(batch, 0, e);
  }

  function retryFrom(batch: Pending<Op>[], from: number, e: unknown): Promise<void> | undefined {
    for (let i = from; i < batch.length; i++) {
      const p = batch[i]!;
      let pending: MaybePromise<void>;
      try {
        pending = opts.write(p.ops);
      } catch (err) {
        settle(p, err ?? e);
        continue;
      }
      if (pending instanceof Promise)
        return pending
          .then(
            () => settle(p),
            (err) => settle(p, err ?? e),
          )
          .then(() => retryFrom(batch, i + 1, e));
      settle(p);
    }
    return undefined;
  }

  /** Tells a submitter; a throwing callback must not fail its neighbours or stop the loop. */
  function settle(p: Pending<Op>, error?: unknown): undefined {
    try {
      if (p.done) p.done(error);
      else if (error === undefined) p.resolve!();
      else p.reject!(error);
    } catch (e) {
      opts.onError?.(e);
    }
  }

  function kick() {
    if (active) return;
    active = true;
    // setImmediate lets the requests already parsed in this turn of the event loop join the batch.
    setImmediate(flush);
  }

  return {
    submit(ops) {
      if (ops.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ ops, done: null, resolve, reject });
        kick();
      });
    },
    submitWith(ops, done) {
      if (ops.length === 0) return done();
      queue.push({ ops, done, resolve: null, reject: null });
      kick();
    },
    drain() {
      if (!active && !queue.length) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
