/**
 * The retention job's one cross-org read: every org, so the daily pass can archive each by its own
 * plan. A reviewed system path: the org ids are minted here (`trustedOrgId`), and each org's pass then
 * goes through its own scope (retention.ts).
 */
import type { Exec } from '../../db/org-scope.ts';
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';

export async function everyOrg(db: Exec): Promise<OrgId[]> {
  const orgs = await db.selectFrom('orgs').select('id').execute();
  return orgs.map((o) => trustedOrgId(o.id));
}
