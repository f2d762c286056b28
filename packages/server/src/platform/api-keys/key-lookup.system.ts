/**
 * System path, part of authentication: an API key finds its org by the hash of the key itself, before
 * there is any caller, so this read spans every org on purpose. The org it returns is the key's own,
 * and it becomes the caller's `OrgId` here.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { trustedOrgId } from '../caller.ts';
import { createOrgStore } from '../orgs/orgs.store.ts';

/**
 * The key and its org's name. Two reads (the org's through the orgs store, which owns the table) on a
 * cache miss only: authentication answers from the key cache otherwise.
 */
export async function keyByHash(db: Kysely<Database>, hash: string) {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'org_id', 'name', 'scopes', 'expires_at', 'revoked_at', 'last_used_at', 'agent_ids'])
    .where('key_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return undefined;
  const orgId = trustedOrgId(row.org_id);
  // The org goes with its keys (ON DELETE CASCADE), so a key found here has an org.
  const org = await createOrgStore(db).forOrg(orgId).getOrg();
  return org && { ...row, org_id: orgId, org_name: org.name };
}
