/**
 * SQL for orgs, members, teams and invitations. Everything an org owns goes through `forOrg(orgId)`;
 * the few lookups that start from a user (which orgs am I in?) or a token (an invitation link) are
 * named as such.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, InvitationsTable, MembersTable, OrgsTable, TeamsTable } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';

type Exec = Kysely<Database> | Transaction<Database>;

export function createOrgStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      return {
        getOrg: () => exec.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst(),
        updateOrg: (patch: Partial<OrgsTable>) => exec.updateTable('orgs').set(patch).where('id', '=', orgId).execute(),

        listMembers: () =>
          exec
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
            .where('members.org_id', '=', orgId)
            .orderBy('members.created_at', 'asc')
            .execute(),
        getMember: (id: string) =>
          exec
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
            .where('members.org_id', '=', orgId)
            .where('members.id', '=', id)
            .executeTakeFirst(),
        memberByUser: (userId: string) =>
          exec
            .selectFrom('members')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('user_id', '=', userId)
            .executeTakeFirst(),
        insertMember: (row: Omit<MembersTable, 'org_id'>) =>
          exec
            .insertInto('members')
            .values({ ...row, org_id: orgId })
            .execute(),
        setRole: (id: string, role: string) =>
          exec.updateTable('members').set({ role }).where('org_id', '=', orgId).where('id', '=', id).execute(),
        deleteMember: (id: string) =>
          exec.deleteFrom('members').where('org_id', '=', orgId).where('id', '=', id).execute(),
        countOwners: async () =>
          Number(
            (
              await exec
                .selectFrom('members')
                .select((eb) => eb.fn.countAll().as('n'))
                .where('org_id', '=', orgId)
                .where('role', '=', 'owner')
                .executeTakeFirstOrThrow()
            ).n,
          ),

        listTeams: () => exec.selectFrom('teams').selectAll().where('org_id', '=', orgId).orderBy('name').execute(),
        getTeam: (id: string) =>
          exec.selectFrom('teams').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst(),
        insertTeam: (row: Omit<TeamsTable, 'org_id'>) =>
          exec
            .insertInto('teams')
            .values({ ...row, org_id: orgId })
            .execute(),
        deleteTeam: (id: string) => exec.deleteFrom('teams').where('org_id', '=', orgId).where('id', '=', id).execute(),
        teamMemberships: () =>
          exec.selectFrom('team_members').select(['team_id', 'member_id']).where('org_id', '=', orgId).execute(),
        teamIdsOfMember: async (memberId: string) =>
          (
            await exec
              .selectFrom('team_members')
              .select('team_id')
              .where('org_id', '=', orgId)
              .where('member_id', '=', memberId)
              .execute()
          ).map((r) => r.team_id),
        addTeamMember: (teamId: string, memberId: string) =>
          exec
            .insertInto('team_members')
            .values({ org_id: orgId, team_id: teamId, member_id: memberId })
            .onConflict((oc) => oc.doNothing())
            .execute(),
        removeTeamMember: (teamId: string, memberId: string) =>
          exec
            .deleteFrom('team_members')
            .where('org_id', '=', orgId)
            .where('team_id', '=', teamId)
            .where('member_id', '=', memberId)
            .execute(),

        listInvitations: () =>
          exec.selectFrom('invitations').selectAll().where('org_id', '=', orgId).orderBy('id', 'desc').execute(),
        getInvitation: (id: string) =>
          exec
            .selectFrom('invitations')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('id', '=', id)
            .executeTakeFirst(),
        insertInvitation: (row: Omit<InvitationsTable, 'org_id'>) =>
          exec
            .insertInto('invitations')
            .values({ ...row, org_id: orgId })
            .execute(),
        setInvitationStatus: (id: string, status: string, at: number) =>
          exec
            .updateTable('invitations')
            .set({ status, decided_at: at })
            .where('org_id', '=', orgId)
            .where('id', '=', id)
            .execute(),
      };
    },

    insertOrg: (exec: Exec, row: OrgsTable) => exec.insertInto('orgs').values(row).execute(),
    /** Orgs a user belongs to, with their role: the org switcher and the session's default org. */
    membershipsOfUser: (userId: string) =>
      db
        .selectFrom('members')
        .innerJoin('orgs', 'orgs.id', 'members.org_id')
        .select(['orgs.id as org_id', 'orgs.name as org_name', 'members.id as member_id', 'members.role'])
        .where('members.user_id', '=', userId)
        .orderBy('members.created_at', 'asc')
        .execute(),
    activeOrgOf: async (userId: string) =>
      (await db.selectFrom('user_prefs').select('active_org_id').where('user_id', '=', userId).executeTakeFirst())
        ?.active_org_id ?? null,
    setActiveOrg: (exec: Exec, userId: string, orgId: string) =>
      exec
        .insertInto('user_prefs')
        .values({ user_id: userId, active_org_id: orgId })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ active_org_id: orgId }))
        .execute(),
    /** An invitation link carries only its token; the token's hash finds it. */
    invitationByTokenHash: (hash: string) =>
      db.selectFrom('invitations').selectAll().where('token_hash', '=', hash).executeTakeFirst(),
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
