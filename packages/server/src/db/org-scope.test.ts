/**
 * `orgScope` on a real database: a scoped read, update and delete never reach another org's rows, an
 * insert is stamped with the scope's org, and an aliased table (`'agents as a'`) is scoped by its alias,
 * joins kept in one org by `sameOrg`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trustedOrgId } from '../platform/caller.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';
import { orgScope } from './org-scope.ts';

let t: TestHub;
let a: SeededOrg;
let b: SeededOrg;
beforeAll(async () => {
  t = await createTestHub();
  [a, b] = [await t.seedOrg(), await t.seedOrg()];
  for (const seed of [a, b])
    for (const name of ['one', 'two']) {
      const res = await t.request('POST', '/v1/agents', {
        auth: seed.apiKey,
        body: { name, type: 'support', environment: 'prod' },
      });
      expect(res.status).toBe(201);
    }
});
afterAll(async () => t?.close());

const scopeOf = (seed: SeededOrg) => orgScope(t.hub.ctx.db.db, trustedOrgId(seed.org.id));

it('reads only its org, by table or by alias', async () => {
  const plain = await scopeOf(a).selectFrom('agents').select(['org_id', 'name']).execute();
  expect(plain.map((r) => r.org_id)).toEqual([a.org.id, a.org.id]);
  const aliased = await scopeOf(a).selectFrom('agents as g').select(['g.org_id', 'g.name']).execute();
  expect(aliased.map((r) => r.org_id)).toEqual([a.org.id, a.org.id]);
});

it('keeps a self-join in one org with sameOrg on aliases', async () => {
  const s = scopeOf(a);
  // Both orgs have agents named "one" and "two": without sameOrg, b's rows would join in.
  const pairs = await s
    .selectFrom('agents as x')
    .innerJoin('agents as y', (j) => j.onRef('y.name', '!=', 'x.name').on(s.sameOrg('x', 'y')))
    .select(['x.name as left', 'y.org_id as right_org'])
    .execute();
  expect(pairs).toHaveLength(2);
  expect(new Set(pairs.map((p) => p.right_org))).toEqual(new Set([a.org.id]));
});

it('updates and deletes only its org, and stamps inserts with it', async () => {
  const now = Date.now();
  const r = await scopeOf(b).updateTable('agents').set({ description: 'touched by b', updated_at: now }).execute();
  expect(Number(r[0]?.numUpdatedRows)).toBe(2);
  const touched = await t.hub.ctx.db.db
    .selectFrom('agents')
    .select('org_id')
    .where('description', '=', 'touched by b')
    .execute();
  expect(touched.map((x) => x.org_id)).toEqual([b.org.id, b.org.id]);

  await scopeOf(a)
    .insertInto('teams', { id: `team_scope_${now}`, name: 'scoped', description: '', created_at: now })
    .execute();
  const team = await t.hub.ctx.db.db
    .selectFrom('teams')
    .select('org_id')
    .where('id', '=', `team_scope_${now}`)
    .executeTakeFirstOrThrow();
  expect(team.org_id).toBe(a.org.id);
  const gone = await scopeOf(b).deleteFrom('teams').where('id', '=', `team_scope_${now}`).executeTakeFirst();
  expect(Number(gone.numDeletedRows)).toBe(0);
});
