/**
 * Plan and feature flags: the org's plan, this month's events against its limit (at the hub's 80% and
 * 100% levels), the agent, member and retention limits, what the plan includes and what it does not
 * (with the plan that brings it), the plans side by side, and each feature flag (on by rollout or by an
 * override that `org:update` can set or clear: `PUT /v1/org/features/{flag}`). Reads `GET /v1/org/plan`
 * and `GET /v1/plans`; the words come from plan-view.ts.
 */

import type { Agent, OrgPlan, PlanCatalog, PlanUsage } from '@agentops-hub/contracts';
import {
  Badge,
  Button,
  Card,
  Group,
  List,
  Progress,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  ThemeIcon,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconCheck, IconLock } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, errorMessage, type Page } from '../../api/client';
import { ErrorState, Loading, PageHeader } from '../../components/states';
import { num } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';
import { featureLists, usageView } from './plan-view';

const FLAG_TEXT: Record<string, string> = {
  otlp_ingest: 'OpenTelemetry trace ingestion (POST /v1/traces)',
  policy_simulation: 'Simulate a policy over recorded actions before activating it',
  insights: 'Computed "what changed" insights in reports',
};

export function PlanPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const plan = useQuery({
    queryKey: ['org-plan'],
    queryFn: () => api<OrgPlan>('/v1/org/plan'),
    refetchInterval: 60_000,
  });
  const catalog = useQuery({ queryKey: ['plans'], queryFn: () => api<PlanCatalog>('/v1/plans'), staleTime: 300_000 });
  // How many agents the org has, beside the plan's limit (a plan's limit fits in one page but the top one).
  const agents = useQuery({
    queryKey: ['agents', 'all'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
    enabled: can('agents:read'),
  });
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

  if (plan.isPending || catalog.isPending) return <Loading />;
  if (plan.error) return <ErrorState error={plan.error} retry={() => plan.refetch()} />;
  if (catalog.error) return <ErrorState error={catalog.error} retry={() => catalog.refetch()} />;
  const p = plan.data;
  const editable = can('org:update');
  const agentCount = agents.data ? `${num(agents.data.data.length)}${agents.data.next_cursor ? '+' : ''}` : null;
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
        <UsageMeter usage={p.usage} />
        <SimpleGrid cols={{ base: 1, xs: 3 }} mt="lg" data-testid="plan-limits">
          <Limit
            label="Agents"
            value={agentCount ? `${agentCount} of ${num(p.limits.agents)}` : `up to ${num(p.limits.agents)}`}
          />
          <Limit label="Members" value={`up to ${num(p.limits.members)}`} />
          <Limit label="Retention" value={`${num(p.limits.retention_days)} days`} />
        </SimpleGrid>
      </Card>
      <PlanFeatures plan={p} catalog={catalog.data} />
      <ComparePlans current={p.plan} catalog={catalog.data} />
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

function Limit({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={0}>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fw={700} fz="lg">
        {value}
      </Text>
    </Stack>
  );
}

/** This month's events against the plan's limit, with the level the hub notifies at (80%, 100%). */
export function UsageMeter({ usage }: { usage: PlanUsage }) {
  const v = usageView(usage);
  return (
    <Stack gap={6} data-testid="plan-usage" data-level={v.level}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text fw={600}>Events this month</Text>
        <Badge color={v.color} variant="light">
          {v.badge}
        </Badge>
      </Group>
      <Progress value={v.fill} color={v.color} size="lg" aria-label={`Events this month: ${v.amount}`} />
      <Text size="sm">{v.amount}</Text>
      <Text size="sm" c="dimmed">
        {v.sentence}
      </Text>
    </Stack>
  );
}

/** What the org's plan includes, and what it does not with the plan that brings it. */
export function PlanFeatures({
  plan,
  catalog,
}: {
  plan: Pick<OrgPlan, 'limits'>;
  catalog: Pick<PlanCatalog, 'features'>;
}) {
  const { included, missing } = featureLists(catalog, plan);
  return (
    <Card withBorder>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <div>
          <Title order={2} size="h4" mb="sm">
            Included in your plan
          </Title>
          <List
            spacing={4}
            size="sm"
            aria-label="Included in your plan"
            icon={
              <ThemeIcon color="teal" size={20} radius="xl" variant="light" aria-hidden>
                <IconCheck size={14} />
              </ThemeIcon>
            }
          >
            {included.map((f) => (
              <List.Item key={f.feature}>{f.label}</List.Item>
            ))}
          </List>
        </div>
        <div>
          <Title order={2} size="h4" mb="sm">
            Not in your plan
          </Title>
          {missing.length === 0 ? (
            <Text size="sm" c="dimmed">
              Your plan includes every feature.
            </Text>
          ) : (
            <List
              spacing={4}
              size="sm"
              aria-label="Not in your plan"
              icon={
                <ThemeIcon color="gray" size={20} radius="xl" variant="light" aria-hidden>
                  <IconLock size={14} />
                </ThemeIcon>
              }
            >
              {missing.map((f) => (
                <List.Item key={f.feature}>
                  {f.label}{' '}
                  <Text span size="sm" c="dimmed">
                    (comes with the <span style={{ textTransform: 'capitalize' }}>{f.plan}</span> plan)
                  </Text>
                </List.Item>
              ))}
            </List>
          )}
        </div>
      </SimpleGrid>
    </Card>
  );
}

/** Every plan side by side, the org's own marked: limits first, then each feature. */
function ComparePlans({ current, catalog }: { current: string; catalog: PlanCatalog }) {
  const rows: { label: string; cell: (p: PlanCatalog['plans'][number]) => string }[] = [
    { label: 'Agents', cell: (p) => num(p.agents) },
    { label: 'Members', cell: (p) => num(p.members) },
    { label: 'Events per month', cell: (p) => num(p.events_per_month) },
    { label: 'Retention', cell: (p) => `${num(p.retention_days)} days` },
    ...catalog.features.map((f) => ({
      label: f.label,
      cell: (p: PlanCatalog['plans'][number]) => (p.features.includes(f.feature) ? 'Yes' : '—'),
    })),
  ];
  return (
    <Card withBorder p={0}>
      <Title order={2} size="h4" p="md" pb="xs">
        Compare plans
      </Title>
      <Table.ScrollContainer minWidth={520}>
        <Table aria-label="Compare plans" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">What</Table.Th>
              {catalog.plans.map((p) => (
                <Table.Th key={p.name} scope="col" tt="capitalize">
                  {p.name}
                  {p.name === current ? ' (yours)' : ''}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={r.label}>
                <Table.Th scope="row" fw={500}>
                  {r.label}
                </Table.Th>
                {catalog.plans.map((p) => (
                  <Table.Td key={p.name} fw={p.name === current ? 600 : undefined}>
                    {r.cell(p)}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Card>
  );
}
