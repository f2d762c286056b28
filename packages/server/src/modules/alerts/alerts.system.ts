/**
 * System path: the alerts jobs' reads across orgs. The evaluation pass and the policy-violation pass run
 * from the job runner's timer, with no request and so no caller; the orgs they work for come from the
 * hub's own rows (an alert rule's `org_id`, which the rule service wrote from its caller's `OrgId`; the
 * policy-violation pass's list of every org comes from the orgs module's `everyOrg`), never from a client.
 * So this is the one place the alerts module turns an org id into an `OrgId`; all work for a rule or an
 * org then goes through that org's own scope.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';
import type { RuleRow } from './alerts.store.ts';

/** An enabled rule with the org it belongs to, for the evaluation pass. */
export interface OrgRule {
  orgId: OrgId;
  row: RuleRow;
}

/** The enabled rules of every org, in id order. */
export async function enabledRulesOfEveryOrg(db: Kysely<Database>): Promise<OrgRule[]> {
  const rows = await db.selectFrom('alert_rules').selectAll().where('enabled', '=', 1).orderBy('id').execute();
  return rows.map((row) => ({ orgId: trustedOrgId(row.org_id), row }));
}
