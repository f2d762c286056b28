/**
 * Shared queries: who am I, the emergency controls, the pending-approvals count and its live stream. Pages define their own
 * queries next to them with `useQuery({ queryKey: [...], queryFn: () => api(...) })`; mutations call
 * `queryClient.invalidateQueries({ queryKey: [first segment] })` so every view of that resource refreshes.
 */

import type { Approval, ControlsState as Controls, Me } from '@agentops-hub/contracts';
import { QueryClient, useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { ApiError, api, type Page, planLockOf } from './client';

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

/** `GET /v1/setup/status`: whether the hub still needs its owner, and who may sign up (HUB_SIGNUP). */
export interface SetupStatus {
  needs_owner: boolean;
  signup: 'invite' | 'open' | 'domain';
  signup_domains?: string[];
}

export function useSetupStatus() {
  return useQuery({
    queryKey: ['setup-status'],
    queryFn: () => api<SetupStatus>('/v1/setup/status'),
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

/**
 * Pending approvals: the nav badge and the inbox share this query. The live stream (useApprovalEvents)
 * refreshes it the moment an approval is created or decided; the slow poll only covers a stream that a
 * proxy cut, and expiries (which change the list without an event).
 */
export function usePendingApprovals(enabled = true) {
  return useQuery({
    queryKey: ['approvals', 'pending'],
    queryFn: () => api<Page<Approval>>('/v1/approvals', { query: { status: 'pending', limit: 200 } }),
    // A plan without approvals answers the same 402 every time: stop asking (the page shows it locked).
    refetchInterval: (q) => (planLockOf(q.state.error) ? false : 15_000),
    enabled,
  });
}

/**
 * Listens to `GET /v1/approvals/events` (Server-Sent Events, the session cookie authenticates) and
 * refreshes every approvals view on each change. The stream is for the active org, so it reconnects
 * when the org changes; EventSource itself reconnects after a dropped connection.
 */
export function useApprovalEvents(enabled: boolean, orgId: string | undefined) {
  useEffect(() => {
    if (!enabled || !orgId || typeof EventSource === 'undefined') return;
    const source = new EventSource('/v1/approvals/events');
    source.addEventListener('approval', () => void queryClient.invalidateQueries({ queryKey: ['approvals'] }));
    return () => source.close();
  }, [enabled, orgId]);
}
