/**
 * Costs: spend per day, week or month over a range, the most expensive agents, and the breakdown by
 * team and by model, each with a CSV export (`GET /v1/costs?group_by=…&format=csv`).
 */
import '@mantine/charts/styles.css';
import '@mantine/dates/styles.css';
import type { CostGroupBy, CostRow, CostsResponse as Costs } from '@agentops-hub/contracts';
import { BarChart, DonutChart } from '@mantine/charts';
import {
  Alert,
  Button,
  Card,
  Group,
  Progress,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import { IconDownload } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, buildUrl } from '../../api/client';
import { ChartLegend } from '../../components/ChartLegend';
import { AnchorLink } from '../../components/links';
import { Money } from '../../components/Money';
import { Empty, ErrorState, Loading, PageHeader, QueryStatus } from '../../components/states';
import { dayIso, num, usd } from '../../lib/format';

const PRESETS = [
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '90', label: 'Last 90 days' },
  { value: '365', label: 'Last 12 months' },
  { value: 'custom', label: 'Custom range' },
];

function useRange() {
  const [preset, setPreset] = useState('30');
  const [custom, setCustom] = useState<[string | null, string | null]>([null, null]);
  // Whole days: stable query keys while the page is open.
  const [today] = useState(() => new Date().toISOString().slice(0, 10));
  let from: string | undefined;
  let to: string | undefined;
  if (preset === 'custom') {
    from = dayIso(custom[0]);
    to = dayIso(custom[1], true);
  } else {
    const d = new Date(`${today}T00:00:00`);
    d.setDate(d.getDate() - Number(preset) + 1);
    from = d.toISOString();
    to = undefined;
  }
  const ready = preset !== 'custom' || Boolean(custom[0] && custom[1]);
  return { preset, setPreset, custom, setCustom, from, to, ready };
}

function useCosts(group_by: CostGroupBy, range: { from?: string; to?: string; ready: boolean }) {
  return useQuery({
    queryKey: ['costs', group_by, range.from, range.to],
    queryFn: () => api<Costs>('/v1/costs', { query: { group_by, from: range.from, to: range.to } }),
    enabled: range.ready,
    placeholderData: keepPreviousData,
  });
}

export function CostsPage() {
  const range = useRange();
  const [bucket, setBucket] = useState<'day' | 'week' | 'month'>('day');
  const q = (group_by: CostGroupBy) => ({ group_by, from: range.from, to: range.to });
  const series = useCosts(bucket, range);
  const agents = useCosts('agent', range);
  const teams = useCosts('team', range);
  const models = useCosts('model', range);
  const csv = (g: CostGroupBy) => buildUrl('/v1/costs', { ...q(g), format: 'csv' });
  const total = series.data?.total_usd;

  return (
    <Stack>
      <PageHeader
        title="Costs"
        description="What your agents spent on models, by day, agent, team and model."
        actions={
          <Group gap="sm" align="flex-end">
            <Select
              label="Range"
              data={PRESETS}
              value={range.preset}
              onChange={(v) => range.setPreset(v ?? '30')}
              allowDeselect={false}
              w={170}
            />
            {range.preset === 'custom' && (
              <DatePickerInput
                type="range"
                label="From – to"
                placeholder="Pick dates"
                value={range.custom}
                onChange={(v) => range.setCustom(v as [string | null, string | null])}
                maxDate={new Date()}
                w={250}
              />
            )}
          </Group>
        }
      />
      {!range.ready && <Text c="dimmed">Pick the first and the last day of the range.</Text>}
      {range.ready && series.isPending && <Loading label="Loading costs…" />}
      {series.error && <ErrorState error={series.error} retry={() => series.refetch()} />}
      {series.data && (
        <>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <Card withBorder>
              <Text size="sm" c="dimmed">
                Total spend
              </Text>
              <Text fz={28} fw={700} data-testid="cost-total">
                <Money value={total} />
              </Text>
              <Text size="xs" c="dimmed">
                {new Date(series.data.from).toLocaleDateString()} – {new Date(series.data.to).toLocaleDateString()} (
                {series.data.timezone})
              </Text>
            </Card>
            <Card withBorder>
              <Text size="sm" c="dimmed">
                Tokens
              </Text>
              <Text fz={28} fw={700}>
                {num(series.data.data.reduce((n, r) => n + r.input_tokens + r.output_tokens, 0))}
              </Text>
              <Text size="xs" c="dimmed">
                {num(series.data.data.reduce((n, r) => n + r.llm_calls, 0))} model calls
              </Text>
            </Card>
            <Card withBorder>
              <Text size="sm" c="dimmed">
                Runs
              </Text>
              <Text fz={28} fw={700}>
                {num(series.data.data.reduce((n, r) => n + r.runs, 0))}
              </Text>
              <Text size="xs" c="dimmed">
                started in the range
              </Text>
            </Card>
          </SimpleGrid>
          {series.data.unpriced_calls > 0 && (
            <Alert color="yellow" title="Some model calls have no price">
              {num(series.data.unpriced_calls)} call(s) used a model the price table does not know: their cost is
              missing from these totals, not counted as $0.
            </Alert>
          )}
          <Card withBorder>
            <Group justify="space-between" mb="sm" wrap="wrap">
              <Title order={2} size="h4">
                Spend over time
              </Title>
              <Group gap="sm">
                <SegmentedControl
                  aria-label="Group by"
                  value={bucket}
                  onChange={(v) => setBucket(v as typeof bucket)}
                  data={[
                    { value: 'day', label: 'Daily' },
                    { value: 'week', label: 'Weekly' },
                    { value: 'month', label: 'Monthly' },
                  ]}
                />
                <CsvLink href={csv(bucket)} label={`Export ${bucket}ly costs as CSV`} />
              </Group>
            </Group>
            {series.data.data.length === 0 ? (
              <Empty title="No spend in this range">Costs appear as soon as agents report model calls.</Empty>
            ) : (
              <BarChart
                h={260}
                role="img"
                aria-label="Spend over time"
                data={series.data.data.map((r) => ({ period: r.name, Spend: r.cost_usd }))}
                dataKey="period"
                valueFormatter={axisUsd}
                withLegend
                series={[{ name: 'Spend', label: 'Spend (USD)', color: 'blue.6' }]}
              />
            )}
          </Card>
        </>
      )}
      {range.ready && (
        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <Breakdown title="Top expensive agents" label="Agent" query={agents} csv={csv('agent')} limit={10} link />
          <Card withBorder>
            <Group justify="space-between" mb="sm">
              <Title order={2} size="h4">
                By model
              </Title>
              <CsvLink href={csv('model')} label="Export costs by model as CSV" />
            </Group>
            <QueryStatus query={models} />
            {models.data && models.data.data.length === 0 && <Text c="dimmed">No model calls in this range.</Text>}
            {models.data && models.data.data.length > 0 && (
              <Stack>
                <Group align="center" wrap="wrap" gap="lg">
                  <DonutChart
                    size={150}
                    thickness={24}
                    role="img"
                    aria-label="Spend by model"
                    valueFormatter={(v) => usd(v)}
                    data={modelSlices(models.data.data)}
                  />
                  <div style={{ flex: 1, minWidth: 200 }}>
                    <ChartLegend
                      label="Spend by model"
                      items={modelSlices(models.data.data).map((s) => ({ ...s, display: <Money value={s.value} /> }))}
                    />
                  </div>
                </Group>
                <BreakdownTable rows={models.data.data} label="Model" tokens />
              </Stack>
            )}
          </Card>
          <Breakdown title="By team" label="Team" query={teams} csv={csv('team')} />
        </SimpleGrid>
      )}
    </Stack>
  );
}

