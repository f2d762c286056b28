/**
 * Migration 019: a child row that names a parent is tied to it within its org. On both databases a
 * row naming another org's parent is refused by the database itself (PostgreSQL: composite foreign keys;
 * SQLite: triggers), the API answers 404 before that, and the migration runs over a populated database
 * of the previous version, keeping every row, including a cross-org row written before it existed.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationDatabase } from '../testing/migration-db.ts';
import { bareOrgRow, testDialect } from '../testing/test-db.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';

const THIS = '019-org-composite-keys';
const refused = /foreign key|violates|names no/i;

describe('through the app', () => {
  let t: TestHub;
  let a: SeededOrg;
  let b: SeededOrg;
  beforeAll(async () => {
    t = await createTestHub();
    [a, b] = [await t.seedOrg(), await t.seedOrg()];
  });
  afterAll(async () => t?.close());

  const db = () => t.hub.ctx.db.db;
  const memberOf = async (org: SeededOrg) =>
    (await db().selectFrom('members').select('id').where('org_id', '=', org.org.id).executeTakeFirstOrThrow()).id;

  it('refuses a team member from another org: 404 from the API, and the database refuses the row', async () => {
    const team = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'ops' } });
    expect(team.status).toBe(201);
    const theirs = await memberOf(b);
    const res = await t.request('POST', `/v1/teams/${team.body.id}/members`, {
      auth: a.apiKey,
      body: { member_id: theirs },
    });
    expect(res.status).toBe(404);
    // The store would have written this row had the service not checked: the database refuses it too.
    await expect(
      db().insertInto('team_members').values({ org_id: a.org.id, team_id: team.body.id, member_id: theirs }).execute(),
    ).rejects.toThrow(refused);
    // Moving a row to another org is refused as well (the update trigger / the key on both columns).
    const mine = await memberOf(a);
    await db()
      .insertInto('team_members')
      .values({ org_id: a.org.id, team_id: team.body.id, member_id: mine })
      .execute();
    await expect(
      db().updateTable('team_members').set({ org_id: b.org.id }).where('team_id', '=', team.body.id).execute(),
    ).rejects.toThrow(refused);
  });

  it("refuses a budget period and a webhook delivery naming another org's parent", async () => {
    const budget = await t.request('POST', '/v1/budgets', {
      auth: a.apiKey,
      body: { name: 'org month', scope: 'org', amount_usd: 10, period: 'month' },
    });
    expect(budget.status).toBe(201);
    await expect(
      db()
        .insertInto('budget_periods')
        .values({ org_id: b.org.id, budget_id: budget.body.id, period_start: 0, spent_nano: 0, reached: '[]' })
        .execute(),
    ).rejects.toThrow(refused);
    await db()
      .insertInto('budget_periods')
      .values({ org_id: a.org.id, budget_id: budget.body.id, period_start: 0, spent_nano: 0, reached: '[]' })
      .execute();

    const hook = await t.request('POST', '/v1/webhooks', {
      auth: a.apiKey,
      body: { url: 'https://example.com/hook', events: ['agent.paused'] },
    });
    expect(hook.status).toBe(201);
    await expect(
      db()
        .insertInto('webhook_deliveries')
        .values({
          id: 'whd_cross',
          org_id: b.org.id,
          webhook_id: hook.body.id,
          event: 'agent.paused',
          payload: '{}',
          status: 'pending',
          attempts: 0,
          created_at: 0,
        })
        .execute(),
    ).rejects.toThrow(refused);
  });

  it("approvals → decisions: refused at commit on PostgreSQL; on SQLite only the approvals module's scoped writes guard it", async () => {
    await db().insertInto('decisions').values(decisionRow('dec_theirs', b.org.id)).execute();
    const cross = db()
      .transaction()
      .execute(async (trx) => {
        await trx
          .insertInto('approvals')
          .values(approvalRow('apr_cross', a.org.id, 'dec_theirs'))
          .execute();
      });
    // SQLite has no deferred trigger and evaluate writes the approval before its decision (docs/ARCHITECTURE.md).
    if (testDialect() === 'postgres') await expect(cross).rejects.toThrow(refused);
    else await expect(cross).resolves.toBeUndefined();
    // Approval first, its decision later in the same transaction: what evaluate does, accepted on both.
    await db()
      .transaction()
      .execute(async (trx) => {
        await trx
          .insertInto('approvals')
          .values(approvalRow('apr_ok', a.org.id, 'dec_mine'))
          .execute();
        await trx.insertInto('decisions').values(decisionRow('dec_mine', a.org.id)).execute();
      });
  });
});

function decisionRow(id: string, orgId: string) {
  return {
    id,
    org_id: orgId,
    agent_id: 'agt_x',
    action_type: 'tool_call',
    action: '{}',
    context: '{}',
    decision: 'REQUIRE_APPROVAL',
    reasons: '[]',
    monitors: '[]',
    latency_us: 1,
    created_at: 1,
  } as never;
}

function approvalRow(id: string, orgId: string, decisionId: string) {
  return {
    id,
    org_id: orgId,
    agent_id: 'agt_x',
    decision_id: decisionId,
    action: '{}',
    action_hash: 'h',
    status: 'pending',
    approvers: '{}',
    requested_at: 1,
    expires_at: 2,
  } as never;
}

describe('over a populated database of the previous version', () => {
  const m = migrationDatabase(THIS);

  it('keeps every row, then refuses new cross-org rows', async () => {
    await m.toPrevious();
    const x = m.db.db;
    await x
      .insertInto('orgs')
      .values([bareOrgRow('org_a'), bareOrgRow('org_b')])
      .execute();
    for (const o of ['a', 'b']) {
      await x
        .insertInto('members')
        .values({ id: `mem_${o}`, org_id: `org_${o}`, user_id: `usr_${o}`, role: 'owner', created_at: 1 } as never)
        .execute();
      await x
        .insertInto('teams')
        .values({ id: `team_${o}`, org_id: `org_${o}`, name: 'ops', description: '', created_at: 1 })
        .execute();
      await x
        .insertInto('team_members')
        .values({ org_id: `org_${o}`, team_id: `team_${o}`, member_id: `mem_${o}` })
        .execute();
      await x
        .insertInto('budgets')
        .values({
          id: `bud_${o}`,
          org_id: `org_${o}`,
          name: 'b',
          scope: 'org',
          scope_id: null,
          amount_nano: 1,
          period: 'month',
          thresholds: '[]',
          on_exceed: 'notify',
          throttle_per_minute: 0,
          enforced_period: null,
          created_at: 1,
          updated_at: 1,
        })
        .execute();
      await x
        .insertInto('budget_periods')
        .values({ org_id: `org_${o}`, budget_id: `bud_${o}`, period_start: 0, spent_nano: 5, reached: '[]' })
        .execute();
      await x
        .insertInto('decisions')
        .values(decisionRow(`dec_${o}`, `org_${o}`))
        .execute();
      await x
        .insertInto('approvals')
        .values(approvalRow(`apr_${o}`, `org_${o}`, `dec_${o}`))
        .execute();
    }
    // A row no API writes but the old single-column keys allowed: org b's membership in org a's team.
    await x.insertInto('team_members').values({ org_id: 'org_b', team_id: 'team_a', member_id: 'mem_b' }).execute();

    expect(await m.toThis()).toEqual([THIS]);

    const count = async (table: 'team_members' | 'budget_periods' | 'approvals') =>
      Number(
        (
          await x
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect([await count('team_members'), await count('budget_periods'), await count('approvals')]).toEqual([3, 2, 2]);

    if (m.db.dialect === 'postgres') {
      // The tie the old row breaks stays NOT VALID (still enforced for new rows); the others are validated.
      const { rows } = await sql<{ name: string; valid: boolean }>`select conname as name, convalidated as valid
        from pg_constraint where conname like '%_org_fk' order by conname`.execute(x);
      expect(rows.filter((r) => !r.valid).map((r) => r.name)).toEqual(['team_members_team_id_org_fk']);
      expect(rows.length).toBe(8);
    }
    await expect(
      x
        .insertInto('budget_periods')
        .values({ org_id: 'org_a', budget_id: 'bud_b', period_start: 1, spent_nano: 0, reached: '[]' })
        .execute(),
    ).rejects.toThrow(refused);
    await expect(
      x.insertInto('team_members').values({ org_id: 'org_a', team_id: 'team_b', member_id: 'mem_a' }).execute(),
    ).rejects.toThrow(refused);
    // Deleting a parent still takes its children (the cascade moved to the composite key on PostgreSQL).
    await x.deleteFrom('budgets').where('id', '=', 'bud_a').execute();
    expect(await count('budget_periods')).toBe(1);
  });
});
