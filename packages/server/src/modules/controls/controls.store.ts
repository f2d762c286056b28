/**
 * SQL for emergency controls; every query is scoped to one org by `forOrg`. Pass the caller's
 * transaction as `exec` so a pause, the agent's status and the audit row commit together.
 */
import type { Kysely, Transaction } from 'kysely';
import type { AgentPausesTable, CategoryPausesTable, Database, KillSwitchesTable } from '../../db/schema.ts';

export type { AgentPausesTable, CategoryPausesTable, KillSwitchesTable };

import type { OrgId } from '../../platform/caller.ts';

type Exec = Kysely<Database> | Transaction<Database>;

export type AgentPauseRow = AgentPausesTable & { name: string };

export function createControlStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const x = exec;
      return {
        /** The agent by id or org-unique name, with what the pause rules need. */
        findAgent: (idOrName: string) =>
          x
            .selectFrom('agents')
            .select(['id', 'name', 'team_id', 'type', 'tags', 'status'])
            .where('org_id', '=', orgId)
            .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
            .executeTakeFirst(),

        agentPauses: (agentId?: string) => {
          let q = x
            .selectFrom('agent_pauses as p')
            .innerJoin('agents as a', (j) => j.onRef('a.org_id', '=', 'p.org_id').onRef('a.id', '=', 'p.agent_id'))
            .selectAll('p')
            .select('a.name')
            .where('p.org_id', '=', orgId);
          if (agentId) q = q.where('p.agent_id', '=', agentId);
          return q.orderBy('p.paused_at', 'asc').orderBy('p.agent_id').orderBy('p.source').execute();
        },

        /** Inserts or replaces the pause of one source (a second pause by a person updates reason and mode). */
        upsertAgentPause: async (row: Omit<AgentPausesTable, 'org_id'>) => {
          await x
            .insertInto('agent_pauses')
            .values({ ...row, org_id: orgId })
            .onConflict((oc) =>
              oc.columns(['org_id', 'agent_id', 'source']).doUpdateSet({
                mode: row.mode,
                reason: row.reason,
                paused_by: row.paused_by,
                paused_at: row.paused_at,
              }),
            )
            .execute();
        },

        deleteAgentPause: async (agentId: string, source: string) =>
          Number(
            (
              await x
                .deleteFrom('agent_pauses')
                .where('org_id', '=', orgId)
                .where('agent_id', '=', agentId)
                .where('source', '=', source)
                .executeTakeFirst()
            ).numDeletedRows,
          ),

        /**
         * `agents.status` mirrors the pauses: 'paused' while any pause of any source holds the agent.
         * Written here, in the pause's transaction, because the two must never disagree; the agent
         * registry has no transactional status setter.
         */
        syncAgentStatus: async (agentId: string, now: number) => {
          const held = await x
            .selectFrom('agent_pauses')
            .select('agent_id')
            .where('org_id', '=', orgId)
            .where('agent_id', '=', agentId)
            .limit(1)
            .executeTakeFirst();
          const status = held ? 'paused' : 'active';
          await x
            .updateTable('agents')
            .set({ status, updated_at: now })
            .where('org_id', '=', orgId)
            .where('id', '=', agentId)
            .where('status', '!=', status)
            .execute();
          return status;
        },

        killSwitch: () => x.selectFrom('kill_switches').selectAll().where('org_id', '=', orgId).executeTakeFirst(),

        setKillSwitch: async (row: Omit<KillSwitchesTable, 'org_id'>) => {
          await x
            .insertInto('kill_switches')
            .values({ ...row, org_id: orgId })
            .onConflict((oc) => oc.column('org_id').doUpdateSet(row))
            .execute();
        },

        categoryPauses: () =>
          x
            .selectFrom('category_pauses')
            .selectAll()
            .where('org_id', '=', orgId)
            .orderBy('paused_at', 'asc')
            .orderBy('category')
            .execute(),

        categoryPause: (category: string) =>
          x
            .selectFrom('category_pauses')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('category', '=', category)
            .executeTakeFirst(),

        upsertCategoryPause: async (row: Omit<CategoryPausesTable, 'org_id'>) => {
          await x
            .insertInto('category_pauses')
            .values({ ...row, org_id: orgId })
            .onConflict((oc) =>
              oc
                .columns(['org_id', 'category'])
                .doUpdateSet({ reason: row.reason, paused_by: row.paused_by, paused_at: row.paused_at }),
            )
            .execute();
        },

        deleteCategoryPause: async (category: string) =>
          Number(
            (
              await x
                .deleteFrom('category_pauses')
                .where('org_id', '=', orgId)
                .where('category', '=', category)
                .executeTakeFirst()
            ).numDeletedRows,
          ),
      };
    },
  };
}
export type ControlStore = ReturnType<typeof createControlStore>;
