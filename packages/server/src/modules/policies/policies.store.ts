/** SQL for policies and their versions; every query goes through `orgScope`, which adds the org. */
import type { Kysely, Selectable } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database, PoliciesTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export type PolicyRow = Selectable<PoliciesTable>;

export function createPolicyStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        list: () => scope.selectFrom('policies').selectAll().orderBy('priority', 'desc').orderBy('id').execute(),
        active: () => scope.selectFrom('policies').selectAll().where('status', '=', 'active').execute(),
        get: (id: string) => scope.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst(),
        insert: (row: Omit<PoliciesTable, 'org_id' | 'hit_count'>) => scope.insertInto('policies', row).execute(),
        count: () => scope.count('policies'),
        update: (id: string, patch: Partial<Omit<PoliciesTable, 'org_id' | 'hit_count'>>) =>
          scope.updateTable('policies').set(patch).where('id', '=', id).execute(),
        remove: (id: string) => scope.deleteFrom('policies').where('id', '=', id).execute(),
        /** Adds counted hits (advisory: written every few seconds by the evaluator, off the hot path). */
        addHits: (id: string, n: number, at: number) =>
          scope
            .updateTable('policies')
            .set((eb) => ({ hit_count: eb('hit_count', '+', n), last_hit_at: at }))
            .where('id', '=', id)
            .execute(),
        addVersion: (
          policyId: string,
          version: number,
          snapshot: unknown,
          change: string,
          by: string | null,
          at: number,
        ) =>
          scope
            .insertInto('policy_versions', {
              policy_id: policyId,
              version,
              snapshot: JSON.stringify(snapshot),
              change,
              changed_by: by,
              changed_at: at,
            })
            .execute(),
        versions: (policyId: string) =>
          scope
            .selectFrom('policy_versions')
            .selectAll()
            .where('policy_id', '=', policyId)
            .orderBy('version', 'desc')
            .execute(),
        version: (policyId: string, version: number) =>
          scope
            .selectFrom('policy_versions')
            .selectAll()
            .where('policy_id', '=', policyId)
            .where('version', '=', version)
            .executeTakeFirst(),
      };
    },
  };
}
export type PolicyStore = ReturnType<typeof createPolicyStore>;
