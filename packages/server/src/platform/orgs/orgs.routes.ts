/** HTTP routes for orgs, `GET /v1/me`, members, invitations, teams, plan and feature flags. */
import {
  CreateInvitationBody,
  CreateOrgBody,
  CreateTeamBody,
  OrgPlanSchema,
  TeamMemberBody,
  UpdateMemberBody,
  UpdateOrgBody,
} from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { callerOf, sessionUserOf } from '../route-config.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });
const TokenBody = z.object({ token: z.string().min(10).max(200) });

export function registerOrgRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const { orgs } = ctx;

  app.get('/v1/me', { config: { auth: 'user' }, schema: { tags: ['orgs'] } }, async (req) => {
    const caller = req.caller;
    const user = req.sessionUser;
    let userDto: Record<string, unknown> | undefined;
    let orgList: { id: string; name: string; role: string }[] | undefined;
    if (user) {
      const u = await orgs.user(user.userId);
      userDto = {
        id: user.userId,
        email: u?.email ?? user.email,
        name: u?.name ?? user.name,
        email_verified: Boolean(u?.emailVerified),
        two_factor_enabled: Boolean(u?.twoFactorEnabled),
      };
      orgList = (await orgs.memberships(user.userId)).map((m) => ({ id: m.org_id, name: m.org_name, role: m.role }));
    }
    return {
      ...(userDto ? { user: userDto } : {}),
      org: caller ? { id: caller.orgId, name: caller.orgName, ...(caller.role ? { role: caller.role } : {}) } : null,
      ...(orgList ? { orgs: orgList } : {}),
      ...(caller?.scopes ? { scopes: caller.scopes } : {}),
      team_ids: caller?.teamIds ?? [],
      permissions: caller ? [...caller.permissions].sort() : [],
    };
  });

  app.post(
    '/v1/orgs',
    { config: { auth: 'user' }, schema: { body: CreateOrgBody, tags: ['orgs'] } },
    async (req, reply) => {
      const org = await orgs.create(sessionUserOf(req), req.body);
      return reply.status(201).send(org);
    },
  );
  app.get('/v1/orgs', { config: { auth: 'user' }, schema: { tags: ['orgs'] } }, async (req) => {
    const user = sessionUserOf(req);
    return {
      data: (await orgs.memberships(user.userId)).map((m) => ({ id: m.org_id, name: m.org_name, role: m.role })),
      next_cursor: null,
    };
  });
  app.post(
    '/v1/orgs/:id/activate',
    { config: { auth: 'user' }, schema: { params: IdParams, tags: ['orgs'] } },
    async (req, reply) => {
      await orgs.switchActiveOrg(sessionUserOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
  app.get('/v1/org', { config: { permission: 'org:read' }, schema: { tags: ['orgs'] } }, async (req) =>
    orgs.get(callerOf(req).orgId),
  );
  app.patch(
    '/v1/org',
    { config: { permission: 'org:update' }, schema: { body: UpdateOrgBody, tags: ['orgs'] } },
    async (req) => orgs.update(callerOf(req), req.body),
  );
  app.get(
    '/v1/org/plan',
    { config: { permission: 'org:read' }, schema: { response: { 200: OrgPlanSchema }, tags: ['orgs'] } },
    async (req) => {
      const org = await orgs.get(callerOf(req).orgId);
      const orgId = callerOf(req).orgId;
      // `usage`: events this month from the rollups (modules/stats/plan-usage.ts); over the limit nothing is dropped.
      return {
        plan: org.plan,
        limits: await ctx.plans.limits(orgId),
        features: await ctx.plans.flags(orgId),
        usage: await ctx.planUsage.usage(orgId),
      };
    },
  );
  app.put(
    '/v1/org/features/:flag',
    {
      config: { permission: 'org:update' },
      schema: {
        params: z.object({ flag: z.string() }),
        body: z.object({ enabled: z.boolean().nullable() }),
        tags: ['orgs'],
      },
    },
    async (req) => {
      await ctx.plans.setFlag(callerOf(req).orgId, req.params.flag, req.body.enabled);
      return { features: await ctx.plans.flags(callerOf(req).orgId) };
    },
  );

  app.get('/v1/members', { config: { permission: 'members:read' }, schema: { tags: ['members'] } }, async (req) => ({
    data: await orgs.members.list(callerOf(req).orgId),
    next_cursor: null,
  }));
  app.get(
    '/v1/members/:id',
    { config: { permission: 'members:read' }, schema: { params: IdParams, tags: ['members'] } },
    async (req) => orgs.members.get(callerOf(req).orgId, req.params.id),
  );
  app.patch(
    '/v1/members/:id',
    {
      config: { permission: 'members:manage' },
      schema: { params: IdParams, body: UpdateMemberBody, tags: ['members'] },
    },
    async (req) => orgs.members.setRole(callerOf(req), req.params.id, req.body.role),
  );
  app.delete(
    '/v1/members/:id',
    { config: { permission: 'members:manage' }, schema: { params: IdParams, tags: ['members'] } },
    async (req, reply) => {
      await orgs.members.remove(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/invitations',
    { config: { permission: 'members:read' }, schema: { tags: ['members'] } },
    async (req) => ({
      data: await orgs.invitations.list(callerOf(req).orgId),
      next_cursor: null,
    }),
  );
  app.post(
    '/v1/invitations',
    { config: { permission: 'members:manage' }, schema: { body: CreateInvitationBody, tags: ['members'] } },
    async (req, reply) => reply.status(201).send(await orgs.invitations.create(callerOf(req), req.body)),
  );
  app.delete(
    '/v1/invitations/:id',
    { config: { permission: 'members:manage' }, schema: { params: IdParams, tags: ['members'] } },
    async (req, reply) => {
      await orgs.invitations.revoke(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/invitations/accept',
    { config: { auth: 'user' }, schema: { body: TokenBody, tags: ['members'] } },
    async (req) => orgs.invitations.accept(sessionUserOf(req), req.body.token),
  );
  app.post(
    '/v1/invitations/decline',
    { config: { auth: 'user' }, schema: { body: TokenBody, tags: ['members'] } },
    async (req) => orgs.invitations.decline(sessionUserOf(req), req.body.token),
  );

  app.get('/v1/teams', { config: { permission: 'teams:read' }, schema: { tags: ['teams'] } }, async (req) => ({
    data: await orgs.members.listTeams(callerOf(req).orgId),
    next_cursor: null,
  }));
  app.post(
    '/v1/teams',
    { config: { permission: 'teams:manage' }, schema: { body: CreateTeamBody, tags: ['teams'] } },
    async (req, reply) => reply.status(201).send(await orgs.members.createTeam(callerOf(req), req.body)),
  );
  app.delete(
    '/v1/teams/:id',
    { config: { permission: 'teams:manage' }, schema: { params: IdParams, tags: ['teams'] } },
    async (req, reply) => {
      await orgs.members.deleteTeam(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/teams/:id/members',
    { config: { permission: 'teams:manage' }, schema: { params: IdParams, body: TeamMemberBody, tags: ['teams'] } },
    async (req, reply) => {
      await orgs.members.setTeamMember(callerOf(req), req.params.id, req.body.member_id, true);
      return reply.status(204).send();
    },
  );
  app.delete(
    '/v1/teams/:id/members/:memberId',
    {
      config: { permission: 'teams:manage' },
      schema: { params: IdParams.extend({ memberId: z.string() }), tags: ['teams'] },
    },
    async (req, reply) => {
      await orgs.members.setTeamMember(callerOf(req), req.params.id, req.params.memberId, false);
      return reply.status(204).send();
    },
  );
}
