/**
 * SQL for budgets; every query is scoped to one org by `forOrg`. Pass the caller's transaction as `exec`
 * so a budget change and its audit row commit together. `system` is the enforcer's cross-org sweeps
 * (budgets.system.ts).
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { BudgetsTable, Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createOrgStore } from '../../platform/orgs/orgs.store.ts';
import { createAgentStore } from '../agents/index.ts';
import { llmSpend } from '../ingestion/index.ts';
import { budgetSweeps } from './budgets.system.ts';
export type BudgetRow = BudgetsTable;

export function createBudgetStore(db: Kysely<Database>) {
  // A budget's scope names an agent, a team or the org: read through their owners' stores.
  const registry = createAgentStore(db);
  const orgStore = createOrgStore(db);
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const x = orgScope(exec, orgId);
      const agents = registry.forOrg(orgId, exec);
      const org = orgStore.forOrg(orgId, exec);
      return {
        list: () => x.selectFrom('budgets').selectAll().orderBy('created_at').execute(),
        get: (id: string) => x.selectFrom('budgets').selectAll().where('id', '=', id).executeTakeFirst(),
        insert: (row: Omit<BudgetRow, 'org_id'>) => x.insertInto('budgets', row).execute(),
        count: () => x.count('budgets'),
        update: (id: string, patch: Partial<Omit<BudgetRow, 'id' | 'org_id' | 'scope' | 'scope_id'>>) =>
          x.updateTable('budgets').set(patch).where('id', '=', id).execute(),
        remove: (id: string) => x.deleteFrom('budgets').where('id', '=', id).execute(),

        /** Spend and reached thresholds of the given (budget, period) pairs. */
        periods: async (pairs: { id: string; start: number }[]) => {
          if (!pairs.length) return new Map<string, { spent: number; reached: number[] }>();
          const rows = await x
            .selectFrom('budget_periods')
            .select(['budget_id', 'period_start', 'spent_nano', 'reached'])
            .where(
              'budget_id',
              'in',
              pairs.map((p) => p.id),
            )
            .where(
              'period_start',
              'in',
              pairs.map((p) => p.start),
            )
            .execute();
          return new Map(
            rows.map((r) => [
              `${r.budget_id}\u0000${Number(r.period_start)}`,
              { spent: Number(r.spent_nano), reached: JSON.parse(r.reached) as number[] },
            ]),
          );
        },

        setPeriod: (budgetId: string, start: number, spent: number, reached: number[]) =>
          x
            .insertInto('budget_periods', {
              budget_id: budgetId,
              period_start: start,
              spent_nano: spent,
              reached: JSON.stringify(reached),
            })
            .onConflict((oc) =>
              oc
                .columns(['budget_id', 'period_start'])
                .doUpdateSet({ spent_nano: spent, reached: JSON.stringify(reached) }),
            )
            .execute(),

        setReached: (budgetId: string, start: number, reached: number[]) =>
          x
            .updateTable('budget_periods')
            .set({ reached: JSON.stringify(reached) })
            .where('budget_id', '=', budgetId)
            .where('period_start', '=', start)
            .execute(),

        /**
         * Exact spend of priced LLM calls in [start, end) for a scope, from the events themselves: a new
         * budget starts from what its period has already spent.
         */
        spentFromEvents: async (scope: string, scopeId: string | null, start: number, end: number) => {
          let agentIds: string[] | undefined;
          if (scope === 'agent') agentIds = [scopeId ?? ''];
          if (scope === 'team') agentIds = (await agents.ofTeam(scopeId ?? '')).map((a) => a.id);
          return llmSpend(exec, orgId, start, end, agentIds);
        },

        /** The agents a budget covers (for pausing them). */
        agentsInScope: async (scope: string, scopeId: string | null) => {
          if (scope === 'agent') {
            const a = await agents.byId(scopeId ?? '');
            return a ? [{ id: a.id, name: a.name }] : [];
          }
          const rows = scope === 'team' ? await agents.ofTeam(scopeId ?? '') : await agents.all();
          return rows.map((a) => ({ id: a.id, name: a.name }));
        },

        scopeName: async (scope: string, scopeId: string | null) => {
          if (scope === 'agent') return (await agents.namesOf([scopeId ?? ''])).get(scopeId ?? '') ?? null;
          if (scope === 'team') return (await org.teamNames([scopeId ?? ''])).get(scopeId ?? '') ?? null;
          return (await org.getOrg())?.name ?? null;
        },

        /**
         * The names of many scopes in two queries at most (a budget list shows one per budget), keyed
         * `scope\u0000scope_id`; the org scope's name is the org's.
         */
        scopeNames: async (refs: readonly { scope: string; scope_id: string | null }[], orgName: string) => {
          const ids = (scope: string) => [
            ...new Set(refs.filter((r) => r.scope === scope && r.scope_id).map((r) => r.scope_id!)),
          ];
          const agentIds = ids('agent');
          const teamIds = ids('team');
          const [agentNames, teamNames] = await Promise.all([agents.namesOf(agentIds), org.teamNames(teamIds)]);
          const names = new Map<string, string>([['org\u0000', orgName]]);
          for (const [id, name] of agentNames) names.set(`agent\u0000${id}`, name);
          for (const [id, name] of teamNames) names.set(`team\u0000${id}`, name);
          return names;
        },

        /** The team an agent of this org belongs to (null when it has none or does not exist). */
        agentTeam: async (agentId: string) => (await agents.byId(agentId))?.team_id ?? null,

        org: async () => {
          const o = await org.getOrg();
          if (!o) throw new Error(`no org ${orgId}`);
          return { name: o.name, timezone: o.timezone };
        },
      };
    },

    /** Cross-org, for the enforcer: see budgets.system.ts. */
    system: (exec: Exec = db) => budgetSweeps(db, exec),

    /** Serializes with the enrichment pass on PostgreSQL (SQLite has one writer anyway). */
    async lockEnrichment(trx: Transaction<Database>, dialect: string) {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('hub:enrichment'))`.execute(trx);
    },
  };
}

export type BudgetStore = ReturnType<typeof createBudgetStore>;
