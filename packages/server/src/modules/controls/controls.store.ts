/**
 * SQL for emergency controls; every query is scoped to one org by `forOrg`. Pass the caller's
 * transaction as `exec` so a pause, the agent's status and the audit row commit together.
 */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { AgentPausesTable, CategoryPausesTable, Database, KillSwitchesTable } from '../../db/schema.ts';

export type { AgentPausesTable, CategoryPausesTable, KillSwitchesTable };

import type { OrgId } from '../../platform/caller.ts';

export type AgentPauseRow = AgentPausesTable & { name: string };

export function createControlStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const x = orgScope(exec, orgId);
      return {
        /** The agent by id or org-unique name, with what the pause rules need. */
        findAgent: (idOrName: string) =>
          x
            .selectFrom('agents')
            .select(['id', 'name', 'team_id', 'type', 'tags', 'status'])
            .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
            .executeTakeFirst(),

        agentPauses: (agentId?: string) => {
          let q = x
            .selectFrom('agent_pauses')
            .innerJoin('agents', (j) =>
              j.onRef('agents.id', '=', 'agent_pauses.agent_id').on(x.sameOrg('agents', 'agent_pauses')),
            )
            .selectAll('agent_pauses')
            .select('agents.name');
          if (agentId) q = q.where('agent_pauses.agent_id', '=', agentId);
          return q
            .orderBy('agent_pauses.paused_at', 'asc')
            .orderBy('agent_pauses.agent_id')
            .orderBy('agent_pauses.source')
            .execute();
        },

        /** Inserts or replaces the pause of one source (a second pause by a person updates reason and mode). */
        upsertAgentPause: async (row: Omit<AgentPausesTable, 'org_id'>) => {
          await x
            .insertInto('agent_pauses', row)

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
            .where('agent_id', '=', agentId)
            .limit(1)
            .executeTakeFirst();
          const status = held ? 'paused' : 'active';
          await x
            .updateTable('agents')
            .set({ status, updated_at: now })
            .where('id', '=', agentId)
            .where('status', '!=', status)
            .execute();
          return status;
        },

        killSwitch: () => x.selectFrom('kill_switches').selectAll().executeTakeFirst(),

        setKillSwitch: async (row: Omit<KillSwitchesTable, 'org_id'>) => {
          await x
            .insertInto('kill_switches', row)

            .onConflict((oc) => oc.column('org_id').doUpdateSet(row))
            .execute();
        },

        categoryPauses: () =>
          x.selectFrom('category_pauses').selectAll().orderBy('paused_at', 'asc').orderBy('category').execute(),

        categoryPause: (category: string) =>
          x.selectFrom('category_pauses').selectAll().where('category', '=', category).executeTakeFirst(),

        upsertCategoryPause: async (row: Omit<CategoryPausesTable, 'org_id'>) => {
          await x
            .insertInto('category_pauses', row)

            .onConflict((oc) =>
              oc
                .columns(['org_id', 'category'])
                .doUpdateSet({ reason: row.reason, paused_by: row.paused_by, paused_at: row.paused_at }),
            )
            .execute();
        },

        deleteCategoryPause: async (category: string) =>
          Number(
            (await x.deleteFrom('category_pauses').where('category', '=', category).executeTakeFirst()).numDeletedRows,
          ),
      };
    },
  };
}
export type ControlStore = ReturnType<typeof createControlStore>;
