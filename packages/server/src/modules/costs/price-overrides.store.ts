/** SQL for an org's price overrides; every query is scoped to one org by `forOrg`. */
import type { Kysely, Transaction } from 'kysely';
import type { Database, PriceOverridesTable } from '../../db/schema.ts';

export type { PriceOverridesTable };

import type { OrgId } from '../../platform/caller.ts';

type Exec = Kysely<Database> | Transaction<Database>;

export function createPriceOverrideStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, execIn: Exec = db) {
      const exec = execIn;
      return {
        list: () =>
          exec.selectFrom('price_overrides').selectAll().where('org_id', '=', orgId).orderBy('id', 'asc').execute(),
        find: (id: string) =>
          exec
            .selectFrom('price_overrides')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('id', '=', id)
            .executeTakeFirst(),
        count: async () =>
          Number(
            (
              await exec
                .selectFrom('price_overrides')
                .select((eb) => eb.fn.countAll().as('n'))
                .where('org_id', '=', orgId)
                .executeTakeFirstOrThrow()
            ).n,
          ),
        insert: (row: Omit<PriceOverridesTable, 'org_id'>) =>
          exec
            .insertInto('price_overrides')
            .values({ ...row, org_id: orgId })
            .execute(),
        remove: (id: string) =>
          exec.deleteFrom('price_overrides').where('org_id', '=', orgId).where('id', '=', id).execute(),
      };
    },
  };
}
export type PriceOverrideStore = ReturnType<typeof createPriceOverrideStore>;
