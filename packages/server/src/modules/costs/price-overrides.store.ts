/** SQL for an org's price overrides; every query is scoped to one org by `forOrg`. */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database, PriceOverridesTable } from '../../db/schema.ts';

export type { PriceOverridesTable };

import type { OrgId } from '../../platform/caller.ts';

export function createPriceOverrideStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        list: () => scope.selectFrom('price_overrides').selectAll().orderBy('id', 'asc').execute(),
        find: (id: string) => scope.selectFrom('price_overrides').selectAll().where('id', '=', id).executeTakeFirst(),
        count: () => scope.count('price_overrides'),
        insert: (row: Omit<PriceOverridesTable, 'org_id'>) => scope.insertInto('price_overrides', row).execute(),
        remove: (id: string) => scope.deleteFrom('price_overrides').where('id', '=', id).execute(),
      };
    },
  };
}
export type PriceOverrideStore = ReturnType<typeof createPriceOverrideStore>;
