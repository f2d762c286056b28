/**
 * Durable background jobs and cron schedules, kept in the hub's own `jobs` and `schedules` tables.
 *
 * Why not pg-boss on PostgreSQL: one table-based runner on both dialects means the same code and the
 * same tests everywhere, and jobs can be enqueued inside the caller's transaction (`exec`), so a job
 * exists exactly when the change that asked for it committed. PostgreSQL claims with
 * `FOR UPDATE SKIP LOCKED`, so N hub processes share the queue without stepping on each other.
 *
 * Guarantees: at-least-once. A job is claimed with a lease (`locked_until`); a worker that crashes
 * leaves its lease to expire and another claim picks the job up again. Leases are times of the
 * database's clock, set and compared in SQL (`leaseNow`), never of a process's clock: a process whose
 * clock runs ahead cannot take a job whose lease is still running, and one whose clock runs behind
 * cannot hold a job past its lease (run_at and schedules keep the process's clock, `deps.clock`). Every claim counts as an
 * attempt and `attempts` doubles as a fencing token, so a late answer from a worker that lost its
 * lease cannot overwrite the newer attempt. Failures retry with exponential backoff and jitter up to
 * `max_attempts`, then the job is `failed` with its `last_error`. Handlers must be idempotent.
 *
 * It is longer than 400 lines because claims, leases, retries and schedules are one state machine on `jobs`.
 *
 * @example
 * const jobs = createJobRunner({ db, log, clock: Date.now });
 * jobs.work('email.send', async (payload, job) => { ... });
 * await jobs.send('email.send', { id: 'mail_…' });
 * await jobs.schedule('retention', '0 3 * * *', { queue: 'retention.run', timezone: 'Europe/Paris' });
 * await jobs.start(); // or, in tests: await jobs.runDue();
 */
import { Cron } from 'croner';
import type { FastifyBaseLogger } from 'fastify';
import { type Kysely, type RawBuilder, sql, type Transaction, type Updateable } from 'kysely';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { likePattern } from '../../db/like.ts';
import type { Database, JobsTable } from '../../db/schema.ts';

export type Log = Pick<FastifyBaseLogger, 'debug' | 'info' | 'warn' | 'error'>;
export type Exec = Kysely<Database> | Transaction<Database>;

/** What a handler learns about the job it runs. */
export interface JobContext {
  id: string;
  queue: string;
  /** 1 on the first run; counts every claim, including one lost to a crash. */
  attempt: number;
  maxAttempts: number;
  /** True when a failure now marks the job `failed` instead of retrying it. */
  isFinalAttempt: boolean;
  singletonKey: string | null;
}

export type JobHandler<P = any> = (payload: P, job: JobContext) => Promise<void>;

/**
 * Thrown by a handler that knows when it wants to run again (e.g. a webhook delivery that records its
 * own next_attempt_at). It still counts as an attempt and still stops at max_attempts.
 */
export class RetryAt extends Error {
  constructor(
    message: string,
    readonly runAt: number,
  ) {
    super(message);
  }
}

export interface SendOptions {
  /** Epoch ms; default now. */
  runAt?: number;
  /** Default 5. */
  maxAttempts?: number;
  /**
   * At most one job ever carries this key (unique column): a second send with the same key returns
   * the first job's id and enqueues nothing. Schedules use `${name}:${dueTime}`.
   */
  singletonKey?: string;
  /** The caller's transaction, so the job commits (or not) with the change that asked for it. */
  exec?: Exec;
}

export interface WorkOptions {
  /** Jobs of this queue running at once in this process; default 1. */
  concurrency?: number;
  /** How long a claim lasts before another worker may take the job; default 5 minutes. */
  leaseMs?: number;
}

export interface JobRunnerDeps {
  db: Db;
  log: Log;
  clock?: () => number;
  /** Poll interval while started; default 250 ms. */
  pollMs?: number;
  /** First retry delay; it doubles each attempt (with ±25% jitter). Default 1 s. */
  retryBaseMs?: number;
  /** Longest retry delay; default 1 hour. */
  retryMaxMs?: number;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_LEASE_MS = 5 * 60_000;

type JobRow = JobsTable;

/** Exponential backoff with ±25% jitter, so many jobs failing together do not retry together. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.75 + random() * 0.5));
}

/** The next occurrence of `cron` strictly after `after`, in `timezone`; throws on an invalid cron. */
export function nextOccurrence(cron: string, timezone: string, after: number): number {
  const next = new Cron(cron, { timezone, paused: true }).nextRun(new Date(after));
  if (!next) throw new Error(`cron "${cron}" has no future occurrence`);
  return next.getTime();
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.slice(0, 2000);
}

/**
 * The database's clock in epoch ms, as SQL. PostgreSQL: the server's clock, the one every hub process
 * shares. SQLite: its own reading of the host clock (one process per data directory anyway).
 */
export function leaseNow(dialect: Db['dialect']): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
}

