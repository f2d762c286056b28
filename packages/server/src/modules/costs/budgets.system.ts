/**
 * System path: the budget enforcer's cross-org sweeps. These queries read every org's budgets and
 * threshold crossings on purpose (the enforcer runs for the whole hub, not for one caller), so they do
 * not go through `orgScope`. Each row comes back with its `org_id` as an `OrgId`: the row is the org's
 * own, so the enforcer may act for that org (notify, pause its agents) as the system.
 */
import type { Kysely } from 'kysely';
import type { Exec } from '../../db/org-scope.ts';
import type { BudgetCrossingsTable, BudgetsTable, Database } from '../../db/schema.ts';
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';

export type SweptBudget = Omit<BudgetsTable, 'org_id'> & { org_id: OrgId };
export type SweptCrossing = Omit<BudgetCrossingsTable, 'org_id'> & { org_id: OrgId };

const owned = <R extends { org_id: string }>(r: R) => ({ ...r, org_id: trustedOrgId(r.org_id) });

/**
 * The orgs a sweep was asked to look at: ids of orgs whose events were just priced (read back from
 * their stored rows by enrichment) or whose budgets just changed (a committed change).
 */
export const sweepOrgs = (ids: Iterable<string>) => new Set<OrgId>([...ids].map(trustedOrgId));

export function budgetSweeps(db: Kysely<Database>, exec: Exec = db) {
  return {
    pendingCrossings: async (limit: number): Promise<SweptCrossing[]> =>
      (
        await exec
          .selectFrom('budget_crossings')
          .selectAll()
          .where('notified_at', 'is', null)
          .orderBy('created_at')
          .orderBy('id')
          .limit(limit)
          .execute()
      ).map(owned),
    /** Claims a crossing; true for exactly one caller across processes (its id is unique hub-wide). */
    claimCrossing: async (id: string, now: number) =>
      Number(
        (
          await exec
            .updateTable('budget_crossings')
            .set({ notified_at: now })
            .where('id', '=', id)
            .where('notified_at', 'is', null)
            .executeTakeFirst()
        ).numUpdatedRows,
      ) === 1,
    /** Budgets that act on their agents (throttle or pause), or still do. */
    enforcing: async (): Promise<SweptBudget[]> =>
      (
        await exec
          .selectFrom('budgets')
          .selectAll()
          .where((eb) => eb.or([eb('on_exceed', '!=', 'notify'), eb('enforced_period', 'is not', null)]))
          .execute()
      ).map(owned),
  };
}
