/**
 * The job runner against a real database (SQLite file, or PostgreSQL with HUB_TEST_DB=postgres).
 * Time is an injected clock, so retries, leases and schedules are tested without waiting.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../db/database.ts';
import { migrateHub } from '../../db/migrate.ts';
import { createTestDatabase, testDialect } from '../../testing/test-db.ts';
import { backoffMs, createJobRunner, type JobRunner, nextOccurrence, RetryAt } from './job-runner.ts';

const log = pino({ level: 'silent' });
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
const opened: Db[] = [];
const runners: JobRunner[] = [];

/** A new connection to the test database, as a restarted process would open it. */
function connect(): Db {
  const db = openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir, poolSize: 4 });
  opened.push(db);
  return db;
}

function runner(db: Db, clock: () => number, extra: { retryBaseMs?: number } = {}) {
  const r = createJobRunner({ db, log, clock, ...extra });
  runners.push(r);
  return r;
}

let queueSeq = 0;
/** Each test uses its own queue names, so tests sharing the database never see each other's jobs. */
const q = (name: string) => `${name}.${queueSeq++}`;

const jobRow = (db: Db, id: string) =>
  db.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = connect();
  await migrateHub(db);
});
afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop(1000);
});
afterAll(async () => {
  for (const d of opened) await d.close();
  await testDb?.drop();
});

