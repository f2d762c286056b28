/**
 * @module rbac
 * Roles, API-key scopes and permission names. The matrix that maps roles to permissions lives in the
 * server (`platform/rbac`); the names are here so the console and SDK can check `GET /v1/me`.
 */
import { z } from 'zod';

export const Roles = ['owner', 'admin', 'team_lead', 'member', 'viewer'] as const;
export const RoleSchema = z.enum(Roles);
export type Role = z.infer<typeof RoleSchema>;

export const KeyScopes = ['ingest', 'read', 'admin', 'full'] as const;
export const KeyScopeSchema = z.enum(KeyScopes);
export type KeyScope = z.infer<typeof KeyScopeSchema>;

/**
 * Every permission the hub checks. A permission ending in `:team` grants the action only on resources
 * owned by one of the caller's teams (team leads).
 */
export const Permissions = [
  'org:read',
  'org:update',
  'org:delete',
  'org:export',
  'billing:manage',
  'members:read',
  'members:manage',
  'teams:read',
  'teams:manage',
  'api_keys:read',
  'api_keys:manage',
  'agents:read',
  'agents:create',
  'agents:edit',
  'agents:pause',
  'agents:delete',
  'agents:create:team',
  'agents:edit:team',
  'agents:pause:team',
  'agents:delete:team',
  'policies:read',
  'policies:create',
  'policies:edit',
  'policies:activate',
  'policies:create:team',
  'policies:edit:team',
  'policies:activate:team',
  'approvals:read',
  'approvals:decide',
  'costs:read',
  'budgets:read',
  'budgets:manage',
  'budgets:manage:team',
  'integrations:read',
  'integrations:manage',
  'audit:read',
  'runs:read',
  /** See prompts, completions and payloads of runs (owners and admins); others see them hidden. */
  'view_content',
  /** The same, for the runs of the caller's teams' agents (team leads). */
  'view_content:team',
  'ingest:write',
  'policy:evaluate',
  'controls:read',
  'controls:manage',
  'reports:read',
  'reports:manage',
  'notifications:read',
] as const;
export type Permission = (typeof Permissions)[number];

export const MeSchema = z.object({
  user: z
    .object({
      id: z.string(),
      email: z.string(),
      name: z.string(),
      email_verified: z.boolean(),
      two_factor_enabled: z.boolean(),
    })
    .optional(),
  org: z.object({ id: z.string(), name: z.string(), role: RoleSchema.optional() }),
  orgs: z.array(z.object({ id: z.string(), name: z.string(), role: RoleSchema })).optional(),
  scopes: z.array(KeyScopeSchema).optional(),
  team_ids: z.array(z.string()).optional(),
  permissions: z.array(z.string()),
});
export type Me = z.infer<typeof MeSchema>;
