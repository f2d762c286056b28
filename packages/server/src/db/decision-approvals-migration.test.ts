/**
 * Migration 020 over a populated database of the version before it: every decision that names an
 * approval gets that approval's stored status and expiry (the approval of its own org only); decisions
 * without one keep nulls. And the outcome update finds a decision's approval through the new index.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrationDatabase } from '../testing/migration-db.ts';
import { bareOrgRow } from '../testing/test-db.ts';

const THIS = '020-decision-approvals';

const m = migrationDatabase(THIS);

it('copies each decision’s approval status and expiry from its approval, and nothing else', async () => {
  await m.toPrevious();
  const x = m.db.db;
  for (const id of ['org_a', 'org_b'])
    await x
      .insertInto('orgs')
      .values(bareOrgRow(id) as never)
      .execute();
  const decision = (org: string, id: string, verdict: string, approvalId: string | null) => ({
    id,
    org_id: org,
    agent_id: 'agt_1',
    run_id: null,
    action_type: 'refund',
    action: '{}',
    context: '{}',
    decision: verdict,
    reasons: '[]',
    monitors: '[]',
    approval_id: approvalId,
    idempotency_key: null,
    latency_us: 1,
    created_at: 1000,
  });
  const approval = (org: string, id: string, decisionId: string, status: string, expiresAt: number) => ({
    id,
    org_id: org,
    policy_id: null,
    agent_id: 'agt_1',
    run_id: null,
    decision_id: decisionId,
    action: '{}',
    action_hash: 'h',
    status,
    approvers: '{}',
    message: null,
    requested_at: 1000,
    expires_at: expiresAt,
    decided_at: null,
    decided_by: null,
    comment: null,
    used_at: null,
  });
  // Decisions first: on PostgreSQL an approval names its decision (checked at commit).
  await x
    .insertInto('decisions')
    .values([
      decision('org_a', 'dec_wait', 'REQUIRE_APPROVAL', 'apr_wait'),
      decision('org_a', 'dec_wait_again', 'REQUIRE_APPROVAL', 'apr_wait'),
      decision('org_a', 'dec_ok', 'REQUIRE_APPROVAL', 'apr_ok'),
      decision('org_a', 'dec_used', 'ALLOW', 'apr_ok'),
      decision('org_a', 'dec_no', 'REQUIRE_APPROVAL', 'apr_no'),
      decision('org_a', 'dec_late', 'REQUIRE_APPROVAL', 'apr_late'),
      decision('org_a', 'dec_plain', 'ALLOW', null),
      // Names an approval id that exists only in another org: stays without an outcome.
      decision('org_a', 'dec_foreign', 'REQUIRE_APPROVAL', 'apr_b'),
      decision('org_b', 'dec_b', 'REQUIRE_APPROVAL', 'apr_b'),
    ] as never)
    .execute();
  await x
    .insertInto('approvals')
    .values([
      approval('org_a', 'apr_wait', 'dec_wait', 'pending', 5000),
      approval('org_a', 'apr_ok', 'dec_ok', 'approved', 6000),
      approval('org_a', 'apr_no', 'dec_no', 'rejected', 7000),
      approval('org_a', 'apr_late', 'dec_late', 'expired', 8000),
      approval('org_b', 'apr_b', 'dec_b', 'rejected', 9000),
    ] as never)
    .execute();

  expect(await m.toThis()).toEqual([THIS]);

  const rows = await x
    .selectFrom('decisions')
    .select(['id', 'approval_status', 'approval_expires_at'])
    .orderBy('id')
    .execute();
  expect(
    Object.fromEntries(
      rows.map((r) => [
        r.id,
        [r.approval_status, r.approval_expires_at === null ? null : Number(r.approval_expires_at)],
      ]),
    ),
  ).toEqual({
    dec_b: ['rejected', 9000],
    dec_foreign: [null, null],
    dec_late: ['expired', 8000],
    dec_no: ['rejected', 7000],
    dec_ok: ['approved', 6000],
    dec_plain: [null, null],
    dec_used: ['approved', 6000],
    dec_wait: ['pending', 5000],
    dec_wait_again: ['pending', 5000],
  });
});

it('finds the decisions of one approval through an index that holds only decisions naming one', async () => {
  if (m.db.dialect === 'sqlite') {
    const plan = m.db
      .sqlite!.prepare(
        "explain query plan update decisions set approval_status = 'approved' where org_id = ? and approval_id = ?",
      )
      .all('org_a', 'apr_ok') as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toContain(
      'USING INDEX decisions_approval (org_id=? AND approval_id=?)',
    );
    return;
  }
  // PostgreSQL plans by statistics, so a small table proves nothing: check the index itself.
  const r = await sql<{ indexdef: string }>`
    select indexdef from pg_indexes where tablename = 'decisions' and indexname = 'decisions_approval'`.execute(
    m.db.db,
  );
  expect(r.rows[0]?.indexdef).toMatch(/\(org_id, approval_id\) WHERE \(approval_id IS NOT NULL\)/);
});
