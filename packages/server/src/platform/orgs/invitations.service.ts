/**
 * Invitations by email with a role (and optionally a team). The link carries a random token; only its
 * hash is stored. Accepting needs a signed-in user whose email is the invited one, so a forwarded link
 * cannot be used by someone else. Invitations expire after 7 days and can be revoked.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '@agentops-hub/contracts';
import { newId } from '../../db/ids.ts';
import type { Caller, OrgId, UserWithoutOrg } from '../caller.ts';
import { AppError, notFound } from '../errors.ts';
import { assertBelowOrgCap } from '../org-caps.ts';
import type { MemberService } from './members.service.ts';
import { toInvitation } from './org-dto.ts';
import type { OrgServiceDeps } from './orgs-deps.ts';

const TTL_MS = 7 * 24 * 3600 * 1000;
const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');

export function createInvitationService(deps: OrgServiceDeps & { members: MemberService }) {
  const { db, store, audit, clock, config } = deps;

  async function pendingByToken(token: string, user: UserWithoutOrg) {
    const inv = await store.invitationByTokenHash(hashToken(token));
    if (!inv) throw notFound('Invitation');
    if (inv.status !== 'pending') throw new AppError('conflict', `This invitation was already ${inv.status}.`);
    if (Number(inv.expires_at) <= clock())
      throw new AppError('conflict', 'This invitation has expired: ask for a new one.');
    if (inv.email.toLowerCase() !== user.email.toLowerCase())
      throw new AppError('forbidden', `This invitation is for ${inv.email}; you are signed in as ${user.email}.`);
    return inv;
  }

  return {
    async list(orgId: OrgId) {
      const t = clock();
      return (await store.forOrg(orgId).listInvitations()).map((r) => toInvitation(r, t));
    },

    async create(caller: Caller, body: { email: string; role: Role; team_id?: string }) {
      if (body.role === 'owner' && caller.role !== 'owner' && !caller.scopes?.includes('full'))
        throw new AppError('forbidden', 'Only an owner can invite another owner.');
      const token = randomBytes(24).toString('base64url');
      const t = clock();
      const row = {
        id: newId('inv', t),
        email: body.email.toLowerCase(),
        role: body.role,
        team_id: body.team_id ?? null,
        token_hash: hashToken(token),
        status: 'pending',
        invited_by: caller.actor.id,
        expires_at: t + TTL_MS,
        created_at: t,
        decided_at: null,
      };
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('invitations a day', () => s.countInvitationsSince(t - 86_400_000));
        if (body.team_id && !(await s.getTeam(body.team_id)))
          throw new AppError('validation_failed', 'team_id: no such team in this organization', {
            errors: [{ path: 'team_id', message: 'no such team in this organization' }],
          });
        await s.insertInvitation(row);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'invitation.created',
          entityType: 'invitation',
          entityId: row.id,
          changes: { email: row.email, role: row.role, team_id: row.team_id },
        });
      });
      const url = `${config.publicUrl}/invitations/accept?token=${token}`;
      await deps.mailer.send({
        to: row.email,
        // The org's outbox lists it, so an admin without SMTP can see and pass on the invitation.
        orgId: caller.orgId,
        subject: `${caller.actor.name ?? 'Someone'} invited you to ${caller.orgName} on AgentOps Hub`,
        text: `You are invited to join ${caller.orgName} as ${row.role}.\n\nAccept: ${url}\n\nThe invitation expires in 7 days.`,
      });
      // The token is returned to the inviter too, so a self-hoster without SMTP can pass the link on.
      return { ...toInvitation({ ...row, org_id: caller.orgId }, t), accept_url: url };
    },

    async revoke(caller: Caller, id: string) {
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        const inv = await s.getInvitation(id);
        if (!inv) throw notFound('Invitation');
        if (inv.status !== 'pending') throw new AppError('conflict', `This invitation was already ${inv.status}.`);
        await s.setInvitationStatus(id, 'revoked', clock());
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'invitation.revoked',
          entityType: 'invitation',
          entityId: id,
          changes: { email: inv.email },
        });
      });
    },

    async accept(user: UserWithoutOrg, token: string) {
      const inv = await pendingByToken(token, user);
      const orgId = inv.org_id;
      const memberId = await db.transaction().execute(async (trx) => {
        const id = await deps.members.add(trx, orgId, user.userId, inv.role as Role, inv.team_id);
        await store.forOrg(orgId, trx).setInvitationStatus(inv.id, 'accepted', clock());
        await store.setActiveOrg(trx, user.userId, inv.org_id);
        const actor = { type: 'user' as const, id: user.userId, name: user.email };
        await audit.append(trx, orgId, {
          actor,
          action: 'invitation.accepted',
          entityType: 'invitation',
          entityId: inv.id,
          changes: { email: inv.email, role: inv.role },
        });
        await audit.append(trx, orgId, {
          actor,
          action: 'member.added',
          entityType: 'member',
          entityId: id,
          changes: { user_id: user.userId, email: user.email, role: inv.role, team_id: inv.team_id },
        });
        return id;
      });
      return { org_id: inv.org_id, member_id: memberId, role: inv.role };
    },

    async decline(user: UserWithoutOrg, token: string) {
      const inv = await pendingByToken(token, user);
      const orgId = inv.org_id;
      await db.transaction().execute(async (trx) => {
        await store.forOrg(orgId, trx).setInvitationStatus(inv.id, 'declined', clock());
        await audit.append(trx, orgId, {
          actor: { type: 'user', id: user.userId, name: user.email },
          action: 'invitation.declined',
          entityType: 'invitation',
          entityId: inv.id,
          changes: { email: inv.email },
        });
      });
      return { status: 'declined' as const };
    },
  };
}
