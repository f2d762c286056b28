/** SQL for policies and their versions; every query is scoped to one org by `forOrg`. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, PoliciesTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

type Exec = Kysely<Database> | Transaction<Database>;
export type PolicyRow = Selectable<PoliciesTable>;

export function createPolicyStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      return {
        list: () =>
          exec
            .selectFrom('policies')
            .selectAll()
            .where('org_id', '=', orgId)
            .orderBy('priority', 'desc')
            .orderBy('id')
            .execute(),
        active: () =>
          exec.selectFrom('policies').selectAll().where('org_id', '=', orgId).where('status', '=', 'active').execute(),
        get: (id: string) =>
          exec.selectFrom('policies').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst(),
        insert: (row: Omit<PoliciesTable, 'org_id' | 'hit_count'>) =>
          exec
            .insertInto('policies')
            .values({ ...row, org_id: orgId })
            .execute(),
        update: (id: string, patch: Partial<Omit<PoliciesTable, 'hit_count'>>) =>
          exec.updateTable('policies').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute(),
        remove: (id: string) => exec.deleteFrom('policies').where('org_id', '=', orgId).where('id', '=', id).execute(),
        addVersion: (
          policyId: string,
          version: number,
          snapshot: unknown,
          change: string,
          by: string | null,
          at: number,
        ) =>
          exec
            .insertInto('policy_versions')
            .values({
              org_id: orgId,
              policy_id: policyId,
              version,
              snapshot: JSON.stringify(snapshot),
              change,
              changed_by: by,
              changed_at: at,
            })
            .execute(),
        versions: (policyId: string) =>
          exec
            .selectFrom('policy_versions')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('policy_id', '=', policyId)
            .orderBy('version', 'desc')
            .execute(),
        version: (policyId: string, version: number) =>
          exec
            .selectFrom('policy_versions')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('policy_id', '=', policyId)
            .where('version', '=', version)
            .executeTakeFirst(),
      };
    },
  };
}
export type PolicyStore = ReturnType<typeof createPolicyStore>;
