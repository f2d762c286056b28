/**
 * SQL for approvals, every query through `orgScope` (it adds the org), plus the two lookups of people
 * the approval flow needs, answered by the orgs store (which owns members, teams and the hub's reads of
 * users). State changes are compare-and-sets (`where status = 'pending'` …): the caller learns from the
 * answer whether it won.
 */
import type { Insertable, Kysely } from 'kysely';
import { type Exec, type OrgInsert, orgScope } from '../../db/org-scope.ts';
import type { ApprovalsTable, Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createOrgStore } from '../../platform/orgs/orgs.store.ts';

export interface Approvers {
  roles?: string[];
  team_id?: string;
}

export interface ApproverRecipient {
  user_id: string;
  role: string;
  email: string | null;
  name: string | null;
}

/** Who is asked when a rule names no roles; viewers and plain members are never asked by default. */
export const DEFAULT_APPROVER_ROLES = ['owner', 'admin', 'team_lead'];

/** What `decide` writes on an approval. */
type Decision = Pick<
  Insertable<ApprovalsTable>,
  'status' | 'decided_at' | 'decided_by' | 'decided_by_type' | 'decided_by_id' | 'comment'
>;

export function createApprovalStore(db: Kysely<Database>) {
  const orgs = createOrgStore(db);
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        get: (id: string) => scope.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst(),

        insert: (row: OrgInsert<'approvals'>) => scope.insertInto('approvals', row).execute(),

        /** A page, newest first; `status` as the API names it (`pending` and `expired` read the clock). */
        list(opts: { status?: string; now: number; limit: number; cursor?: string; requestedByKeyId?: string }) {
          const { status, now } = opts;
          let q = scope.selectFrom('approvals').selectAll();
          if (opts.requestedByKeyId) q = q.where('requested_by_key_id', '=', opts.requestedByKeyId);
          if (status === 'pending') q = q.where('status', '=', 'pending').where('expires_at', '>', now);
          else if (status === 'expired')
            q = q.where((eb) =>
              eb.or([
                eb('status', '=', 'expired'),
                eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)]),
              ]),
            );
          else if (status) q = q.where('status', '=', status);
          if (opts.cursor) q = q.where('id', '<', opts.cursor);
          return q
            .orderBy('id', 'desc')
            .limit(opts.limit + 1)
            .execute();
        },

        /** Decides a pending, unexpired approval; undefined when it was not (any more). */
        decide: (id: string, decision: Decision, now: number) =>
          scope
            .updateTable('approvals')
            .set(decision)
            .where('id', '=', id)
            .where('status', '=', 'pending')
            .where('expires_at', '>', now)
            // `returning` reads the row as this update left it: a callback_url attached concurrently is seen.
            .returning(['callback_url'])
            .executeTakeFirst(),

        /**
         * Locks a still-pending approval's row until the transaction ends, changing nothing: a decision or
         * an expiry of it waits for that (on PostgreSQL; SQLite runs one writing transaction at a time).
         */
        hold: (id: string) =>
          scope
            .updateTable('approvals')
            .set({ status: 'pending' })
            .where('id', '=', id)
            .where('status', '=', 'pending')
            .execute(),

        /** Marks an approved approval used; false when another retry used it first. */
        async use(id: string, now: number) {
          const res = await scope
            .updateTable('approvals')
            .set({ used_at: now })
            .where('id', '=', id)
            .where('used_at', 'is', null)
            .executeTakeFirst();
          return Number(res.numUpdatedRows) === 1;
        },

        /** Stores the callback URL unless one is set (the first wins); the row's status, or undefined. */
        attachCallback: (id: string, url: string) =>
          scope
            .updateTable('approvals')
            .set({ callback_url: url })
            .where('id', '=', id)
            .where('callback_url', 'is', null)
            .returning(['status'])
            .executeTakeFirst(),

        /** A still-pending approval becomes `expired`; undefined when it was decided meanwhile. */
        expire: (id: string) =>
          scope
            .updateTable('approvals')
            .set({ status: 'expired' })
            .where('id', '=', id)
            .where('status', '=', 'pending')
            .returning(['callback_url'])
            .executeTakeFirst(),

        /** Widens a still-pending, unexpired approval to its `escalate_to`; false when that did not happen. */
        async escalate(id: string, now: number) {
          const res = await scope
            .updateTable('approvals')
            .set({ escalated_at: now })
            .where('id', '=', id)
            .where('status', '=', 'pending')
            .where('escalated_at', 'is', null)
            .where('expires_at', '>', now)
            .executeTakeFirst();
          return Number(res.numUpdatedRows) === 1;
        },

        /**
         * The members who may decide under `spec` (the same rule as the API's check): a role in
         * `spec.roles` (default owner, admin, team_lead; never viewer), and with `team_id`, members of
         * that team or owners/admins, who oversee every team.
         */
        recipients: (spec: Approvers): Promise<ApproverRecipient[]> => {
          const roles = (spec.roles?.length ? spec.roles : DEFAULT_APPROVER_ROLES).filter((r) => r !== 'viewer');
          return orgs.forOrg(orgId, exec).people({ roles, teamId: spec.team_id });
        },
      };
    },

    /** A user's name and address (for the actor of a link decision); the org check is the caller's. */
    user: async (userId: string) => {
      const u = await orgs.user(userId);
      return u && { id: u.id, email: u.email, name: u.name };
    },
  };
}
export type ApprovalStore = ReturnType<typeof createApprovalStore>;
