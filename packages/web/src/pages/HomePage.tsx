/** Home: what the agents did in the chosen range, what it cost against the budgets, and what needs a person. */
import type { Budget, OrgAdherence, StatsOverview } from '@agentops-hub/contracts';
import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Progress,
  SegmentedControl,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { lazy, Suspense, useState } from 'react';
import { api, type Page, planLockOf } from '../api/client';
import { useControls, usePendingApprovals } from '../api/queries';
import { ChartLegend } from '../components/ChartLegend';
import { LockedFeature } from '../components/LockedFeature';
import { Money } from '../components/Money';
import { Empty, ErrorState, Loading, PageHeader, QueryStatus } from '../components/states';
import { num, RANGES, rangeFrom } from '../lib/format';
import { usePermissions } from '../lib/permissions';
import { RUN_STATUSES, type RunDisplayStatus, STATUS_COLOR, STATUS_LABEL } from '../lib/status';
import { AdherenceStat, Stat, SuccessStat, statusCounts } from './home/HomeFigures';

// The charts load after the numbers (their library is the console's largest chunk).
const OutcomeDonut = lazy(() => import('./home/HomeCharts').then((m) => ({ default: m.OutcomeDonut })));
const TopAgentsChart = lazy(() => import('./home/HomeCharts').then((m) => ({ default: m.TopAgentsChart })));

