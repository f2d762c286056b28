/**
 * An agent's content capture level on its own page: follow the org's level, or keep full content,
 * redacted content, or metadata only. Admins set any level; a team lead may tighten their own teams'
 * agents (the hub answers 403 with the reason otherwise, shown under the picker).
 */
import type { AgentPrivacy, CaptureLevel } from '@agentops-hub/contracts';
import { Card, Select, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { FormError, QueryState } from '../../components/states';
import { usePermissions } from '../../lib/permissions';
import { CAPTURE_LABELS } from '../privacy/PrivacyView';

/** The picker's value for "no level of its own". */
const FOLLOW = 'org';

/** The picker's choices, the first naming the org's level the agent would follow. */
export function captureOptions(orgLevel: CaptureLevel | undefined) {
  const follow = orgLevel ? `Like the organization (${CAPTURE_LABELS[orgLevel]})` : 'Like the organization';
  return [
    { value: FOLLOW, label: follow },
    ...Object.entries(CAPTURE_LABELS).map(([value, label]) => ({ value, label })),
  ];
}

export function AgentCaptureCard({ agentId, agentName }: { agentId: string; agentName: string }) {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const key = ['agent-privacy', agentId];
  const level = useQuery({ queryKey: key, queryFn: () => api<AgentPrivacy>(`/v1/privacy/agents/${agentId}`) });
  // The org's level names the "follow" choice; people without org:read still get the picker.
  const org = useQuery({
    queryKey: ['privacy'],
    queryFn: () => api<{ capture: CaptureLevel }>('/v1/privacy'),
    enabled: can('org:read'),
  });
  const put = useMutation({
    mutationFn: (capture: CaptureLevel | null) =>
      api<AgentPrivacy>(`/v1/privacy/agents/${agentId}`, { method: 'PUT', body: { capture } }),
    onSuccess: async (saved) => {
      qc.setQueryData(key, saved);
      await qc.invalidateQueries({ queryKey: ['privacy'] });
      notifications.show({ color: 'teal', message: `${agentName} now keeps ${CAPTURE_LABELS[saved.effective]}.` });
    },
  });
  return (
    <Card withBorder component="section" aria-label="Content capture">
      <Title order={2} size="h4" mb="xs">
        Content capture
      </Title>
      <QueryState query={level} label="Loading the capture level…">
        {(p) => (
          <>
            <Select
              label="What the hub keeps of this agent's content"
              data={captureOptions(org.data?.capture)}
              value={p.capture ?? FOLLOW}
              onChange={(v) => v && put.mutate(v === FOLLOW ? null : (v as CaptureLevel))}
              disabled={!can('agents:edit') || put.isPending}
              allowDeselect={false}
              maw={360}
            />
            <Text size="sm" c="dimmed" mt="xs">
              In force: {CAPTURE_LABELS[p.effective]}. Decisions are still made on the whole action.
            </Text>
            <FormError error={put.error} />
          </>
        )}
      </QueryState>
    </Card>
  );
}
