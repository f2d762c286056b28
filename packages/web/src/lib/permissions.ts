/**
 * What the signed-in person may do, from `GET /v1/me`. Navigation and every button ask `can(...)`;
 * the hub enforces the same permissions, so hiding is for clarity, not security.
 *
 * @example
 * const { can } = usePermissions();
 * {can('approvals:decide') && <Button>Approve</Button>}
 */
import { useMe } from '../api/queries';

/** A `:team` grant counts too: the hub then limits it to the caller's teams' resources. */
export function hasPermission(permissions: readonly string[] | undefined, perm: string): boolean {
  if (!permissions) return false;
  return permissions.includes(perm) || permissions.includes(`${perm}:team`);
}

export function usePermissions() {
  const me = useMe();
  const perms = me.data?.permissions;
  return { can: (perm: string) => hasPermission(perms, perm), role: me.data?.org?.role, me: me.data };
}
