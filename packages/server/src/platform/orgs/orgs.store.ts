/**
 * SQL for orgs, members, teams and invitations. Everything an org owns goes through `forOrg(orgId)`;
 * the few lookups that start from a user (which orgs am I in?) or a token (an invitation link) are
 * named as such.
 */
import { type Kysely, sql } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database, InvitationsTable, MembersTable, OrgsTable, TeamsTable } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';
import { orgLookups } from './org-lookups.system.ts';

/**
 * The org's plan name, for `platform/plans.ts` (which maps it to limits and caches it); `exec` is the
 * caller's transaction when there is one. A plain function: the plan service needs no other part of the store.
 */
export async function planOfOrg(exec: Exec, orgId: OrgId): Promise<string | undefined> {
  return (await exec.selectFrom('orgs').select('plan').where('id', '=', orgId).executeTakeFirst())?.plan;
}

export function createOrgStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        // The org itself is keyed by `id` (it has no org_id): read and written by that key.
        getOrg: () => exec.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst(),
        updateOrg: (patch: Partial<OrgsTable>) => exec.updateTable('orgs').set(patch).where('id', '=', orgId).execute(),

        listMembers: () =>
          scope
            .selectFrom('members')
            .leftJoin('auth_user', 'auth_user.id', 'members.user_id')
            .select([
              'members.id',
              'members.user_id',
              'members.role',
              'members.created_at',
              'auth_user.email',
              'auth_user.name',
            ])
            .orderBy('members.created_at', 'asc')
            .execute(),
        getMember: (id: string) =>
          scope
            .selectFrom('members')
            .leftJoin('auth_user', 'auth_user.id', 'members.user_id')
            .select([
              'members.id',
              'members.user_id',
              'members.role',
              'members.created_at',
              'auth_user.email',
              'auth_user.name',
            ])
            .where('members.id', '=', id)
            .executeTakeFirst(),
        /**
         * Members with their address, for those who must be told or asked (notifications, approvals):
         * with `roles`, members holding one of them; with `userIds`, those users if they are members
         * here (others are dropped); with `teamId`, only that team's members, owners and admins (who
         * oversee every team) always included.
         */
        people: (f: { roles?: readonly string[]; userIds?: readonly string[]; teamId?: string }) => {
          let q = scope
            .selectFrom('members')
            .leftJoin('auth_user', 'auth_user.id', 'members.user_id')
            .select(['members.user_id', 'members.role', 'auth_user.email', 'auth_user.name']);
          if (f.roles) q = q.where('members.role', 'in', f.roles);
          if (f.userIds) q = q.where('members.user_id', 'in', f.userIds);
          if (f.teamId) {
            const inTeam = scope.selectFrom('team_members').select('member_id').where('team_id', '=', f.teamId);
            q = q.where((eb) => eb.or([eb('members.role', 'in', ['owner', 'admin']), eb('members.id', 'in', inTeam)]));
          }
          return q.orderBy('members.user_id').execute();
        },
        memberByUser: (userId: string) =>
          scope.selectFrom('members').selectAll().where('user_id', '=', userId).executeTakeFirst(),
        insertMember: (row: Omit<MembersTable, 'org_id'>) => scope.insertInto('members', row).execute(),
        setRole: (id: string, role: string) =>
          scope.updateTable('members').set({ role }).where('id', '=', id).execute(),
        deleteMember: (id: string) => scope.deleteFrom('members').where('id', '=', id).execute(),
        countOwners: async () =>
          Number(
            (
              await scope
                .selectFrom('members')
                .select((eb) => eb.fn.countAll().as('n'))
                .where('role', '=', 'owner')
                .executeTakeFirstOrThrow()
            ).n,
          ),

        listTeams: () => scope.selectFrom('teams').selectAll().orderBy('name').execute(),
        /** id → name of the given teams that exist in this org. */
        teamNames: async (ids: readonly string[]) =>
          new Map(
            ids.length
              ? (await scope.selectFrom('teams').select(['id', 'name']).where('id', 'in', ids).execute()).map(
                  (r) => [r.id, r.name] as const,
                )
              : [],
          ),
        getTeam: (id: string) => scope.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst(),
        insertTeam: (row: Omit<TeamsTable, 'org_id'>) => scope.insertInto('teams', row).execute(),
        countTeams: () => scope.count('teams'),
        deleteTeam: (id: string) => scope.deleteFrom('teams').where('id', '=', id).execute(),
        teamMemberships: () => scope.selectFrom('team_members').select(['team_id', 'member_id']).execute(),
        teamIdsOfMember: async (memberId: string) =>
          (await scope.selectFrom('team_members').select('team_id').where('member_id', '=', memberId).execute()).map(
            (r) => r.team_id,
          ),
        addTeamMember: (teamId: string, memberId: string) =>
          scope
            .insertInto('team_members', { team_id: teamId, member_id: memberId })
            .onConflict((oc) => oc.doNothing())
            .execute(),
        removeTeamMember: (teamId: string, memberId: string) =>
          scope.deleteFrom('team_members').where('team_id', '=', teamId).where('member_id', '=', memberId).execute(),

        listInvitations: () => scope.selectFrom('invitations').selectAll().orderBy('id', 'desc').execute(),
        getInvitation: (id: string) =>
          scope.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst(),
        insertInvitation: (row: Omit<InvitationsTable, 'org_id'>) => scope.insertInto('invitations', row).execute(),
        /** Invitations made since `since`, whatever became of them. */
        countInvitationsSince: (since: number) => scope.count('invitations', (q) => q.where('created_at', '>', since)),
        setInvitationStatus: (id: string, status: string, at: number) =>
          scope.updateTable('invitations').set({ status, decided_at: at }).where('id', '=', id).execute(),
      };
    },

    insertOrg: (exec: Exec, row: OrgsTable) => exec.insertInto('orgs').values(row).execute(),
    /**
     * Org deletion, inside its transaction, after every org-scoped table was emptied: no user keeps it as
     * their active org, and the row itself goes.
     */
    deleteOrg: async (exec: Exec, orgId: OrgId) => {
      await exec.updateTable('user_prefs').set({ active_org_id: null }).where('active_org_id', '=', orgId).execute();
      await exec.deleteFrom('orgs').where('id', '=', orgId).execute();
    },
    /** Cross-org on purpose, with the org ids they find as `OrgId`: see org-lookups.system.ts. */
    ...orgLookups(db),
    activeOrgOf: async (userId: string) =>
      (await db.selectFrom('user_prefs').select('active_org_id').where('user_id', '=', userId).executeTakeFirst())
        ?.active_org_id ?? null,
    setActiveOrg: (exec: Exec, userId: string, orgId: string) =>
      exec
        .insertInto('user_prefs')
        .values({ user_id: userId, active_org_id: orgId })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ active_org_id: orgId }))
        .execute(),
    /** A user's name and address, and what the session endpoint shows; the org check is the caller's. */
    user: (userId: string) =>
      db
        .selectFrom('auth_user')
        .select(['id', 'email', 'name', 'emailVerified', 'twoFactorEnabled'])
        .where('id', '=', userId)
        .executeTakeFirst(),
    /** Marks an address verified (headless init: the operator configured it). `true` is 1 on SQLite. */
    markEmailVerified: (userId: string) =>
      db.updateTable('auth_user').set({ emailVerified: sql<boolean>`true` }).where('id', '=', userId).execute(),
    userByEmail: (email: string) =>
      db
        .selectFrom('auth_user')
        .select(['id', 'email', 'name'])
        .where('email', '=', email.toLowerCase())
        .executeTakeFirst(),
    /** How many orgs the user owns: the cap on org creation per account (HUB_ORGS_PER_USER). */
    countOwnedOrgs: async (userId: string) =>
      Number(
        (
          await db
            .selectFrom('members')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('user_id', '=', userId)
            .where('role', '=', 'owner')
            .executeTakeFirstOrThrow()
        ).n,
      ),
    /**
     * Whether anyone has invited this address and the invitation is still open: under the `invite`
     * sign-up policy it is the only way to a new account. Cross-org by nature (the account belongs to no
     * org yet); it answers a yes or no and reveals nothing of the inviting org.
     */
    hasOpenInvitationFor: async (email: string, now: number) =>
      Boolean(
        await db
          .selectFrom('invitations')
          .select('id')
          .where('email', '=', email.toLowerCase())
          .where('status', '=', 'pending')
          .where('expires_at', '>', now)
          .limit(1)
          .executeTakeFirst(),
      ),
    /** Whether any account exists yet: the console's first start asks for an owner until one does. */
    anyUser: async () => Boolean(await db.selectFrom('auth_user').select('id').limit(1).executeTakeFirst()),
    countUsers: async () =>
      Number(
        (
          await db
            .selectFrom('auth_user')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
  };
}
export type OrgStore = ReturnType<typeof createOrgStore>;
