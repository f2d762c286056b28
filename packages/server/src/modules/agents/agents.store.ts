/** SQL for the agent registry; every query is scoped to one org by `forOrg`. */
import { type Kysely, sql } from 'kysely';
import { likePattern } from '../../db/like.ts';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { AgentsTable, Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export interface AgentFilter {
  type?: string;
  environment?: string;
  status?: string;
  team_id?: string;
  tag?: string;
  q?: string;
  beforeId?: string;
}

export function createAgentStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      const base = () => scope.selectFrom('agents').selectAll();
      return {
        /** By id or by the org-unique name: anywhere an agent is named, either works. */
        find: (idOrName: string) =>
          base()
            .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
            .executeTakeFirst(),
        byName: (name: string) => base().where('name', '=', name).executeTakeFirst(),
        /** By id only (where a name must not match). */
        byId: (id: string) => base().where('id', '=', id).executeTakeFirst(),
        /** The agents named by any of `idsOrNames` (ids or names, mixed), in no particular order. */
        findMany: (idsOrNames: readonly string[]) =>
          idsOrNames.length
            ? base()
                .where((eb) => eb.or([eb('id', 'in', idsOrNames), eb('name', 'in', idsOrNames)]))
                .execute()
            : Promise.resolve([]),
        /** Every agent of the org (the simulator and budget scopes read the whole registry). */
        all: () => base().orderBy('id').execute(),
        /** Agents of one team. */
        ofTeam: (teamId: string) => base().where('team_id', '=', teamId).execute(),
        /** id → name for the given ids that exist in this org. */
        namesOf: async (ids: readonly string[]) =>
          new Map(
            ids.length
              ? (await scope.selectFrom('agents').select(['id', 'name']).where('id', 'in', ids).execute()).map(
                  (r) => [r.id, r.name] as const,
                )
              : [],
          ),
        /**
         * Ids of the agents an alert rule's scope covers: named by id or name, of one team, or carrying a
         * tag. Only `id` and `tags` are read (the tag is matched in SQL, then confirmed on the parsed list).
         */
        idsMatching: async (m: { idOrName: string } | { teamId: string } | { tag: string }) => {
          const q = scope.selectFrom('agents').select(['id', 'tags']);
          if ('idOrName' in m)
            return (
              await q.where((eb) => eb.or([eb('id', '=', m.idOrName), eb('name', '=', m.idOrName)])).execute()
            ).map((r) => r.id);
          if ('teamId' in m) return (await q.where('team_id', '=', m.teamId).execute()).map((r) => r.id);
          const rows = await q
            .where(sql<boolean>`tags like ${likePattern(JSON.stringify(m.tag))} escape '\\'`)
            .execute();
          return rows.filter((r) => (JSON.parse(r.tags) as string[]).includes(m.tag)).map((r) => r.id);
        },
        /** id and registration time of the given agents (`null`: every agent), for the silent-agent alert. */
        registeredAt: (ids: readonly string[] | null) => {
          const q = scope.selectFrom('agents').select(['id', 'created_at']);
          return (ids ? q.where('id', 'in', ids) : q).execute();
        },
        list: async (f: AgentFilter, limit: number) => {
          let q = base();
          if (f.type) q = q.where('type', '=', f.type);
          if (f.environment) q = q.where('environment', '=', f.environment);
          if (f.status) q = q.where('status', '=', f.status);
          if (f.team_id) q = q.where('team_id', '=', f.team_id);
          // Tags are a JSON array in text: match the quoted element, then confirm in code below.
          if (f.tag) q = q.where(sql<boolean>`tags like ${likePattern(JSON.stringify(f.tag))} escape '\\'`);
          if (f.q) q = q.where(sql<boolean>`name like ${likePattern(f.q)} escape '\\'`);
          if (f.beforeId) q = q.where('id', '<', f.beforeId);
          const rows = await q.orderBy('id', 'desc').limit(limit).execute();
          return f.tag ? rows.filter((r) => (JSON.parse(r.tags) as string[]).includes(f.tag!)) : rows;
        },
        count: async () =>
          Number(
            (
              await scope
                .selectFrom('agents')
                .select((eb) => eb.fn.countAll().as('n'))
                .executeTakeFirstOrThrow()
            ).n,
          ),
        insert: (row: Omit<AgentsTable, 'org_id'>) => scope.insertInto('agents', row).execute(),
        update: (id: string, patch: Partial<AgentsTable>) =>
          scope.updateTable('agents').set(patch).where('id', '=', id).execute(),
        remove: (id: string) => scope.deleteFrom('agents').where('id', '=', id).execute(),
        /**
         * Sets the status when it differs (the controls module keeps it equal to the agent's pauses,
         * inside the pause's transaction: pass that transaction as `exec`).
         */
        setStatus: (id: string, status: 'active' | 'paused', now: number) =>
          scope
            .updateTable('agents')
            .set({ status, updated_at: now })
            .where('id', '=', id)
            .where('status', '!=', status)
            .execute(),
      };
    },
  };
}
export type AgentStore = ReturnType<typeof createAgentStore>;