export function createJobRunner(deps: JobRunnerDeps) {
  const { db: database, log } = deps;
  const db = database.db;
  const dbNow = leaseNow(database.dialect);
  const leaseUntil = (ms: number) => sql<number>`${dbNow} + ${ms}`;
  const now = deps.clock ?? Date.now;
  const pollMs = deps.pollMs ?? 250;
  const retryBaseMs = deps.retryBaseMs ?? 1000;
  const retryMaxMs = deps.retryMaxMs ?? 60 * 60_000;

  const workers = new Map<string, { handler: JobHandler; concurrency: number; leaseMs: number; running: number }>();
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let ticking = false;

  /** Marks jobs whose worker vanished on their last allowed attempt as failed, so they do not hang. */
  async function failAbandoned(t: number) {
    await db
      .updateTable('jobs')
      .set({
        status: 'failed',
        last_error: 'the worker stopped before finishing (lease expired)',
        finished_at: t,
        locked_until: null,
      })
      .where('status', '=', 'running')
      .where('locked_until', '<', dbNow)
      .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
      .execute();
  }

  /** The queues with a claimable job (due, or running with an expired lease), and whether any lease expired. */
  async function dueWork(t: number): Promise<{ queues: Set<string>; expiredLeases: boolean }> {
    const rows = await db
      .selectFrom('jobs')
      .select(['queue', 'status'])
      .distinct()
      .where((w) =>
        w.or([
          w.and([w('status', '=', 'queued'), w('run_at', '<=', t)]),
          w.and([w('status', '=', 'running'), w('locked_until', '<', dbNow)]),
        ]),
      )
      .execute();
    return { queues: new Set(rows.map((r) => r.queue)), expiredLeases: rows.some((r) => r.status === 'running') };
  }

  /**
   * Claims one due job of `queue` (queued and due, or running with an expired lease) in one statement.
   * SQLite serializes writers, so the UPDATE … WHERE id = (SELECT …) is atomic; PostgreSQL adds
   * SKIP LOCKED so concurrent processes each take a different row instead of queueing on one.
   */
  async function claim(queue: string, leaseMs: number, exclude: ReadonlySet<string>): Promise<JobRow | undefined> {
    const t = now();
    const rows = await db
      .updateTable('jobs')
      .set((eb) => ({ status: 'running', locked_until: leaseUntil(leaseMs), attempts: eb('attempts', '+', 1) }))
      .where('id', '=', (eb) => {
        let q = eb
          .selectFrom('jobs')
          .select('id')
          .where('queue', '=', queue)
          .where((w) =>
            w.or([
              w.and([w('status', '=', 'queued'), w('run_at', '<=', t)]),
              w.and([
                w('status', '=', 'running'),
                w('locked_until', '<', dbNow),
                w('attempts', '<', w.ref('max_attempts')),
              ]),
            ]),
          );
        if (exclude.size) q = q.where('id', 'not in', [...exclude]);
        q = q.orderBy('run_at').orderBy('id').limit(1);
        return database.dialect === 'postgres' ? q.forUpdate().skipLocked() : q;
      })
      .returningAll()
      .execute();
    return rows[0];
  }

  /** Runs one claimed job and records the outcome, fenced by the attempt number it was claimed with. */
  async function execute(row: JobRow): Promise<void> {
    const worker = workers.get(row.queue)!;
    const attempt = Number(row.attempts);
    const maxAttempts = Number(row.max_attempts);
    const fenced = (set: Updateable<JobsTable> | { locked_until: RawBuilder<number> }) =>
      db
        .updateTable('jobs')
        .set(set as Updateable<JobsTable>)
        .where('id', '=', row.id)
        .where('status', '=', 'running')
        .where('attempts', '=', attempt)
        .execute();

    // Long jobs keep their lease alive; a crashed process stops renewing and the lease runs out.
    const heartbeat = setInterval(
      () => {
        fenced({ locked_until: leaseUntil(worker.leaseMs) }).catch((err: unknown) =>
          log.warn({ err, jobId: row.id }, 'job lease renewal failed'),
        );
      },
      Math.max(1000, Math.floor(worker.leaseMs / 2)),
    );
    heartbeat.unref();
    worker.running++;
    try {
      const payload = JSON.parse(row.payload);
      await worker.handler(payload, {
        id: row.id,
        queue: row.queue,
        attempt,
        maxAttempts,
        isFinalAttempt: attempt >= maxAttempts,
        singletonKey: row.singleton_key,
      });
      await fenced({ status: 'completed', finished_at: now(), locked_until: null, last_error: null });
    } catch (err) {
      const message = errorText(err);
      if (attempt >= maxAttempts) {
        log.error({ err, jobId: row.id, queue: row.queue, attempt }, 'job failed for good');
        await fenced({ status: 'failed', finished_at: now(), locked_until: null, last_error: message });
      } else {
        const runAt = err instanceof RetryAt ? err.runAt : now() + backoffMs(attempt, retryBaseMs, retryMaxMs);
        log.warn({ jobId: row.id, queue: row.queue, attempt, runAt, error: message }, 'job failed, will retry');
        await fenced({ status: 'queued', run_at: runAt, locked_until: null, last_error: message });
      }
    } finally {
      clearInterval(heartbeat);
      worker.running--;
    }
  }

  function track(p: Promise<void>) {
    const tracked = p.catch((err) => log.error({ err }, 'job bookkeeping failed'));
    inFlight.add(tracked);
    void tracked.finally(() => inFlight.delete(tracked));
    return tracked;
  }

  /** Enqueues one job per due schedule and moves each schedule to its next occurrence after now. */
  async function fireSchedules(): Promise<number> {
    const t = now();
    const due = await db.selectFrom('schedules').selectAll().where('next_run_at', '<=', t).execute();
    for (const s of due) {
      const dueTime = Number(s.next_run_at);
      let next: number;
      try {
        next = nextOccurrence(s.cron, s.timezone, t);
      } catch (err) {
        log.error({ err, schedule: s.name }, 'schedule has an invalid cron; it will not run');
        continue;
      }
      // No transaction, on purpose: the job is keyed by the occurrence, so enqueueing is idempotent. A crash
      // between the two steps leaves the schedule due, and the next pass re-sends the same key (a no-op)
      // and then advances it. Two processes racing both send (one insert wins) and one advance wins.
      // Only the occurrence that came due is enqueued, never one per missed period.
      await send(s.queue, JSON.parse(s.payload), { singletonKey: `${s.name}:${dueTime}` });
      await db
        .updateTable('schedules')
        .set({ next_run_at: next, last_run_at: t })
        .where('name', '=', s.name)
        .where('next_run_at', '=', dueTime)
        .execute();
    }
    return due.length;
  }

  async function send(queue: string, payload: unknown, opts: SendOptions = {}): Promise<string> {
    const exec = opts.exec ?? db;
    const t = now();
    const id = newId('job', t);
    const res = await exec
      .insertInto('jobs')
      .values({
        id,
        queue,
        payload: JSON.stringify(payload ?? null),
        status: 'queued',
        attempts: 0,
        max_attempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        run_at: opts.runAt ?? t,
        locked_until: null,
        last_error: null,
        singleton_key: opts.singletonKey ?? null,
        created_at: t,
        finished_at: null,
      })
      .onConflict((oc) => oc.column('singleton_key').doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 1) > 0 || !opts.singletonKey) return id;
    const existing = await exec
      .selectFrom('jobs')
      .select('id')
      .where('singleton_key', '=', opts.singletonKey)
      .executeTakeFirstOrThrow();
    return existing.id;
  }

  /** One polling pass: fire schedules, then fill every queue's free concurrency slots. */
  async function tick() {
    if (ticking) return;
    ticking = true;
    try {
      await fireSchedules();
      // One read says which queues have work; an idle poll then costs two reads, not a write per queue
      // (it used to take ~2% of a CPU in an idle hub, and as much from a loaded one).
      const due = await dueWork(now());
      if (due.expiredLeases) await failAbandoned(now());
      for (const [queue, w] of workers) {
        if (!due.queues.has(queue)) continue;
        while (w.running < w.concurrency) {
          const row = await claim(queue, w.leaseMs, new Set());
          if (!row) break;
          track(execute(row));
        }
      }
    } catch (err) {
      log.error({ err }, 'job runner poll failed');
    } finally {
      ticking = false;
    }
  }

  const runner = {
    send,

    /** Registers the handler of a queue in this process. Registering does not touch the database. */
    work<P = any>(queue: string, handler: JobHandler<P>, opts: WorkOptions = {}) {
      if (workers.has(queue)) throw new Error(`queue ${queue} already has a worker`);
      workers.set(queue, {
        handler: handler as JobHandler,
        concurrency: Math.max(1, opts.concurrency ?? 1),
        leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS,
        running: 0,
      });
    },

    /**
     * Creates or updates a named schedule. Re-declaring it at every start keeps its next_run_at unless
     * the cron or timezone changed, so a run missed while the hub was down is still caught up (once).
     */
    async schedule(name: string, cron: string, opts: { timezone?: string; queue: string; payload?: unknown }) {
      const timezone = opts.timezone ?? 'UTC';
      const t = now();
      const next = nextOccurrence(cron, timezone, t); // validates cron and timezone before writing
      const payload = JSON.stringify(opts.payload ?? {});
      const inserted = await db
        .insertInto('schedules')
        .values({ name, cron, timezone, queue: opts.queue, payload, next_run_at: next, last_run_at: null })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return;
      const existing = await db
        .selectFrom('schedules')
        .select(['cron', 'timezone'])
        .where('name', '=', name)
        .executeTakeFirst();
      const changed = !existing || existing.cron !== cron || existing.timezone !== timezone;
      await db
        .updateTable('schedules')
        .set({ cron, timezone, queue: opts.queue, payload, ...(changed ? { next_run_at: next } : {}) })
        .where('name', '=', name)
        .execute();
    },

    /**
     * Org deletion, inside its transaction: deletes the jobs and schedules whose payload names the org
     * (queued work for an org that no longer exists). Returns how many jobs went.
     */
    async forgetOrg(exec: Exec, orgId: string): Promise<number> {
      const mention = likePattern(orgId);
      const jobs = await exec
        .deleteFrom('jobs')
        .where(sql<boolean>`payload like ${mention} escape '\\'`)
        .executeTakeFirst();
      await exec.deleteFrom('schedules').where(sql<boolean>`payload like ${mention} escape '\\'`).execute();
      return Number(jobs.numDeletedRows);
    },

    /**
     * Replaces a job's payload (a finished job's row is kept, and a private body must not outlive its
     * delivery there: the mailer keeps only the outbox id).
     */
    async replacePayload(jobId: string, payload: unknown) {
      await db
        .updateTable('jobs')
        .set({ payload: JSON.stringify(payload) })
        .where('id', '=', jobId)
        .execute();
    },

    async unschedule(name: string) {
      await db.deleteFrom('schedules').where('name', '=', name).execute();
    },

    /** Starts polling (every ~250 ms). Idempotent. */
    async start() {
      if (timer) return;
      timer = setInterval(() => void tick(), pollMs);
      timer.unref();
      void tick();
    },

    /** Stops polling and waits (up to `timeoutMs`) for running jobs; unfinished ones are retried later. */
    async stop(timeoutMs = 10_000) {
      if (timer) clearInterval(timer);
      timer = null;
      await waitInFlight(timeoutMs);
    },

    /**
     * Fires due schedules, then claims and runs every job that is due now, one after the other, each at
     * most once per call (a job retried for "now" waits for the next call). Returns how many ran.
     * Tests call this instead of starting timers.
     */
    async runDue(): Promise<number> {
      await fireSchedules();
      await failAbandoned(now());
      const seen = new Set<string>();
      for (const [queue, w] of workers) {
        for (;;) {
          const row = await claim(queue, w.leaseMs, seen);
          if (!row) break;
          seen.add(row.id);
          await track(execute(row));
        }
      }
      return seen.size;
    },

    /**
     * Runs due jobs until none is due and none is running (jobs that enqueue jobs included), or throws
     * after `timeoutMs`. Retries scheduled in the future are not waited for.
     */
    async drain(timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        await waitInFlight(Math.max(0, end - Date.now()));
        const ran = await runner.runDue();
        if (ran === 0 && inFlight.size === 0) return;
        if (Date.now() > end) throw new Error(`jobs still running or due after ${timeoutMs} ms`);
      }
    },
  };

  async function waitInFlight(timeoutMs: number) {
    const end = Date.now() + timeoutMs;
    while (inFlight.size && Date.now() < end) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((r) => {
          t = setTimeout(r, Math.max(0, end - Date.now()));
        }),
      ]);
      clearTimeout(t);
    }
  }

  return runner;
}

export type JobRunner = ReturnType<typeof createJobRunner>;