export function HomePage() {
  const { can } = usePermissions();
  const [range, setRange] = useState('7d');
  const overview = useQuery({
    queryKey: ['stats', 'overview', range],
    queryFn: () =>
      api<StatsOverview>('/v1/stats/overview', { query: { from: rangeFrom(range), to: new Date().toISOString() } }),
    refetchInterval: 15_000,
  });
  // Adherence reads decisions, not rollups: asked apart so the figures above never wait for it.
  const adherence = useQuery({
    queryKey: ['stats', 'adherence', range],
    queryFn: () =>
      api<OrgAdherence>('/v1/stats/adherence', { query: { from: rangeFrom(range), to: new Date().toISOString() } }),
    refetchInterval: 60_000,
  });
  const pending = usePendingApprovals(can('approvals:read'));
  const controls = useControls(can('controls:read'));
  const budgets = useQuery({
    queryKey: ['budgets'],
    queryFn: () => api<Page<Budget>>('/v1/budgets'),
    enabled: can('budgets:read'),
    retry: false,
  });

  const o = overview.data;
  // The hub counts blocked and paused runs apart from failed ones in its rollups: one request, any volume.
  const counts = statusCounts(o);
  return (
    <Stack>
      <PageHeader
        title="Home"
        description="What your agents did, what it cost, and what needs you."
        actions={
          <SegmentedControl
            aria-label="Time range"
            value={range}
            onChange={setRange}
            data={RANGES.map((r) => ({ value: r.value, label: r.label.replace('Last ', '') }))}
          />
        }
      />
      <QueryStatus query={overview} />
      {o && o.runs === 0 && (
        <Card withBorder>
          <Empty
            title="No runs in this range yet"
            action={
              can('api_keys:manage') && (
                <Button component={Link} to="/onboarding">
                  Connect your first agent
                </Button>
              )
            }
          >
            Agents report their runs to the hub; they show up here as soon as they arrive.
          </Empty>
        </Card>
      )}
      {o && (
        <SimpleGrid cols={{ base: 2, md: 3, lg: 5 }}>
          <Stat label="Runs" value={num(o.runs)} hint={`${num(o.running)} running`} />
          <SuccessStat overview={o} />
          <AdherenceStat adherence={adherence.data} />
          <Stat label="Cost so far" value={<Money value={o.cost_usd} />} hint="in this range" />
          <Card withBorder padding="md">
            <Text size="sm" c="dimmed">
              Needs you
            </Text>
            <Text fz={28} fw={700}>
              {pending.data ? pending.data.data.length : '—'}
            </Text>
            <Anchor component={Link} to="/approvals" size="sm">
              pending approvals
            </Anchor>
          </Card>
        </SimpleGrid>
      )}
      {controls.data?.kill_switch.engaged && (
        <Card withBorder bg="var(--mantine-color-red-light)">
          <Text fw={700} c="red">
            The kill switch is engaged: every agent is stopped.
          </Text>
          <Text size="sm">Reason: {controls.data.kill_switch.reason ?? '—'}</Text>
        </Card>
      )}
      {o && o.runs > 0 && (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Runs by outcome
            </Title>
            <Group justify="center" gap="xl" wrap="wrap">
              <Suspense fallback={<Skeleton circle height={160} />}>
                <OutcomeDonut runs={o.runs} items={outcomes(counts)} />
              </Suspense>
              <ChartLegend label="Runs by outcome" items={outcomes(counts)} />
            </Group>
          </Card>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Top 5 agents by activity
            </Title>
            <Suspense fallback={<Skeleton height={220} />}>
              <TopAgentsChart agents={o.top_agents} />
            </Suspense>
          </Card>
        </SimpleGrid>
      )}
      {can('budgets:read') && (
        <Card withBorder>
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">
              Cost against budgets
            </Title>
            <Anchor component={Link} to="/budgets" size="sm">
              All budgets
            </Anchor>
          </Group>
          {budgets.isPending && <Loading />}
          {budgets.error &&
            (planLockOf(budgets.error) ? (
              <LockedFeature feature="Budgets" sentence={planLockOf(budgets.error)!} bordered={false} />
            ) : (
              <ErrorState error={budgets.error} retry={() => budgets.refetch()} />
            ))}
          {budgets.data && budgets.data.data.length === 0 && (
            <Text c="dimmed" size="sm">
              No budget yet. Cost so far: <Money value={o?.cost_usd} />.
            </Text>
          )}
          {budgets.data && budgets.data.data.length > 0 && (
            <Table>
              <Table.Tbody>
                {budgets.data.data.slice(0, 5).map((b) => {
                  const pct = b.amount_usd > 0 ? (b.spent_usd / b.amount_usd) * 100 : 0;
                  return (
                    <Table.Tr key={b.id}>
                      <Table.Td>
                        {b.name || (b.scope === 'org' ? 'Whole organization' : (b.scope_name ?? b.scope_id))} · per{' '}
                        {b.period}
                      </Table.Td>
                      <Table.Td w="40%">
                        <Progress
                          value={Math.min(pct, 100)}
                          color={pct >= 100 ? 'red' : pct >= 80 ? 'orange' : 'blue'}
                          aria-label={`${Math.round(pct)}% of the budget spent`}
                        />
                      </Table.Td>
                      <Table.Td>
                        <Money value={b.spent_usd} /> of <Money value={b.amount_usd} />
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          )}
        </Card>
      )}
      {controls.data && (
        <Card withBorder>
          <Group justify="space-between">
            <Title order={2} size="h4">
              Emergency controls
            </Title>
            <Badge color={controls.data.kill_switch.engaged ? 'red' : 'green'}>
              {controls.data.kill_switch.engaged ? 'Kill switch engaged' : 'Kill switch off'}
            </Badge>
          </Group>
          <Text size="sm" c="dimmed" mt="xs">
            {controls.data.paused_agents.length} paused agent(s), {controls.data.paused_categories.length} paused
            categor{controls.data.paused_categories.length === 1 ? 'y' : 'ies'}.{' '}
            <Anchor component={Link} to="/emergency">
              Manage
            </Anchor>
          </Text>
        </Card>
      )}
    </Stack>
  );
}

const outcomes = (c: Record<RunDisplayStatus, number>) =>
  RUN_STATUSES.map((s) => ({ name: STATUS_LABEL[s], value: c[s], color: `${STATUS_COLOR[s]}.6` }));
