/**
 * SQLite's WAL checkpoints, moved off the event loop.
 *
 * In WAL mode every commit appends pages to the `-wal` file, and a checkpoint copies them back into the
 * database file and fsyncs both files. Left to SQLite, the connection that commits runs the checkpoint
 * itself once the WAL passes 1,000 pages: on the hub's one connection, that is the event loop, blocked
 * for a copy and two fsyncs (0.3 ms at the median on this project's VMs, 3 ms at the 99th percentile)
 * several times a second under load, and every request in flight waits. Measured under a saturating
 * load of evaluate calls, that is where the hub's p99 went beyond the bare HTTP route's.
 *
 * So a worker thread, with its own connection to the same file, runs a PASSIVE checkpoint every
 * `intervalMs`: it copies what is committed without ever holding the writer's lock, so the event loop
 * never waits for it. The hub's own connection keeps an automatic checkpoint at a far higher mark
 * (`MAIN_AUTOCHECKPOINT_PAGES`) as a backstop: it is what lets the WAL start over from its beginning
 * (that happens only after a checkpoint that leaves nothing behind, which a checkpoint running beside
 * busy commits rarely does), and it costs little because the worker has already copied nearly every
 * page by then. Durability is unchanged: a commit is durable once it is in the WAL, as before.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The backstop: the hub's connection checkpoints itself only once the WAL holds this many pages (~40 MB). */
export const MAIN_AUTOCHECKPOINT_PAGES = 10_000;

// Plain CommonJS evaluated in the worker: no TypeScript loader is needed there, and the driver is the
// hub's own (its resolved path is passed in), so both threads use the same SQLite build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
// Never wait on a lock: a checkpoint that finds one busy is simply tried again at the next tick.
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed });
  } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** The worker's last checkpoint: pages in the WAL, and how many of them are copied (tests read it). */
  last(): { log: number; checkpointed: number } | null;
  /** Stops the worker and closes its connection (before the hub's own connection closes). */
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs = 100): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  // The worker must never keep a process alive that is otherwise done (a CLI command, a test).
  worker.unref();
  let last: { log: number; checkpointed: number } | null = null;
  worker.on('message', (m: { log: number; checkpointed: number }) => {
    last = m;
  });
  // A worker that failed to start or died leaves the backstop checkpoint in charge: never crash the hub.
  worker.on('error', () => {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    last: () => last,
    async stop() {
      // Held while it stops: with the worker unref'd and nothing else pending (a CLI's or a script's last
      // await), the process would otherwise end mid-wait with an unsettled promise (exit code 13).
      worker.ref();
      worker.postMessage('stop');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      await worker.terminate();
    },
  };
}
