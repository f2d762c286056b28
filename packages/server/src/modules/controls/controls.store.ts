/**
 * SQL for emergency controls; every query is scoped to one org by `forOrg`. Pass the caller's
 * transaction as `exec` so a pause, the agent's status and the audit row commit together.
 */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { AgentPausesTable, CategoryPausesTable, Database, KillSwitchesTable } from '../../db/schema.ts';
import { createAgentStore } from '../agents/index.ts';

export type { AgentPausesTable, CategoryPausesTable, KillSwitchesTable };

import type { OrgId } from '../../platform/caller.ts';

export type AgentPauseRow = AgentPausesTable & { name: string };

export function createControlStore(db: Kysely<Database>) {
  const registry = createAgentStore(db);
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const x = orgScope(exec, orgId);
      // The agents module's reads and status setter, in the same transaction as the pause.
      const agents = registry.forOrg(orgId, exec);
      return {
        /** The agent by id or org-unique name, with what the pause rules need. */
        findAgent: (idOrName: string) => agents.find(idOrName),

        /** Pauses with their agent's name (a pause goes with its agent: the key cascades). */
        agentPauses: async (agentId?: string): Promise<AgentPauseRow[]> => {
          let q = x.selectFrom('agent_pauses').selectAll();
          if (agentId) q = q.where('agent_id', '=', agentId);
          const rows = await q.orderBy('paused_at', 'asc').orderBy('agent_id').orderBy('source').execute();
          const names = await agents.namesOf([...new Set(rows.map((r) => r.agent_id))]);
          return rows.flatMap((r) => {
            const name = names.get(r.agent_id);
            return name === undefined ? [] : [{ ...r, name }];
          });
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
         * Written here, in the pause's transaction (through the registry's setter), because the two must
         * never disagree.
         */
        syncAgentStatus: async (agentId: string, now: number) => {
          const held = await x
            .selectFrom('agent_pauses')
            .select('agent_id')
            .where('agent_id', '=', agentId)
            .limit(1)
            .executeTakeFirst();
          const status = held ? 'paused' : 'active';
          await agents.setStatus(agentId, status, now);
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
