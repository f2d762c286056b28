/**
 * @module orgs
 * Organizations, members, invitations and teams (API keys: api-keys.ts).
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';
import { RoleSchema } from './rbac.ts';

export const Plans = ['starter', 'growth', 'scale'] as const;
export const PlanSchema = z.enum(Plans);

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Paris');

export const CreateOrgBody = z.object({
  name: z.string().trim().min(1).max(120),
  industry: z.string().max(80).optional(),
  timezone: timezone.optional(),
  locale: z.string().max(20).optional(),
});

export const UpdateOrgBody = z.object({
  name: z.string().trim().min(1).max(120).optional(),
  logo_url: z.string().url().max(2000).nullable().optional(),
  billing_email: z.string().email().nullable().optional(),
  region: z.string().max(40).optional(),
  timezone: timezone.optional(),
  locale: z.string().max(20).optional(),
  industry: z.string().max(80).nullable().optional(),
  settings: z
    .object({
      auto_register_agents: z.boolean().optional(),
      default_deny: z.boolean().optional(),
    })
    .optional(),
});

export const OrgSchema = z.object({
  id: z.string(),
  name: z.string(),
  logo_url: z.string().nullable(),
  billing_email: z.string().nullable(),
  plan: PlanSchema,
  region: z.string(),
  timezone: z.string(),
  locale: z.string(),
  industry: z.string().nullable(),
  settings: z.object({ auto_register_agents: z.boolean(), default_deny: z.boolean() }),
  created_at: IsoDate,
});
export type Org = z.infer<typeof OrgSchema>;

export const MemberSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  email: z.string(),
  name: z.string(),
  role: RoleSchema,
  team_ids: z.array(z.string()),
  created_at: IsoDate,
});
export const UpdateMemberBody = z.object({ role: RoleSchema });

export const CreateInvitationBody = z.object({
  email: z.string().email().max(320),
  role: RoleSchema.exclude(['owner']).or(z.literal('owner')),
  team_id: z.string().max(64).optional(),
});
export const InvitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: RoleSchema,
  team_id: z.string().nullable(),
  status: z.enum(['pending', 'accepted', 'declined', 'revoked', 'expired']),
  invited_by: z.string().nullable(),
  expires_at: IsoDate,
  created_at: IsoDate,
});

export const CreateTeamBody = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().max(2000).optional(),
});
export const TeamSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  member_ids: z.array(z.string()),
  created_at: IsoDate,
});
export const TeamMemberBody = z.object({ member_id: z.string() });
