/**
 * System path, part of authentication: an API key finds its org by the hash of the key itself, before
 * there is any caller, so this read spans every org on purpose. The org it returns is the key's own,
 * and it becomes the caller's `OrgId` here.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { trustedOrgId } from '../caller.ts';

export async function keyByHash(db: Kysely<Database>, hash: string) {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('orgs', 'orgs.id', 'api_keys.org_id')
    .select([
      'api_keys.id',
      'api_keys.org_id',
      'api_keys.name',
      'api_keys.scopes',
      'api_keys.expires_at',
      'api_keys.revoked_at',
      'api_keys.last_used_at',
      'api_keys.agent_ids',
      'orgs.name as org_name',
    ])
    .where('api_keys.key_hash', '=', hash)
    .executeTakeFirst();
  return row && { ...row, org_id: trustedOrgId(row.org_id) };
}
