/**
 * Organizations and who belongs to them. An org is created by a signed-in user, who becomes its owner;
 * every change is audited in the same transaction. `callerForUser` is how a session becomes a Caller.
 */
import type { Role } from '@agentops-hub/contracts';
import { newId } from '../../db/ids.ts';
import type { OrgsTable } from '../../db/schema.ts';
import type { Caller, OrgId, UserWithoutOrg } from '../caller.ts';
import { AppError, notFound } from '../errors.ts';
import { permissionsForRole } from '../rbac.ts';
import { createInvitationService } from './invitations.service.ts';
import { createMemberService } from './members.service.ts';
import { DEFAULT_ORG_SETTINGS, toOrg } from './org-dto.ts';
import { newOrgId } from './org-lookups.system.ts';
import type { OrgServiceDeps } from './orgs-deps.ts';

export function createOrgService(deps: OrgServiceDeps) {
  const { db, store, audit, clock } = deps;

  async function buildCaller(user: UserWithoutOrg, orgId: OrgId, orgName: string, memberId: string, role: Role) {
    return {
      orgId,
      orgName,
      actor: { type: 'user' as const, id: user.userId, name: user.email || user.name },
      userId: user.userId,
      memberId,
      role,
      teamIds: await store.forOrg(orgId).teamIdsOfMember(memberId),
      permissions: permissionsForRole(role),
    } satisfies Caller;
  }

  const service = {
    async create(
      user: UserWithoutOrg,
      body: { name: string; industry?: string; timezone?: string; locale?: string },
      opts: { plan?: string } = {},
    ) {
      const owned = await store.countOwnedOrgs(user.userId);
      if (owned >= deps.config.orgsPerUser)
        throw new AppError(
          'forbidden',
          `You already own ${owned} organizations, the most one account may create on this hub (HUB_ORGS_PER_USER=${deps.config.orgsPerUser}). Ask its operator to raise it, or delete one you no longer use.`,
        );
      const t = clock();
      const orgId = newOrgId(t);
      const row: OrgsTable = {
        id: orgId,
        name: body.name,
        logo_url: null,
        billing_email: user.email || null,
        plan: opts.plan ?? deps.plans.defaultPlan(),
        region: 'default',
        timezone: body.timezone ?? 'UTC',
        locale: body.locale ?? 'en-US',
        industry: body.industry ?? null,
        settings: JSON.stringify(DEFAULT_ORG_SETTINGS),
        created_at: t,
        updated_at: t,
      };
      const memberId = newId('mem', t);
      await db.transaction().execute(async (trx) => {
        await store.insertOrg(trx, row);
        await store
          .forOrg(orgId, trx)
          .insertMember({ id: memberId, user_id: user.userId, role: 'owner', created_at: t });
        await store.setActiveOrg(trx, user.userId, row.id);
        const actor = { type: 'user' as const, id: user.userId, name: user.email };
        await audit.append(trx, orgId, {
          actor,
          action: 'org.created',
          entityType: 'org',
          entityId: row.id,
          changes: toOrg(row),
        });
        await audit.append(trx, orgId, {
          actor,
          action: 'member.added',
          entityType: 'member',
          entityId: memberId,
          changes: { user_id: user.userId, email: user.email, role: 'owner' },
        });
      });
      return toOrg(row);
    },

    async get(orgId: OrgId) {
      const row = await store.forOrg(orgId).getOrg();
      if (!row) throw notFound('Organization');
      return toOrg(row);
    },

    async update(caller: Caller, patch: Record<string, unknown> & { settings?: Record<string, boolean> }) {
      return db.transaction().execute(async (trx) => {
        const orgs = store.forOrg(caller.orgId, trx);
        const before = await orgs.getOrg();
        if (!before) throw notFound('Organization');
        const { settings, ...fields } = patch;
        const next: Partial<OrgsTable> = { ...(fields as Partial<OrgsTable>), updated_at: clock() };
        if (settings) next.settings = JSON.stringify({ ...JSON.parse(before.settings), ...settings });
        await orgs.updateOrg(next);
        const after = { ...before, ...next } as OrgsTable;
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'org.updated',
          entityType: 'org',
          entityId: caller.orgId,
          changes: { before: toOrg(before), after: toOrg(after) },
        });
        return toOrg(after);
      });
    },

    /** The session's caller: in `hint` when the user is a member there, else the active or first org. */
    async callerForUser(user: UserWithoutOrg, hint: string | undefined): Promise<Caller | null> {
      const memberships = await store.membershipsOfUser(user.userId);
      let m = hint ? memberships.find((x) => x.org_id === hint) : undefined;
      if (hint && !m) return null;
      if (!m) {
        const active = await store.activeOrgOf(user.userId);
        m = memberships.find((x) => x.org_id === active) ?? memberships[0];
      }
      if (!m) return null;
      return buildCaller(user, m.org_id, m.org_name, m.member_id, m.role as Role);
    },

    memberships: (userId: string) => store.membershipsOfUser(userId),

    async switchActiveOrg(user: UserWithoutOrg, orgId: string) {
      const memberships = await store.membershipsOfUser(user.userId);
      if (!memberships.some((m) => m.org_id === orgId)) throw notFound('Organization');
      await store.setActiveOrg(db, user.userId, orgId);
    },

    countUsers: () => store.countUsers(),
    userByEmail: (email: string) => store.userByEmail(email),
    user: (userId: string) => store.user(userId),
    markEmailVerified: (userId: string) => store.markEmailVerified(userId),
  };

  const members = createMemberService(deps);
  const invitations = createInvitationService({ ...deps, members });
  return { ...service, members, invitations };
}
export type OrgService = ReturnType<typeof createOrgService>;