describe('job runner', () => {
  it('runs a job with its payload and marks it completed', async () => {
    expect(db.dialect).toBe(testDialect()); // the suite really runs on the dialect it was asked for
    const now = 1_700_000_000_000;
    const jobs = runner(db, () => now);
    const queue = q('hello');
    const seen: unknown[] = [];
    jobs.work(queue, async (payload, job) => {
      seen.push({ payload, attempt: job.attempt });
    });
    const id = await jobs.send(queue, { to: 'ana', n: 1 });
    expect(id).toMatch(/^job_/);
    expect(await jobs.runDue()).toBe(1);
    expect(seen).toEqual([{ payload: { to: 'ana', n: 1 }, attempt: 1 }]);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'completed',
      attempts: 1,
      finished_at: now,
      locked_until: null,
    });
    expect(await jobs.runDue()).toBe(0);
  });

  it('does not run a job before its runAt', async () => {
    let now = 1_700_000_000_000;
    const jobs = runner(db, () => now);
    const queue = q('later');
    let runs = 0;
    jobs.work(queue, async () => {
      runs++;
    });
    await jobs.send(queue, {}, { runAt: now + 60_000 });
    expect(await jobs.runDue()).toBe(0);
    now += 60_000;
    expect(await jobs.runDue()).toBe(1);
    expect(runs).toBe(1);
  });

  it('retries a failing job with growing, jittered delays, then marks it failed with the last error', async () => {
    let now = 1_700_000_000_000;
    const jobs = runner(db, () => now, { retryBaseMs: 1000 });
    const queue = q('flaky');
    let calls = 0;
    jobs.work(queue, async () => {
      calls++;
      throw new Error(`boom ${calls}`);
    });
    const id = await jobs.send(queue, {}, { maxAttempts: 3 });

    expect(await jobs.runDue()).toBe(1);
    let row = await jobRow(db, id);
    expect(row).toMatchObject({ status: 'queued', attempts: 1, last_error: 'boom 1' });
    const firstDelay = Number(row.run_at) - now;
    expect(firstDelay).toBeGreaterThanOrEqual(750);
    expect(firstDelay).toBeLessThanOrEqual(1250);

    // Not due yet: nothing runs.
    expect(await jobs.runDue()).toBe(0);
    now = Number(row.run_at);
    expect(await jobs.runDue()).toBe(1);
    row = await jobRow(db, id);
    expect(row).toMatchObject({ status: 'queued', attempts: 2, last_error: 'boom 2' });
    const secondDelay = Number(row.run_at) - now;
    expect(secondDelay).toBeGreaterThanOrEqual(1500);
    expect(secondDelay).toBeLessThanOrEqual(2500);

    now = Number(row.run_at);
    expect(await jobs.runDue()).toBe(1);
    row = await jobRow(db, id);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, last_error: 'boom 3', finished_at: now });
    now += 24 * 3600_000;
    expect(await jobs.runDue()).toBe(0);
    expect(calls).toBe(3);
  });

  it('succeeds on a retry after a transient failure', async () => {
    let now = 1_700_000_000_000;
    const jobs = runner(db, () => now);
    const queue = q('transient');
    let calls = 0;
    jobs.work(queue, async () => {
      if (++calls === 1) throw new Error('database hiccup');
    });
    const id = await jobs.send(queue, {});
    await jobs.runDue();
    now += 60_000;
    await jobs.runDue();
    expect(await jobRow(db, id)).toMatchObject({ status: 'completed', attempts: 2, last_error: null });
  });

  it('lets a handler choose its retry time with RetryAt', async () => {
    const now = 1_700_000_000_000;
    const jobs = runner(db, () => now);
    const queue = q('retry-at');
    jobs.work(queue, async () => {
      throw new RetryAt('receiver down', now + 123_456);
    });
    const id = await jobs.send(queue, {});
    await jobs.runDue();
    expect(await jobRow(db, id)).toMatchObject({
      status: 'queued',
      run_at: now + 123_456,
      last_error: 'receiver down',
    });
  });

  it('keeps jobs across a restart: a job sent before stopping runs in the next process', async () => {
    const now = 1_700_000_000_000;
    const queue = q('durable');
    const first = runner(db, () => now);
    const id = await first.send(queue, { report: 'weekly' });
    await first.stop();

    // A new process: its own connection and its own runner, the worker registered only now.
    const db2 = connect();
    const second = runner(db2, () => now + 5000);
    const seen: unknown[] = [];
    second.work(queue, async (payload) => {
      seen.push(payload);
    });
    expect(await second.runDue()).toBe(1);
    expect(seen).toEqual([{ report: 'weekly' }]);
    expect((await jobRow(db2, id)).status).toBe('completed');
  });

  it('reclaims the job of a worker whose lease expired, and ignores that worker if it answers late', async () => {
    const queue = q('lease');
    const leaseMs = 30_000;
    // Leases are the database's clock: each process here has a clock an hour off, and it changes nothing.
    const hour = 3_600_000;

    // Worker A claims the job and then hangs (a crashed or frozen process).
    const a = runner(connect(), () => Date.now() - hour);
    let releaseA!: () => void;
    const aStarted = new Promise<void>((started) =>
      a.work(
        queue,
        () =>
          new Promise<void>((resolve) => {
            releaseA = resolve;
            started();
          }),
        { leaseMs },
      ),
    );
    const id = await a.send(queue, {});
    const before = Date.now();
    const aRun = a.runDue();
    await aStarted;
    const claimed = await jobRow(db, id);
    expect(claimed).toMatchObject({ status: 'running', attempts: 1 });
    // Until the database's now + the lease, not A's clock + the lease (an hour ago).
    expect(Number(claimed.locked_until)).toBeGreaterThanOrEqual(before + leaseMs - 2000);
    expect(Number(claimed.locked_until)).toBeLessThanOrEqual(Date.now() + leaseMs + 2000);

    // Within the lease, worker B may not take it, though B's clock says the lease ran out an hour ago.
    const bAttempts: number[] = [];
    const b = runner(connect(), () => Date.now() + hour);
    b.work(
      queue,
      async (_p, job) => {
        bAttempts.push(job.attempt);
        throw new Error('B failed too');
      },
      { leaseMs },
    );
    expect(await b.runDue()).toBe(0);

    // A stays frozen past its lease (moved back, as if the lease's time had passed).
    await db.db
      .updateTable('jobs')
      .set((eb) => ({ locked_until: eb('locked_until', '-', 2 * leaseMs) }))
      .where('id', '=', id)
      .execute();

    // After the lease, a worker in another process takes it over (and is still working on it), though
    // its clock is an hour behind.
    const c = runner(connect(), () => Date.now() - hour);
    let failC!: () => void;
    const cStarted = new Promise<void>((started) =>
      c.work(
        queue,
        (_p, job) =>
          new Promise<void>((_resolve, reject) => {
            bAttempts.push(job.attempt);
            failC = () => reject(new Error('C failed'));
            started();
          }),
        { leaseMs },
      ),
    );
    const cRun = c.runDue();
    await cStarted;
    expect(bAttempts).toEqual([2]);
    expect(await jobRow(db, id)).toMatchObject({ status: 'running', attempts: 2 });

    // A finally answers "done" while C holds the job: A lost it, so its answer must change nothing.
    releaseA();
    await aRun;
    expect(await jobRow(db, id)).toMatchObject({ status: 'running', attempts: 2, finished_at: null });

    // C's outcome is the one recorded.
    failC();
    expect(await cRun).toBe(1);
    expect(await jobRow(db, id)).toMatchObject({ status: 'queued', attempts: 2, last_error: 'C failed' });
  });

  it('a process whose clock runs ahead can neither take a running lease nor hold its own past its end', async () => {
    const queue = q('skew');
    const leaseMs = 60_000;
    const ahead = () => Date.now() + 600_000;
    // The skewed process claims a job that hangs: its lease ends at the database's now + the lease, not
    // ten minutes later as its own clock would have it (a crash there would block the job that long).
    const skewed = runner(connect(), ahead);
    let release!: () => void;
    const started = new Promise<void>((ok) =>
      skewed.work(
        queue,
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
            ok();
          }),
        { leaseMs },
      ),
    );
    const id = await skewed.send(queue, {});
    const held = skewed.runDue();
    await started;
    expect(Number((await jobRow(db, id)).locked_until)).toBeLessThan(Date.now() + leaseMs + 2000);

    // Another process ten minutes ahead finds nothing to take while that lease runs.
    const thief = runner(connect(), ahead);
    let stolen = 0;
    thief.work(
      queue,
      async () => {
        stolen++;
      },
      { leaseMs },
    );
    expect(await thief.runDue()).toBe(0);
    release();
    expect(await held).toBe(1);
    expect(stolen).toBe(0);
    expect(await jobRow(db, id)).toMatchObject({ status: 'completed', attempts: 1 });
  });

  it('marks a job failed when its last allowed attempt lost its lease', async () => {
    const t0 = 1_700_000_000_000;
    const queue = q('lost');
    const id = await runner(db, () => t0).send(queue, {}, { maxAttempts: 1 });
    // Simulate the crash: the only attempt was claimed and its process died.
    await db.db
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, locked_until: t0 + 1000 })
      .where('id', '=', id)
      .execute();
    const later = runner(db, () => t0 + 2000);
    let runs = 0;
    later.work(queue, async () => {
      runs++;
    });
    await later.runDue();
    expect(runs).toBe(0);
    expect(await jobRow(db, id)).toMatchObject({
      status: 'failed',
      last_error: expect.stringMatching(/lease expired/),
    });
  });

  it('enqueues a singleton key once', async () => {
    const jobs = runner(db, () => 1_700_000_000_000);
    const queue = q('single');
    const key = `${queue}:once`;
    const a = await jobs.send(queue, { n: 1 }, { singletonKey: key });
    const b = await jobs.send(queue, { n: 2 }, { singletonKey: key });
    expect(b).toBe(a);
    const rows = await db.db.selectFrom('jobs').select('payload').where('queue', '=', queue).execute();
    expect(rows.map((r) => JSON.parse(r.payload))).toEqual([{ n: 1 }]);
  });

  it('enqueues inside the caller transaction: a rollback leaves no job', async () => {
    const jobs = runner(db, () => 1_700_000_000_000);
    const queue = q('trx');
    await expect(
      db.db.transaction().execute(async (trx) => {
        await jobs.send(queue, {}, { exec: trx });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const id = await db.db.transaction().execute((trx) => jobs.send(queue, { kept: true }, { exec: trx }));
    const rows = await db.db.selectFrom('jobs').select('id').where('queue', '=', queue).execute();
    expect(rows.map((r) => r.id)).toEqual([id]);
  });

  it('runs each job exactly once when several processes claim at the same time', async () => {
    const now = 1_700_000_000_000;
    const queue = q('race');
    const counts = new Map<number, number>();
    const workers = [0, 1, 2].map(() => {
      const r = runner(connect(), () => now);
      r.work(queue, async (p: { n: number }) => {
        counts.set(p.n, (counts.get(p.n) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 2));
      });
      return r;
    });
    for (let n = 0; n < 30; n++) await workers[0]!.send(queue, { n });
    const ran = await Promise.all(workers.map((w) => w.runDue()));
    expect(ran.reduce((a, b) => a + b, 0)).toBe(30);
    expect(counts.size).toBe(30);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('polls while started and stops cleanly', async () => {
    const jobs = createJobRunner({ db, log, pollMs: 20 });
    runners.push(jobs);
    const queue = q('polled');
    let done!: (p: unknown) => void;
    const ran = new Promise((r) => {
      done = r;
    });
    jobs.work(queue, async (payload) => done(payload));
    await jobs.start();
    await jobs.send(queue, { via: 'poll' });
    await expect(ran).resolves.toEqual({ via: 'poll' });
    await jobs.stop();
  });

  it('polling finds due work in one read: reclaims an expired lease, fails a lost last attempt, leaves idle queues', async () => {
    const t0 = 1_700_000_000_000;
    const [lost, expired, idle] = [q('poll-lost'), q('poll-expired'), q('poll-idle')];
    const lostId = await runner(db, () => t0).send(lost, {}, { maxAttempts: 1 });
    const expiredId = await runner(db, () => t0).send(expired, { again: true }, { maxAttempts: 3 });
    // Both were claimed by a process that died; their leases ran out at t0 + 1000.
    await db.db
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, locked_until: t0 + 1000 })
      .where('id', 'in', [lostId, expiredId])
      .execute();
    const jobs = createJobRunner({ db, log, pollMs: 20, clock: () => t0 + 2000 });
    runners.push(jobs);
    let idleRuns = 0;
    let lostRuns = 0;
    let rerun!: (p: unknown) => void;
    const reran = new Promise((r) => {
      rerun = r;
    });
    jobs.work(idle, async () => {
      idleRuns++;
    });
    jobs.work(lost, async () => {
      lostRuns++;
    });
    jobs.work(expired, async (payload) => rerun(payload));
    await jobs.start();
    await expect(reran).resolves.toEqual({ again: true });
    await jobs.stop();
    expect(await jobRow(db, expiredId)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(await jobRow(db, lostId)).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/lease/) });
    expect([lostRuns, idleRuns]).toEqual([0, 0]);
  });

  it('drain runs jobs that enqueue other jobs until nothing is due', async () => {
    const jobs = runner(db, () => 1_700_000_000_000);
    const first = q('chain-a');
    const second = q('chain-b');
    const order: string[] = [];
    jobs.work(first, async () => {
      order.push('a');
      await jobs.send(second, {});
    });
    jobs.work(second, async () => {
      order.push('b');
    });
    await jobs.send(first, {});
    await jobs.drain(5000);
    expect(order).toEqual(['a', 'b']);
  });
});

