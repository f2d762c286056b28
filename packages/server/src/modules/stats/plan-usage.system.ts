/**
 * System path: the plan-usage job's one read across orgs. The hourly `plans.usage` pass has no request
 * and so no caller; it counts each org's events against that org's plan, so it needs every org, and the
 * ids come from the hub's own `orgs` table, never from a client. This is where they become `OrgId`s;
 * each org's count and notices then go through its own scope (plan-usage.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';

export async function everyOrg(db: Kysely<Database>): Promise<OrgId[]> {
  const orgs = await db.selectFrom('orgs').select('id').orderBy('id').execute();
  return orgs.map((o) => trustedOrgId(o.id));
}
