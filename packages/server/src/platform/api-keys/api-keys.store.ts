/**
 * SQL for API keys. Org-scoped except two reads that are cross-org on purpose: `findByHash`, which is
 * how a key finds its org (authentication, before there is an org: key-lookup.system.ts), and
 * `agentIdsOf`, which reads a key's binding by its id (the id comes from an authenticated caller; ids
 * are unique hub-wide).
 */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { ApiKeysTable, Database } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';
import { keyByHash } from './key-lookup.system.ts';

export function createApiKeyStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        insert: (row: Omit<ApiKeysTable, 'org_id'>) => scope.insertInto('api_keys', row).execute(),
        /** Keys not revoked: revoked ones are kept for the audit trail and do not count against the cap. */
        countActive: () => scope.count('api_keys', (q) => q.where('revoked_at', 'is', null)),
        list: () => scope.selectFrom('api_keys').selectAll().orderBy('id', 'desc').execute(),
        get: (id: string) => scope.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst(),
        /** Every key's hash (org deletion evicts them from the key caches). */
        keyHashes: async () => (await scope.selectFrom('api_keys').select('key_hash').execute()).map((k) => k.key_hash),
        revoke: (id: string, at: number) =>
          scope
            .updateTable('api_keys')
            .set({ revoked_at: at })
            .where('id', '=', id)
            .where('revoked_at', 'is', null)
            .execute(),
        /** Records when the key was last used (the key authenticated as this org). */
        touch: (id: string, at: number) =>
          scope.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute(),
      };
    },
    /** The authentication path: a key names its own org. */
    findByHash: (hash: string) => keyByHash(db, hash),
    /** The key's `agent_ids` JSON (null: unbound); undefined when there is no such key. */
    agentIdsOf: async (id: string) => {
      const row = await db.selectFrom('api_keys').select('agent_ids').where('id', '=', id).executeTakeFirst();
      return row ? (row.agent_ids ?? null) : undefined;
    },
  };
}
export type ApiKeyStore = ReturnType<typeof createApiKeyStore>;
