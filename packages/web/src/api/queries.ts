/**
 * Shared queries: who am I, the emergency controls, the pending-approvals count. Pages define their own
 * queries next to them with `useQuery({ queryKey: [...], queryFn: () => api(...) })`; mutations call
 * `queryClient.invalidateQueries({ queryKey: [first segment] })` so every view of that resource refreshes.
 */
import { QueryClient, useQuery } from '@tanstack/react-query';
import { ApiError, api, type Page } from './client';
import type { Approval, Controls, Me } from './types';

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: true,
      // Auth and permission answers will not change by asking again.
      retry: (count, e) => !(e instanceof ApiError && e.status >= 400 && e.status < 500) && count < 2,
    },
  },
});

export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/me'), staleTime: 30_000 });
}

export function useSetupStatus() {
  return useQuery({
    queryKey: ['setup-status'],
    queryFn: () => api<{ needs_owner: boolean }>('/v1/setup/status'),
    staleTime: 60_000,
  });
}

export function useControls(enabled = true) {
  return useQuery({
    queryKey: ['controls'],
    queryFn: () => api<Controls>('/v1/controls'),
    refetchInterval: 10_000,
    enabled,
  });
}

/** Pending approvals, polled: the nav badge and the inbox share this query. */
export function usePendingApprovals(enabled = true) {
  return useQuery({
    queryKey: ['approvals', 'pending'],
    queryFn: () => api<Page<Approval>>('/v1/approvals', { query: { status: 'pending', limit: 200 } }),
    refetchInterval: 3_000,
    enabled,
  });
}
