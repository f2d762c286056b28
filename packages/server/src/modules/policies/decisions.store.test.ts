/**
 * The grouped write of plain decisions at its largest: more rows in one tick than one PostgreSQL
 * statement can carry (65,535 parameters: 4,681 rows of 14 columns) are all written, every caller told.
 */
import { beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/database.ts';
import { migrateHub } from '../../db/migrate.ts';
import type { OrgId } from '../../platform/caller.ts';
import { fileDatabase } from '../../testing/file-db.ts';
import { bareOrgRow } from '../../testing/test-db.ts';
import { createDecisionStore } from './decisions.store.ts';

const file = fileDatabase();
let db: Db;
beforeAll(async () => {
  db = file.db;
  await migrateHub(db);
  await db.db
    .insertInto('orgs')
    .values(bareOrgRow('org_many', 'Many') as never)
    .execute();
});

it('writes 6,000 decisions submitted in one tick, in batches each database can take', async () => {
  const store = createDecisionStore(db.db, db.sqlite);
  const N = 6000;
  const results = await Promise.all(
    Array.from(
      { length: N },
      (_, i) =>
        new Promise<unknown>((resolve) =>
          store.submit(
            {
              id: `dec_many_${i}`,
              org_id: 'org_many' as OrgId,
              agent_id: 'agt_x',
              run_id: null,
              action_type: 'lookup',
              action: '{"type":"lookup"}',
              context: '{}',
              decision: 'ALLOW',
              reasons: '[]',
              monitors: '[]',
              approval_id: null,
              idempotency_key: null,
              latency_us: 1,
              created_at: i,
            },
            resolve,
          ),
        ),
    ),
  );
  expect(results.filter((e) => e !== undefined)).toEqual([]);
  const { n } = await db.db
    .selectFrom('decisions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  expect(Number(n)).toBe(N);
});