describe('schedules', () => {
  it('computes the next run in the schedule timezone', () => {
    // 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer.
    const winter = Date.parse('2024-01-10T12:00:00Z');
    expect(new Date(nextOccurrence('0 3 * * *', 'Europe/Paris', winter)).toISOString()).toBe(
      '2024-01-11T02:00:00.000Z',
    );
    const summer = Date.parse('2024-07-10T12:00:00Z');
    expect(new Date(nextOccurrence('0 3 * * *', 'Europe/Paris', summer)).toISOString()).toBe(
      '2024-07-11T01:00:00.000Z',
    );
    expect(() => nextOccurrence('every blue moon', 'UTC', winter)).toThrow();
  });

  it('fires when due, then catches up a run missed during downtime exactly once', async () => {
    let now = Date.parse('2024-01-10T12:00:00Z');
    const clock = () => now;
    const name = q('nightly');
    const queue = q('nightly.run');
    const first = runner(db, clock);
    const seen: { payload: unknown; key: string | null }[] = [];
    first.work(queue, async (payload, job) => {
      seen.push({ payload, key: job.singletonKey });
    });
    await first.schedule(name, '0 3 * * *', { timezone: 'Europe/Paris', queue, payload: { kind: 'retention' } });
    const due1 = Date.parse('2024-01-11T02:00:00Z');
    expect(
      Number(
        (await db.db.selectFrom('schedules').select('next_run_at').where('name', '=', name).executeTakeFirstOrThrow())
          .next_run_at,
      ),
    ).toBe(due1);

    expect(await first.runDue()).toBe(0);
    now = due1 + 1000;
    expect(await first.runDue()).toBe(1);
    expect(seen).toEqual([{ payload: { kind: 'retention' }, key: `${name}:${due1}` }]);
    expect(await first.runDue()).toBe(0);
    await first.stop();

    // The hub is down for three days and a half. On restart the schedule is declared again (as every
    // start does); that must keep its pending next_run_at, and only one catch-up run happens.
    now = Date.parse('2024-01-15T09:00:00Z');
    const second = runner(connect(), clock);
    second.work(queue, async (payload, job) => {
      seen.push({ payload, key: job.singletonKey });
    });
    await second.schedule(name, '0 3 * * *', { timezone: 'Europe/Paris', queue, payload: { kind: 'retention' } });
    expect(await second.runDue()).toBe(1);
    expect(await second.runDue()).toBe(0);
    const due2 = Date.parse('2024-01-12T02:00:00Z');
    expect(seen.map((s) => s.key)).toEqual([`${name}:${due1}`, `${name}:${due2}`]);
    const row = await db.db.selectFrom('schedules').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
    expect(Number(row.next_run_at)).toBe(Date.parse('2024-01-16T02:00:00Z'));
    expect(Number(row.last_run_at)).toBe(now);
  });

  it('two processes firing the same due schedule enqueue one job', async () => {
    const now = Date.parse('2024-03-01T00:00:00Z');
    const name = q('shared');
    const queue = q('shared.run');
    const a = runner(connect(), () => now - 3600_000);
    await a.schedule(name, '*/30 * * * *', { queue });
    const b = runner(connect(), () => now + 1);
    const c = runner(connect(), () => now + 1);
    let runs = 0;
    for (const r of [b, c]) {
      r.work(queue, async () => {
        runs++;
      });
    }
    await Promise.all([b.runDue(), c.runDue()]);
    expect(runs).toBe(1);
    const rows = await db.db.selectFrom('jobs').select('singleton_key').where('queue', '=', queue).execute();
    expect(rows).toHaveLength(1);
  });

  it('recomputes next_run_at when the cron changes and refuses an invalid cron', async () => {
    const now = Date.parse('2024-01-10T12:00:00Z');
    const jobs = runner(db, () => now);
    const name = q('changing');
    await jobs.schedule(name, '0 3 * * *', { queue: 'x' });
    await jobs.schedule(name, '0 13 * * *', { queue: 'x' });
    const row = await db.db.selectFrom('schedules').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
    expect(Number(row.next_run_at)).toBe(Date.parse('2024-01-10T13:00:00Z'));
    await expect(jobs.schedule(q('bad'), 'not a cron', { queue: 'x' })).rejects.toThrow();
  });
});

describe('backoff', () => {
  it('doubles per attempt within ±25% and stops growing at the cap', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0.5)).toBe(1000);
    expect(backoffMs(4, 1000, 60_000, () => 0.5)).toBe(8000);
    expect(backoffMs(4, 1000, 60_000, () => 0)).toBe(6000);
    expect(backoffMs(4, 1000, 60_000, () => 0.9999)).toBeLessThanOrEqual(10_000);
    expect(backoffMs(30, 1000, 60_000, () => 0.5)).toBe(60_000);
  });
});