/** Small amounts with two significant digits, so the axis does not repeat "$0.01". */
const axisUsd = (v: number) => (v !== 0 && Math.abs(v) < 0.1 ? `$${Number(v.toPrecision(2))}` : usd(v));

const COLORS = ['blue.6', 'teal.6', 'grape.6', 'orange.6', 'cyan.6', 'pink.6'];

/** The six most expensive models, one color each (the donut and its legend share them). */
const modelSlices = (rows: { name: string; cost_usd: number }[]) =>
  rows.slice(0, 6).map((r, i) => ({ name: r.name, value: r.cost_usd, color: COLORS[i % COLORS.length]! }));

function CsvLink({ href, label }: { href: string; label: string }) {
  return (
    <Button
      component="a"
      href={href}
      download
      size="xs"
      variant="default"
      leftSection={<IconDownload size={14} />}
      aria-label={label}
    >
      CSV
    </Button>
  );
}

function Breakdown({
  title,
  label,
  query,
  csv,
  limit,
  link,
}: {
  title: string;
  label: string;
  query: { data?: Costs; error: unknown; isPending: boolean; refetch: () => unknown };
  csv: string;
  limit?: number;
  link?: boolean;
}) {
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          {title}
        </Title>
        <CsvLink href={csv} label={`Export ${title.toLowerCase()} as CSV`} />
      </Group>
      {query.isPending && <Loading />}
      {query.error ? <ErrorState error={query.error} retry={() => query.refetch()} /> : null}
      {query.data && query.data.data.length === 0 && <Text c="dimmed">No spend in this range.</Text>}
      {query.data && query.data.data.length > 0 && (
        <BreakdownTable rows={limit ? query.data.data.slice(0, limit) : query.data.data} label={label} link={link} />
      )}
    </Card>
  );
}

function BreakdownTable({
  rows,
  label,
  link,
  tokens,
}: {
  rows: CostRow[];
  label: string;
  link?: boolean;
  tokens?: boolean;
}) {
  return (
    <Table.ScrollContainer minWidth={320} style={{ flex: 1 }}>
      <Table verticalSpacing={6} aria-label={`Costs by ${label.toLowerCase()}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{label}</Table.Th>
            <Table.Th>{tokens ? 'Tokens' : 'Runs'}</Table.Th>
            <Table.Th>Cost</Table.Th>
            <Table.Th w="30%">Share</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.key || r.name}>
              <Table.Td>
                {link && r.key ? (
                  <AnchorLink to="/agents/$agentId" params={{ agentId: r.key }}>
                    {r.name}
                  </AnchorLink>
                ) : (
                  r.name
                )}
                {r.unpriced_calls > 0 && (
                  <Text size="xs" c="yellow.8">
                    {r.unpriced_calls} unpriced call(s)
                  </Text>
                )}
              </Table.Td>
              <Table.Td>{tokens ? num(r.input_tokens + r.output_tokens) : num(r.runs)}</Table.Td>
              <Table.Td>
                <Money value={r.cost_usd} />
              </Table.Td>
              <Table.Td>
                <Progress value={r.share * 100} aria-label={`${Math.round(r.share * 100)}% of the total`} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
