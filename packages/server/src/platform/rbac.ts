/**
 * The permission matrix: one place that says what each role and each API-key scope may do.
 * `GET /v1/me` returns the caller's set so the console hides what it may not do; every route declares
 * the permission it needs (see `platform/routes.ts`), and services check team ownership for `:team`.
 */
import type { KeyScope, Permission, Role } from '@agentops-hub/contracts';
import { Permissions } from '@agentops-hub/contracts';

const READ: Permission[] = Permissions.filter((p) => p.endsWith(':read'));

const OWNER_ONLY: Permission[] = ['org:delete', 'billing:manage', 'org:export'];
const TEAM_VARIANTS: Permission[] = Permissions.filter((p) => p.endsWith(':team'));

const ADMIN: Permission[] = Permissions.filter((p) => !OWNER_ONLY.includes(p) && !TEAM_VARIANTS.includes(p));

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: Permissions.filter((p) => !TEAM_VARIANTS.includes(p)),
  admin: ADMIN,
  team_lead: [
    ...READ.filter((p) => p !== 'api_keys:read' && p !== 'integrations:read'),
    'agents:create:team',
    'agents:edit:team',
    'agents:pause:team',
    'agents:delete:team',
    'policies:create:team',
    'policies:edit:team',
    'policies:activate:team',
    'budgets:manage:team',
    'approvals:decide',
    'reports:manage',
    'view_content:team',
  ],
  member: [
    ...READ.filter((p) => !['api_keys:read', 'integrations:read', 'audit:read'].includes(p)),
    'approvals:decide',
  ],
  // Viewers read; they never approve, never change anything.
  viewer: READ.filter((p) => !['api_keys:read', 'integrations:read', 'audit:read'].includes(p)),
};

export const SCOPE_PERMISSIONS: Record<KeyScope, readonly Permission[]> = {
  // What an agent needs: report, ask, learn its controls, wait for its approvals, resolve agents.
  ingest: ['ingest:write', 'policy:evaluate', 'controls:read', 'approvals:read', 'agents:read'],
  read: READ,
  admin: ADMIN,
  full: ROLE_PERMISSIONS.owner,
};

export function permissionsForRole(role: Role): Set<Permission> {
  return new Set(ROLE_PERMISSIONS[role]);
}

export function permissionsForScopes(scopes: readonly KeyScope[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const s of scopes) for (const p of SCOPE_PERMISSIONS[s]) out.add(p);
  return out;
}

/** Which scopes a role may put on a key it creates: never more than it holds itself. */
export function scopesAllowedForRole(role: Role | undefined, callerScopes?: readonly KeyScope[]): KeyScope[] {
  if (callerScopes) {
    if (callerScopes.includes('full')) return ['ingest', 'read', 'admin', 'full'];
    if (callerScopes.includes('admin')) return ['ingest', 'read', 'admin'];
    return [];
  }
  if (role === 'owner') return ['ingest', 'read', 'admin', 'full'];
  if (role === 'admin') return ['ingest', 'read', 'admin'];
  return [];
}

/**
 * Whether `permissions` grant `perm` on everything ('all'), only on the caller's teams' resources
 * ('team'), or not at all.
 */
export function grantLevel(permissions: ReadonlySet<Permission>, perm: Permission): 'all' | 'team' | null {
  if (permissions.has(perm)) return 'all';
  if (permissions.has(`${perm}:team` as Permission)) return 'team';
  return null;
}
