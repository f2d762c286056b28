/**
 * System path: every org, for the jobs that look at each org in turn (retention, plan usage, policy
 * violations). They run from the job runner's timer with no request and so no caller; the ids come from
 * the hub's own `orgs` table, never from a client, so this is where they become `OrgId`s. Each job's work
 * for an org then goes through that org's own scope. The orgs module owns the table, so the read is here.
 */
import type { Exec } from '../../db/org-scope.ts';
import { type OrgId, trustedOrgId } from '../caller.ts';

/** Every org's id, in id order (a stable order keeps a job's passes comparable from one run to the next). */
export async function everyOrg(db: Exec): Promise<OrgId[]> {
  const orgs = await db.selectFrom('orgs').select('id').orderBy('id').execute();
  return orgs.map((o) => trustedOrgId(o.id));
}
