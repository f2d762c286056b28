/**
 * SQL for approvals, always org-scoped, plus the two lookups of people the approval flow needs.
 * Those read `members`, `team_members` and Better Auth's `auth_user` directly, like the notification
 * store does: going through the orgs service would make orgs and approvals depend on each other.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

type Exec = Kysely<Database> | Transaction<Database>;

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

export function createApprovalStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      return {
        get: (id: string) =>
          exec.selectFrom('approvals').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst(),

        /**
         * The members who may decide under `spec` (the same rule as the API's check): a role in
         * `spec.roles` (default owner, admin, team_lead; never viewer), and with `team_id`, members of
         * that team or owners/admins, who oversee every team.
         */
        recipients: (spec: Approvers): Promise<ApproverRecipient[]> => {
          const roles = (spec.roles?.length ? spec.roles : DEFAULT_APPROVER_ROLES).filter((r) => r !== 'viewer');
          let q = exec
            .selectFrom('members')
            .leftJoin('auth_user', 'auth_user.id', 'members.user_id')
            .select(['members.user_id', 'members.role', 'auth_user.email', 'auth_user.name'])
            .where('members.org_id', '=', orgId)
            .where('members.role', 'in', roles);
          if (spec.team_id) {
            const teamId = spec.team_id;
            q = q.where((eb) =>
              eb.or([
                eb('members.role', 'in', ['owner', 'admin']),
                eb(
                  'members.id',
                  'in',
                  eb
                    .selectFrom('team_members')
                    .select('team_members.member_id')
                    .where('team_members.org_id', '=', orgId)
                    .where('team_members.team_id', '=', teamId),
                ),
              ]),
            );
          }
          return q.orderBy('members.user_id').execute();
        },
      };
    },

    /** A user's name and address (for the actor of a link decision); the org check is the caller's. */
    user: (userId: string) =>
      db.selectFrom('auth_user').select(['id', 'email', 'name']).where('id', '=', userId).executeTakeFirst(),
  };
}
export type ApprovalStore = ReturnType<typeof createApprovalStore>;
