/** Home: what the agents did in the chosen range, what it cost against the budgets, and what needs a person. */
import '@mantine/charts/styles.css';
import { BarChart, DonutChart } from '@mantine/charts';
import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Progress,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api, type Page } from '../api/client';
import { useControls, usePendingApprovals } from '../api/queries';
import type { Budget, Overview } from '../api/types';
import { Empty, Loading, PageHeader, QueryStatus } from '../components/states';
import { num, RANGES, rangeFrom, usd } from '../lib/format';
import { usePermissions } from '../lib/permissions';

export function HomePage() {
  const { can } = usePermissions();
  const [range, setRange] = useState('7d');
  const overview = useQuery({
    queryKey: ['stats', 'overview', range],
    queryFn: () =>
      api<Overview>('/v1/stats/overview', { query: { from: rangeFrom(range), to: new Date().toISOString() } }),
    refetchInterval: 15_000,
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
        <SimpleGrid cols={{ base: 2, md: 4 }}>
          <Stat label="Runs" value={num(o.runs)} hint={`${num(o.running)} running`} />
          <Stat
            label="Success rate"
            value={o.success_rate === null ? '—' : `${Math.round(o.success_rate * 100)}%`}
            hint={`${num(o.failed)} failed`}
          />
          <Stat label="Cost so far" value={usd(o.cost_usd)} hint="in this range" />
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
              Success vs failure
            </Title>
            <Group justify="center">
              <DonutChart
                withLabelsLine
                withLabels
                aria-label="Runs by outcome"
                data={[
                  { name: 'Completed', value: o.completed, color: 'teal.6' },
                  { name: 'Failed', value: o.failed, color: 'red.6' },
                  { name: 'Running', value: o.running, color: 'blue.4' },
                ].filter((d) => d.value > 0)}
              />
            </Group>
          </Card>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Top 5 agents by activity
            </Title>
            <BarChart
              h={220}
              data={o.top_agents.slice(0, 5).map((a) => ({ agent: a.name, Runs: a.runs - a.failed, Failed: a.failed }))}
              dataKey="agent"
              type="stacked"
              series={[
                { name: 'Runs', color: 'blue.6' },
                { name: 'Failed', color: 'red.6' },
              ]}
            />
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
          {budgets.error && <Text c="dimmed">Budgets are not available on this hub yet.</Text>}
          {budgets.data && budgets.data.data.length === 0 && (
            <Text c="dimmed" size="sm">
              No budget yet. Cost so far: {usd(o?.cost_usd)}.
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
                        {b.scope === 'org' ? 'Whole organization' : (b.name ?? b.scope_id)} · per {b.period}
                      </Table.Td>
                      <Table.Td w="40%">
                        <Progress
                          value={Math.min(pct, 100)}
                          color={pct >= 100 ? 'red' : pct >= 80 ? 'orange' : 'blue'}
                        />
                      </Table.Td>
                      <Table.Td>
                        {usd(b.spent_usd)} of {usd(b.amount_usd)}
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

function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Card withBorder padding="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700}>
        {value}
      </Text>
      {hint && (
        <Text size="sm" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}
