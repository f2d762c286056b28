/**
 * Plan and feature flags: the org's plan with its limits, and each feature flag (on by rollout or by
 * an override that `org:update` can set or clear: `PUT /v1/org/features/{flag}`).
 */

import type { OrgPlan } from '@agentops-hub/contracts';
import { Badge, Button, Card, Group, List, SimpleGrid, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconCheck } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, errorMessage } from '../../api/client';
import { ErrorState, Loading, PageHeader } from '../../components/states';
import { num } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';

const FLAG_TEXT: Record<string, string> = {
  otlp_ingest: 'OpenTelemetry trace ingestion (POST /v1/traces)',
  policy_simulation: 'Simulate a policy over recorded actions before activating it',
  insights: 'Computed "what changed" insights in reports',
};

const FEATURE_TEXT: Record<string, string> = {
  policies: 'Policies',
  approvals: 'Human approvals',
  budgets: 'Budgets',
  reports: 'Scheduled reports',
  sso: 'Single sign-on',
  audit_export: 'Audit export',
  mcp_gateway: 'MCP gateway',
};

export function PlanPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const plan = useQuery({ queryKey: ['org-plan'], queryFn: () => api<OrgPlan>('/v1/org/plan') });
  const setFlag = useMutation({
    mutationFn: ({ flag, enabled }: { flag: string; enabled: boolean | null }) =>
      api<{ features: Record<string, boolean> }>(`/v1/org/features/${encodeURIComponent(flag)}`, {
        method: 'PUT',
        body: { enabled },
      }),
    onSuccess: (r, v) => {
      qc.setQueryData<OrgPlan>(['org-plan'], (p) => (p ? { ...p, features: r.features } : p));
      notifications.show({
        message:
          v.enabled === null ? `${v.flag}: back to the default.` : `${v.flag} turned ${v.enabled ? 'on' : 'off'}.`,
      });
    },
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });

  if (plan.isPending) return <Loading />;
  if (plan.error) return <ErrorState error={plan.error} retry={() => plan.refetch()} />;
  const p = plan.data;
  const editable = can('org:update');
  return (
    <Stack>
      <PageHeader title="Plan and features" description="What your plan includes, and the features turned on." />
      <Card withBorder>
        <Group justify="space-between" mb="md">
          <Title order={2} size="h4">
            Plan
          </Title>
          <Badge size="lg" tt="capitalize" data-testid="plan-name">
            {p.plan}
          </Badge>
        </Group>
        <SimpleGrid cols={{ base: 2, md: 4 }}>
          <Limit label="Agents" value={p.limits.agents} />
          <Limit label="Events per month" value={p.limits.events_per_month} />
          <Limit label="Members" value={p.limits.members} />
          <Limit label="Retention" value={p.limits.retention_days} unit=" days" />
        </SimpleGrid>
        <Text size="sm" fw={500} mt="md" mb={4}>
          Included
        </Text>
        <List spacing={2} size="sm" icon={<IconCheck size={14} color="var(--mantine-color-teal-6)" />}>
          {p.limits.features.map((f) => (
            <List.Item key={f}>{FEATURE_TEXT[f] ?? f}</List.Item>
          ))}
        </List>
      </Card>
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Feature flags
        </Title>
        <Table aria-label="Feature flags" verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Feature</Table.Th>
              <Table.Th w={90}>On</Table.Th>
              {editable && <Table.Th w={170} />}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {Object.entries(p.features).map(([flag, on]) => (
              <Table.Tr key={flag}>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {flag}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {FLAG_TEXT[flag] ?? ''}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Switch
                    aria-label={`${flag} ${on ? 'on' : 'off'}`}
                    checked={on}
                    disabled={!editable || setFlag.isPending}
                    onChange={(e) => setFlag.mutate({ flag, enabled: e.currentTarget.checked })}
                  />
                </Table.Td>
                {editable && (
                  <Table.Td>
                    <Button size="xs" variant="subtle" onClick={() => setFlag.mutate({ flag, enabled: null })}>
                      Reset to default
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Card>
    </Stack>
  );
}

function Limit({ label, value, unit = '' }: { label: string; value: number; unit?: string }) {
  return (
    <Stack gap={0}>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fw={700} fz="lg">
        {`${num(value)}${unit}`}
      </Text>
    </Stack>
  );
}
