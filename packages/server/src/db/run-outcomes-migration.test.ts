/**
 * Migration 017 over a populated database of the version before it: failed runs already counted whose
 * error says a policy refusal or a pause get their rollup hour's blocked/paused count and an outcome in
 * their `counted` snapshot (so enrichment later takes out what is in the rollup); every other run and
 * rollup is left as it was.
 */
import { expect, it } from 'vitest';
import { migrationDatabase } from '../testing/migration-db.ts';
import { bareOrgRow } from '../testing/test-db.ts';

const THIS = '017-run-outcomes';
const HOUR = 3_600_000;
const hour = 500 * HOUR;

const m = migrationDatabase(THIS);

it('backfills the blocked and paused runs already counted, and nothing else', async () => {
  await m.toPrevious();
  const x = m.db.db;
  await x
    .insertInto('orgs')
    .values(bareOrgRow('org_a', 'a') as never)
    .execute();
  const run = (id: string, status: string, error: unknown, counted: boolean) => ({
    org_id: 'org_a',
    id,
    agent_id: 'agt_1',
    status,
    started_at: hour + 60_000,
    ended_at: hour + 61_000,
    environment: 'prod',
    error: error === undefined ? null : JSON.stringify(error),
    metadata: '{}',
    tags: '[]',
    counted: counted ? JSON.stringify({ agent: 'agt_1', started: hour + 60_000, status, latency: 1000 }) : null,
    dirty: counted ? 0 : 1,
    created_at: 1,
    updated_at: 1,
  });
  await x
    .insertInto('runs')
    .values([
      run('r-blocked', 'failed', { name: 'PolicyBlockedError', message: 'no' }, true),
      run('r-paused', 'failed', { name: 'AgentPausedError', message: 'kill switch' }, true),
      run('r-failed', 'failed', { name: 'TypeError', message: 'Blocked somewhere' }, true),
      run('r-done', 'completed', undefined, true),
      // Not counted yet: enrichment will count it with its outcome; the migration leaves it alone.
      run('r-new', 'failed', { name: 'ToolBlockedError', message: 'no' }, false),
    ] as never)
    .execute();
  await x
    .insertInto('rollups_hourly')
    .values({ org_id: 'org_a', agent_id: 'agt_1', hour, model: '', runs: 4, completed: 1, failed: 3 } as never)
    .execute();

  expect(await m.toThis()).toEqual([THIS]);

  const rollup = await x
    .selectFrom('rollups_hourly')
    .select(['runs', 'completed', 'failed', 'blocked', 'paused'])
    .executeTakeFirstOrThrow();
  expect(Object.fromEntries(Object.entries(rollup).map(([k, v]) => [k, Number(v)]))).toEqual({
    runs: 4,
    completed: 1,
    failed: 3,
    blocked: 1,
    paused: 1,
  });
  const counted = new Map(
    (await x.selectFrom('runs').select(['id', 'counted']).execute()).map((r) => [
      r.id,
      r.counted ? (JSON.parse(r.counted) as { status: string }).status : null,
    ]),
  );
  expect(Object.fromEntries(counted)).toEqual({
    'r-blocked': 'blocked',
    'r-paused': 'paused',
    'r-failed': 'failed',
    'r-done': 'completed',
    'r-new': null,
  });
});
