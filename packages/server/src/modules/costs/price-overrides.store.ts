/** SQL for an org's price overrides; every query is scoped to one org by `forOrg`. */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

/**
 * Row of `price_overrides` (migration 003). Prices are integer pico-USD per token.
 * Declared here until schema.ts carries it; then this becomes a re-export.
 */
export interface PriceOverridesTable {
  id: string;
  org_id: string;
  provider: string | null;
  model: string;
  input: number;
  cached_input: number | null;
  cache_write: number | null;
  output: number;
  reasoning: number | null;
  effective_from: number;
  created_by: string | null;
  created_at: number;
}

type PriceDatabase = Database & { price_overrides: PriceOverridesTable };
type Exec = Kysely<Database> | Transaction<Database>;

export function createPriceOverrideStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, execIn: Exec = db) {
      const exec = execIn as unknown as Kysely<PriceDatabase>;
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
