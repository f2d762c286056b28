/**
 * @module privacy.store
 * SQL of the privacy settings (always org-scoped): the org's row and its agents' capture levels.
 *
 * @example
 * const s = createPrivacyStore(db).forOrg(orgId);
 * await s.settings(); // → row or undefined (defaults)
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { AgentPrivacyTable, PrivacySettingsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export function createPrivacyStore(db: Exec) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const x = orgScope(exec, orgId);
      return {
        settings: () => x.selectFrom('privacy_settings').selectAll().executeTakeFirst(),
        agentLevels: () => x.selectFrom('agent_privacy').select(['agent_id', 'capture']).orderBy('agent_id').execute(),
        agentLevel: (agentId: string) =>
          x.selectFrom('agent_privacy').select('capture').where('agent_id', '=', agentId).executeTakeFirst(),
        async putSettings(row: Omit<PrivacySettingsTable, 'org_id'>) {
          await x
            .insertInto('privacy_settings', row)
            .onConflict((oc) => oc.column('org_id').doUpdateSet(row))
            .execute();
        },
        async putAgentLevel(row: Omit<AgentPrivacyTable, 'org_id'>) {
          await x
            .insertInto('agent_privacy', row)
            .onConflict((oc) =>
              oc.columns(['org_id', 'agent_id']).doUpdateSet({ capture: row.capture, updated_at: row.updated_at }),
            )
            .execute();
        },
        async deleteAgentLevel(agentId: string) {
          await x.deleteFrom('agent_privacy').where('agent_id', '=', agentId).execute();
        },
      };
    },
  };
}
export type PrivacyStore = ReturnType<typeof createPrivacyStore>;
