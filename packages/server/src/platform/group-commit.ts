/**
 * Group commit: write submissions that arrive while a transaction is in flight are gathered and
 * committed together in the next one. Each submitter still waits for its own commit (202 only after
 * the write is durable), but 50 concurrent requests cost one transaction instead of 50.
 * If a grouped transaction fails, each submission is retried alone, so one bad request cannot fail
 * its neighbours.
 */
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

export function createGroupCommit<Op>(opts: {
  write(ops: Op[]): Promise<void>;
  maxOps?: number;
  onError?: (e: unknown) => void;
}): GroupCommit<Op> {
  const maxOps = opts.maxOps ?? 5000;
  type Pending = { ops: Op[]; done: (error?: unknown) => void };
  const queue: Pending[] = [];
  let running: Promise<void> | null = null;

  async function flushLoop() {
    while (queue.length) {
      const batch: Pending[] = [];
      let n = 0;
      while (queue.length && (n === 0 || n + queue[0]!.ops.length <= maxOps)) {
        const p = queue.shift()!;
        batch.push(p);
        n += p.ops.length;
      }
      try {
        await opts.write(batch.length === 1 ? batch[0]!.ops : batch.flatMap((p) => p.ops));
      } catch (thrown) {
        const e = thrown ?? new Error('group commit failed');
        if (batch.length === 1) {
          settle(batch[0]!, e);
          continue;
        }
        opts.onError?.(e);
        for (const p of batch) {
          try {
            await opts.write(p.ops);
          } catch (err) {
            settle(p, err ?? e);
            continue;
          }
          settle(p);
        }
        continue;
      }
      for (const p of batch) settle(p);
    }
  }

  /** Tells a submitter; a throwing callback must not fail its neighbours or stop the loop. */
  function settle(p: Pending, error?: unknown) {
    try {
      p.done(error);
    } catch (e) {
      opts.onError?.(e);
    }
  }

  function kick() {
    if (running) return;
    // setImmediate lets the requests already parsed in this turn of the event loop join the batch.
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(flushLoop).finally(() => {
      running = null;
      if (queue.length) kick();
    });
  }

  return {
    submit(ops) {
      if (ops.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ ops, done: (error) => (error === undefined ? resolve() : reject(error)) });
        kick();
      });
    },
    submitWith(ops, done) {
      if (ops.length === 0) return done();
      queue.push({ ops, done });
      kick();
    },
    async drain() {
      while (running || queue.length) await (running ?? Promise.resolve());
    },
  };
}
