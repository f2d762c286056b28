/**
 * @module redactions.store
 * SQL of the re-redaction requests (`privacy_redactions`, always org-scoped): the latest one of an org,
 * the one still queued (a second request joins it), and the job's progress.
 *
 * @example
 * const s = createRedactionStore(db).forOrg(orgId);
 * await s.latest(); // → row or undefined
 */
import type { Updateable } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { PrivacyRedactionsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export function createRedactionStore(db: Exec) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const x = orgScope(exec, orgId);
      return {
        latest: () =>
          x
            .selectFrom('privacy_redactions')
            .selectAll()
            .orderBy('requested_at', 'desc')
            .orderBy('id', 'desc')
            .limit(1)
            .executeTakeFirst(),
        get: (id: string) => x.selectFrom('privacy_redactions').selectAll().where('id', '=', id).executeTakeFirst(),
        /** One that has not started yet: a new request joins it instead of queueing another pass. */
        queued: () =>
          x.selectFrom('privacy_redactions').selectAll().where('status', '=', 'queued').limit(1).executeTakeFirst(),
        async insert(row: Omit<PrivacyRedactionsTable, 'org_id'>) {
          await x.insertInto('privacy_redactions', row).execute();
        },
        async update(id: string, set: Updateable<Omit<PrivacyRedactionsTable, 'org_id' | 'id'>>) {
          await x.updateTable('privacy_redactions').set(set).where('id', '=', id).execute();
        },
      };
    },
  };
}
export type RedactionStore = ReturnType<typeof createRedactionStore>;
