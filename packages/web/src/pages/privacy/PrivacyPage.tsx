/**
 * Privacy settings (`/settings/privacy`): what the hub keeps of what agents send. Fetches
 * `GET /v1/privacy` (polled while a re-redaction runs, so its progress moves) and the org's agents, and
 * saves through `PUT /v1/privacy`, `PUT /v1/privacy/agents/{id}`, `POST /v1/privacy/test` and
 * `POST /v1/privacy/redact-stored`. What it shows is PrivacyView.tsx.
 */
import type { Agent, CaptureLevel, PrivacySettings, PutPrivacyBody, RedactionJob } from '@agentops-hub/contracts';
import { Stack } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Page } from '../../api/client';
import { PageHeader, QueryStatus } from '../../components/states';
import { usePermissions } from '../../lib/permissions';
import { PrivacyView } from './PrivacyView';

const KEY = ['privacy'];

export function PrivacyPage() {
  const { can, me } = usePermissions();
  const qc = useQueryClient();
  const settings = useQuery({
    queryKey: KEY,
    queryFn: () => api<PrivacySettings>('/v1/privacy'),
    refetchInterval: (q) => {
      const s = q.state.data?.redaction?.status;
      return s === 'queued' || s === 'running' ? 2000 : false;
    },
  });
  const agents = useQuery({
    queryKey: ['agents', 'privacy-picker'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
  });
  const saved = (s: PrivacySettings) => {
    qc.setQueryData(KEY, s);
    if (s.redaction?.status === 'queued')
      notifications.show({ message: 'Saved. What is already stored is being re-redacted.' });
    else notifications.show({ color: 'teal', message: 'Privacy settings saved.' });
  };
  const put = useMutation({
    mutationFn: (body: PutPrivacyBody) => api<PrivacySettings>('/v1/privacy', { method: 'PUT', body }),
    onSuccess: saved,
  });
  const putAgent = useMutation({
    mutationFn: ({ id, capture }: { id: string; capture: CaptureLevel | null }) =>
      api(`/v1/privacy/agents/${id}`, { method: 'PUT', body: { capture } }),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: "The agent's capture level was saved." });
      qc.invalidateQueries({ queryKey: KEY });
    },
  });
  const redact = useMutation({
    mutationFn: () => api<RedactionJob>('/v1/privacy/redact-stored', { method: 'POST' }),
    onSuccess: () => {
      notifications.show({ message: 'Re-redaction queued.' });
      qc.invalidateQueries({ queryKey: KEY });
    },
  });

  return (
    <Stack>
      <PageHeader
        title="Privacy"
        description="What the hub keeps of prompts, completions and tool payloads: redacted before anything is written."
      />
      <QueryStatus query={settings} />
      {settings.data && (
        <PrivacyView
          settings={settings.data}
          agents={agents.data?.data ?? []}
          canEdit={can('org:update')}
          canEditAgents={can('agents:edit')}
          // The sample box needs view_content on every agent (its hashes are org-wide).
          canTest={Boolean(me?.permissions.includes('view_content'))}
          onCapture={(capture) => put.mutate({ capture })}
          onRules={(rules) => put.mutate({ rules })}
          onAgentCapture={(id, capture) => putAgent.mutate({ id, capture })}
          onTest={async (payload, capture) =>
            (await api<{ result: unknown }>('/v1/privacy/test', { method: 'POST', body: { payload, capture } })).result
          }
          onRedact={() => redact.mutate()}
          saving={put.isPending}
          error={put.error ?? putAgent.error ?? redact.error}
        />
      )}
    </Stack>
  );
}
