/**
 * Names for the ids the API hands out where a person or a key acted (`changed_by`, `decided_by` and the
 * like): members by their user id, API keys by their id. Uses the cached members and keys lists; an id
 * the viewer may not resolve (no `members:read`) reads as "a member" rather than as a raw id.
 */

import type { ApiKey, Member } from '@agentops-hub/contracts';
import { useQuery } from '@tanstack/react-query';
import { usePermissions } from '../lib/permissions';
import { api, type Page } from './client';

export function usePeople(): (id: string | null | undefined) => string {
  const { can } = usePermissions();
  const members = useQuery({
    queryKey: ['members'],
    queryFn: () => api<Page<Member>>('/v1/members'),
    enabled: can('members:read'),
  });
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: () => api<Page<ApiKey>>('/v1/api-keys'),
    enabled: can('api_keys:read'),
  });
  return (id) => {
    if (!id) return '—';
    const m = members.data?.data.find((x) => x.user_id === id);
    if (m) return m.name || m.email;
    const k = keys.data?.data.find((x) => x.id === id);
    if (k) return `API key “${k.name}”`;
    if (id === 'system') return 'the hub';
    return 'a member';
  };
}
