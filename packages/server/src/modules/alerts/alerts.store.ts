/**
 * Alert rules and their events: SQL only, always through `orgScope`. The one cross-org read (the enabled
 * rules of every org, for the evaluation job) is a system path: alerts.system.ts.
 */
import type { Kysely } from 'kysely';
import { type Exec, type OrgInsert, orgScope } from '../../db/org-scope.ts';
import type { AlertRulesTable, Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export type RuleRow = AlertRulesTable;
export type RuleInsert = OrgInsert<'alert_rules'>;
export type EventInsert = OrgInsert<'alert_events'>;

export function createAlertStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        insert: (row: RuleInsert) => scope.insertInto('alert_rules', row).execute(),
        count: () => scope.count('alert_rules'),
        get: (id: string) => scope.selectFrom('alert_rules').selectAll().where('id', '=', id).executeTakeFirst(),
        list: () => scope.selectFrom('alert_rules').selectAll().orderBy('id', 'desc').execute(),
        update: (id: string, set: Partial<RuleInsert>) =>
          scope.updateTable('alert_rules').set(set).where('id', '=', id).execute(),
        remove: (id: string) => scope.deleteFrom('alert_rules').where('id', '=', id).execute(),
        /** What the last pass saw: no state change, so no guard needed. */
        recordValue: (id: string, value: number | null, at: number) =>
          scope
            .updateTable('alert_rules')
            .set({ last_value: value, last_evaluated_at: at })
            .where('id', '=', id)
            .execute(),
        /**
         * Moves the rule to `state` only if no one moved it since `fromSeq` was read: the conditional update
         * that lets exactly one of several evaluating processes make (and announce) a transition.
         */
        async transition(id: string, fromSeq: number, state: string, value: number | null, at: number) {
          const r = await scope
            .updateTable('alert_rules')
            .set({ state, state_seq: fromSeq + 1, state_since: at, last_value: value, last_evaluated_at: at })
            .where('id', '=', id)
            .where('state_seq', '=', fromSeq)
            .executeTakeFirst();
          return Number(r.numUpdatedRows) === 1;
        },
        insertEvent: (row: EventInsert) => scope.insertInto('alert_events', row).execute(),
        events: (ruleId: string, limit: number, beforeId?: string) => {
          let q = scope.selectFrom('alert_events').selectAll().where('rule_id', '=', ruleId);
          if (beforeId) q = q.where('id', '<', beforeId);
          return q.orderBy('id', 'desc').limit(limit).execute();
        },
      };
    },
  };
}
export type AlertStore = ReturnType<typeof createAlertStore>;
