/**
 * Runs by hand are limited per org and hour (MANUAL_RUNS_PER_HOUR): each renders a PDF in the request
 * and is kept in the database, so the general rate limit would let one org spend the hub's CPU and
 * storage on them. The attack: an org at the limit asks for one more run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedOrgId } from '../../platform/caller.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { MANUAL_RUNS_PER_HOUR } from './reports.service.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

async function report(a: SeededOrg) {
  const r = await t.request('POST', '/v1/reports', {
    auth: a.apiKey,
    body: { name: 'Ops weekly', template: 'weekly_summary' },
  });
  expect(r.status, r.text).toBe(201);
  return String(r.body.id);
}
const runNow = (a: SeededOrg, id: string) =>
  t.request('POST', `/v1/reports/${id}/run`, { auth: a.apiKey, body: { deliver: false } });

/** Copies the kept run `runId` until the org has `total` manual runs, all made at `at`. */
async function fillRuns(a: SeededOrg, runId: string, total: number, at: number) {
  const db = t.hub.ctx.db.db;
  const row = await db.selectFrom('report_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
  const copies = Array.from({ length: total - 1 }, (_, i) => ({ ...row, id: `${runId}c${i}`, created_at: at }));
  await db.insertInto('report_runs').values(copies).execute();
  expect(
    Number(
      (
        await db
          .selectFrom('report_runs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('org_id', '=', trustedOrgId(a.org.id))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  ).toBe(total);
}

describe('runs by hand', () => {
  it(`the run past ${MANUAL_RUNS_PER_HOUR} in an hour is refused with 429 and Retry-After; an hour later it runs`, async () => {
    const a = await report2(); // a.org: the seeded org; a.id: its report
    const first = await runNow(a.org, a.id);
    expect(first.status, first.text).toBe(201);
    const at = Date.now() - 10 * 60_000; // the other runs were made ten minutes ago
    await fillRuns(a.org, String(first.body.id), MANUAL_RUNS_PER_HOUR, at);

    const refused = await runNow(a.org, a.id);
    expect(refused.status).toBe(429);
    expect(refused.body.code ?? refused.body.type).toMatch(/rate_limited/);
    expect(refused.body.detail).toContain(`at most ${MANUAL_RUNS_PER_HOUR} times an hour`);
    // The oldest runs in the window were made ten minutes ago: the window frees up in fifty minutes.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(49 * 60);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(50 * 60);

    // Another org is not affected.
    const b = await report2();
    expect((await runNow(b.org, b.id)).status).toBe(201);

    // Once the runs are over an hour old, running by hand works again.
    await t.hub.ctx.db.db
      .updateTable('report_runs')
      .set({ created_at: Date.now() - 61 * 60_000 })
      .where('org_id', '=', trustedOrgId(a.org.org.id))
      .execute();
    const again = await runNow(a.org, a.id);
    expect(again.status, again.text).toBe(201);
  });
});

async function report2() {
  const org = await t.seedOrg();
  return { org, id: await report(org) };
}
