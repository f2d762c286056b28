import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createSharedWindowCounter } from './shared-window-counter.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WINDOW_MS = 60_000;
const clients: Redis[] = [];
/** One hub process's counter, on its own Redis connection. */
function processCounter(syncMs = 20) {
  const redis = new Redis(REDIS_URL);
  clients.push(redis);
  return createSharedWindowCounter(redis, { windowMs: WINDOW_MS, syncMs });
}
afterAll(() => {
  for (const c of clients) c.disconnect();
});
const stored = async (key: string) => {
  const redis = new Redis(REDIS_URL);
  try {
    const window = Math.floor(Date.now() / WINDOW_MS);
    return { n: Number(await redis.get(`hub-rl:${key}:${window}`)), ttl: await redis.pttl(`hub-rl:${key}:${window}`) };
  } finally {
    redis.disconnect();
  }
};

describe('rate-limit counts shared through Redis, in memory while far from the limit', () => {
  it('far from the limit: answered at once, and the cluster total reaches Redis with the next sync', async () => {
    const counter = processCounter();
    const key = `far-${randomUUID()}`;
    const counts = Array.from({ length: 50 }, () => counter.count(key, 100_000));
    expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1)); // numbers, not promises
    expect((await stored(key)).n).toBe(0); // nothing sent yet
    await new Promise((r) => setTimeout(r, 80));
    const s = await stored(key);
    expect(s.n).toBe(50);
    expect(s.ttl).toBeGreaterThan(0);
    expect(s.ttl).toBeLessThanOrEqual(WINDOW_MS + 1000);
  });

  it('a small limit is exact across processes: three processes let through exactly the limit', async () => {
    const processes = [processCounter(), processCounter(), processCounter()];
    const key = `small-${randomUUID()}`;
    const counts: number[] = [];
    for (let i = 0; i < 60; i++) counts.push(await processes[i % 3]!.count(key, 20));
    expect(counts.filter((n) => n <= 20)).toHaveLength(20);
    expect((await stored(key)).n).toBe(60);
  });

  it('near a large limit, hits go to Redis: three processes in a burst pass it by at most 1% each', async () => {
    const processes = [processCounter(1000), processCounter(1000), processCounter(1000)];
    const key = `large-${randomUUID()}`;
    const limit = 1000;
    let allowed = 0;
    let local = 0;
    for (let i = 0; i < 1500; i++) {
      const n = processes[i % 3]!.count(key, limit);
      if (typeof n === 'number') local++;
      if ((await n) <= limit) allowed++;
    }
    // Counted locally only below half the limit, never more than 1% of it unsent per process.
    expect(local).toBeGreaterThan(0);
    expect(local).toBeLessThanOrEqual(limit / 2);
    expect(allowed).toBeGreaterThanOrEqual(limit);
    expect(allowed).toBeLessThanOrEqual(limit + 3 * 10);
    for (const p of processes) p.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect((await stored(key)).n).toBe(1500);
  });

  it('flush sends the unsent hits and settles once Redis has them (a closing hub awaits it)', async () => {
    const counter = processCounter(60_000);
    const key = `flush-${randomUUID()}`;
    for (let i = 0; i < 7; i++) counter.count(key, 100_000);
    await counter.flush();
    expect((await stored(key)).n).toBe(7);
    await counter.flush(); // nothing unsent: nothing sent again
    expect((await stored(key)).n).toBe(7);
  });

  it("a new window sends the last one's unsent hits once, under the last window's key", async () => {
    let at = 7 * WINDOW_MS + 1000;
    const redis = new Redis(REDIS_URL);
    clients.push(redis);
    const counter = createSharedWindowCounter(redis, { windowMs: WINDOW_MS, syncMs: 20, now: () => at });
    const key = `roll-${randomUUID()}`;
    for (let i = 0; i < 5; i++) counter.count(key, 100_000);
    at += WINDOW_MS;
    expect(counter.count(key, 100_000)).toBe(1);
    counter.count(key, 100_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(Number(await redis.get(`hub-rl:${key}:7`))).toBe(5);
    expect(Number(await redis.get(`hub-rl:${key}:8`))).toBe(2);
  });
});
