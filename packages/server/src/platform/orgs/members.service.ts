/**
 * Members and teams of an org. Rules: only an owner makes or unmakes owners; the last owner cannot be
 * demoted or removed (an org must always have someone who can delete or bill it).
 */
import type { Role } from '@agentops-hub/contracts';
import { newId } from '../../db/ids.ts';
import type { Caller, OrgId } from '../caller.ts';
import { AppError, notFound } from '../errors.ts';
import { assertBelowOrgCap } from '../org-caps.ts';
import { toMember, toTeam } from './org-dto.ts';
import type { OrgServiceDeps } from './orgs-deps.ts';

export function createMemberService(deps: OrgServiceDeps) {
  const { db, store, audit, clock } = deps;

  async function teamIdsByMember(orgId: OrgId) {
    const map = new Map<string, string[]>();
    for (const tm of await store.forOrg(orgId).teamMemberships()) {
      map.set(tm.member_id, [...(map.get(tm.member_id) ?? []), tm.team_id]);
    }
    return map;
  }

  function assertOwnerChange(caller: Caller, from: string, to: string | null) {
    if ((from === 'owner' || to === 'owner') && caller.role !== 'owner' && !caller.scopes?.includes('full'))
      throw new AppError('forbidden', 'Only an owner can grant or remove the owner role.');
  }

  return {
    async list(orgId: OrgId) {
      const teams = await teamIdsByMember(orgId);
      return (await store.forOrg(orgId).listMembers()).map((m) => toMember(m, teams.get(m.id) ?? []));
    },

    async get(orgId: OrgId, id: string) {
      const m = await store.forOrg(orgId).getMember(id);
      if (!m) throw notFound('Member');
      return toMember(m, (await teamIdsByMember(orgId)).get(id) ?? []);
    },

    /** Adds a user (used by invitation acceptance and headless init). Runs inside the caller's transaction. */
    async add(
      trx: Parameters<typeof store.forOrg>[1],
      orgId: OrgId,
      userId: string,
      role: Role,
      teamId: string | null,
    ) {
      const members = store.forOrg(orgId, trx);
      const existing = await members.memberByUser(userId);
      if (existing) return existing.id;
      const count = (await members.listMembers()).length;
      await deps.plans.assertWithin(orgId, 'members', count, trx);
      const id = newId('mem', clock());
      await members.insertMember({ id, user_id: userId, role, created_at: clock() });
      if (teamId && (await members.getTeam(teamId))) await members.addTeamMember(teamId, id);
      return id;
    },

    async setRole(caller: Caller, id: string, role: Role) {
      return db.transaction().execute(async (trx) => {
        const members = store.forOrg(caller.orgId, trx);
        const m = await members.getMember(id);
        if (!m) throw notFound('Member');
        assertOwnerChange(caller, m.role, role);
        if (m.role === 'owner' && role !== 'owner' && (await members.countOwners()) <= 1)
          throw new AppError('conflict', 'This is the last owner: make someone else owner first.');
        await members.setRole(id, role);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'member.role_changed',
          entityType: 'member',
          entityId: id,
          changes: { before: { role: m.role }, after: { role } },
        });
        return toMember({ ...m, role }, await members.teamIdsOfMember(id));
      });
    },

    async remove(caller: Caller, id: string) {
      await db.transaction().execute(async (trx) => {
        const members = store.forOrg(caller.orgId, trx);
        const m = await members.getMember(id);
        if (!m) throw notFound('Member');
        assertOwnerChange(caller, m.role, null);
        if (m.role === 'owner' && (await members.countOwners()) <= 1)
          throw new AppError('conflict', 'This is the last owner: make someone else owner first.');
        await members.deleteMember(id);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'member.removed',
          entityType: 'member',
          entityId: id,
          changes: { user_id: m.user_id, email: m.email, role: m.role },
        });
      });
    },

    async listTeams(orgId: OrgId) {
      const byTeam = new Map<string, string[]>();
      for (const tm of await store.forOrg(orgId).teamMemberships())
        byTeam.set(tm.team_id, [...(byTeam.get(tm.team_id) ?? []), tm.member_id]);
      return (await store.forOrg(orgId).listTeams()).map((t) => toTeam(t, byTeam.get(t.id) ?? []));
    },

    async createTeam(caller: Caller, body: { name: string; description?: string }) {
      const t = clock();
      const row = { id: newId('team', t), name: body.name, description: body.description ?? '', created_at: t };
      await db.transaction().execute(async (trx) => {
        const teams = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('teams', teams.countTeams);
        if ((await teams.listTeams()).some((x) => x.name === body.name))
          throw new AppError('conflict', `A team named "${body.name}" already exists.`, {
            errors: [{ path: 'name', message: 'already used by another team' }],
          });
        await teams.insertTeam(row);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'team.created',
          entityType: 'team',
          entityId: row.id,
          changes: row,
        });
      });
      return toTeam({ ...row, org_id: caller.orgId }, []);
    },

    async deleteTeam(caller: Caller, id: string) {
      await db.transaction().execute(async (trx) => {
        const teams = store.forOrg(caller.orgId, trx);
        const team = await teams.getTeam(id);
        if (!team) throw notFound('Team');
        await teams.deleteTeam(id);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'team.deleted',
          entityType: 'team',
          entityId: id,
          changes: { name: team.name },
        });
      });
    },

    async setTeamMember(caller: Caller, teamId: string, memberId: string, present: boolean) {
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        if (!(await s.getTeam(teamId))) throw notFound('Team');
        if (!(await s.getMember(memberId))) throw notFound('Member');
        if (present) await s.addTeamMember(teamId, memberId);
        else await s.removeTeamMember(teamId, memberId);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: present ? 'team.member_added' : 'team.member_removed',
          entityType: 'team',
          entityId: teamId,
          changes: { member_id: memberId },
        });
      });
    },
  };
}
export type MemberService = ReturnType<typeof createMemberService>;
