/**
 * One agent: its configuration and provider mapping, quick stats over a range (runs over time, error
 * trend, latency avg and p95, cost), its policy adherence with the counts behind it, latest runs (each
 * with its adherence), budgets (locked with the hub's sentence on a plan without them), and
 * pause/resume, edit and delete for people whose role allows it.
 */
import '@mantine/charts/styles.css';
import type { Agent, AgentStats, Budget, Team } from '@agentops-hub/contracts';
import { BarChart, LineChart } from '@mantine/charts';
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  Progress,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPencil, IconPlayerPause, IconPlayerPlay, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useParams } from '@tanstack/react-router';
import { type ReactNode, useState } from 'react';
import { ApiError, api, errorMessage, type Page, planLockOf } from '../../api/client';
import { useControls } from '../../api/queries';
import { INTEGER_AXIS } from '../../components/ChartLegend';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CreateDialog } from '../../components/CreateDialog';
import { DataTable } from '../../components/DataTable';
import { LockedFeature } from '../../components/LockedFeature';
import { AnchorLink } from '../../components/links';
import { Money } from '../../components/Money';
import { AgentStatusBadge, RunStatusBadge } from '../../components/StatusBadge';
import { Empty, ErrorState, FormError, Loading, NotFound, PageHeader, QueryStatus } from '../../components/states';
import { dateTime, duration, num, RANGES, rangeFrom } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';
import { STATUS_COLOR } from '../../lib/status';
import { AgentCaptureCard } from './AgentCaptureCard';
import { AgentForm } from './AgentForm';
import { ADHERENCE_EXPLAINED, adherenceCounts, adherenceScore } from './adherence-words';

export function AgentPage() {
  const { agentId } = useParams({ from: '/app/agents/$agentId' });
  const { can } = usePermissions();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [range, setRange] = useState('7d');
  const [editing, setEditing] = useState(false);
  const [pausing, setPausing] = useState(false);
  const [deleting, setDeleting] = useState(false);

  const agent = useQuery({
    queryKey: ['agents', 'one', agentId],
    queryFn: () => api<Agent>(`/v1/agents/${agentId}`),
    refetchInterval: 15_000,
  });
  const stats = useQuery({
    queryKey: ['stats', 'agent', agentId, range],
    queryFn: () =>
      api<AgentStats>(`/v1/stats/agents/${agentId}`, {
        query: { from: rangeFrom(range), to: new Date().toISOString(), bucket: range === '24h' ? 'hour' : 'day' },
      }),
    enabled: can('runs:read'),
    refetchInterval: 30_000,
  });
  const budgets = useQuery({
    queryKey: ['budgets'],
    queryFn: () => api<Page<Budget>>('/v1/budgets'),
    enabled: can('budgets:read'),
  });
  const teams = useQuery({
    queryKey: ['teams'],
    queryFn: () => api<Page<Team>>('/v1/teams'),
    enabled: can('teams:read'),
  });
  const controls = useControls(can('controls:read'));
  const resume = useMutation({
    mutationFn: () => api(`/v1/agents/${agentId}/resume`, { method: 'POST' }),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'Agent resumed.' });
      qc.invalidateQueries({ queryKey: ['agents'] });
      qc.invalidateQueries({ queryKey: ['controls'] });
    },
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });

  if (agent.isPending) return <Loading label="Loading the agent…" />;
  if (agent.error instanceof ApiError && agent.error.status === 404) return <NotFound />;
  if (agent.error) return <ErrorState error={agent.error} retry={() => agent.refetch()} />;
  const a = agent.data;
  const pause = controls.data?.paused_agents.find((p) => p.agent_id === a.id);
  const team = a.team_id ? (teams.data?.data.find((t) => t.id === a.team_id)?.name ?? a.team_id) : null;
  const budgetsLocked = planLockOf(budgets.error);
  const mine = (budgets.data?.data ?? []).filter(
    (b) =>
      b.scope === 'org' ||
      (b.scope === 'agent' && b.scope_id === a.id) ||
      (b.scope === 'team' && a.team_id && b.scope_id === a.team_id),
  );

  return (
    <Stack>
      <PageHeader
        title={a.name}
        description={a.description || 'An agent reporting to the hub.'}
        actions={
          <>
            <AgentStatusBadge status={a.status} />
            {can('agents:pause') &&
              (a.status === 'paused' ? (
                <Button
                  leftSection={<IconPlayerPlay size={16} />}
                  color="teal"
                  loading={resume.isPending}
                  onClick={() => resume.mutate()}
                >
                  Resume
                </Button>
              ) : (
                <Button leftSection={<IconPlayerPause size={16} />} color="orange" onClick={() => setPausing(true)}>
                  Pause
                </Button>
              ))}
            {can('agents:edit') && (
              <Button variant="default" leftSection={<IconPencil size={16} />} onClick={() => setEditing(true)}>
                Edit
              </Button>
            )}
            {can('agents:delete') && (
              <Button
                variant="subtle"
                color="red"
                leftSection={<IconTrash size={16} />}
                onClick={() => setDeleting(true)}
              >
                Delete
              </Button>
            )}
          </>
        }
      />
      {controls.data?.kill_switch.engaged && a.status !== 'paused' && (
        <Alert color="red" title="The kill switch is engaged">
          Every agent of the organization is stopped: its policy checks answer BLOCK until someone releases the kill
          switch.
        </Alert>
      )}
      {a.status === 'paused' && (
        <Alert color="orange" title="This agent is paused">
          Its policy checks answer BLOCK{pause?.mode === 'failsafe' ? ' (fail-safe mode)' : ''}.
          {pause?.reason ? ` Reason: ${pause.reason}.` : ''}
          {pause?.by?.name ? ` Paused by ${pause.by.name}.` : ''}
        </Alert>
      )}

      <Group justify="space-between">
        <Title order={2} size="h4">
          Activity
        </Title>
        <SegmentedControl
          aria-label="Time range"
          value={range}
          onChange={setRange}
          data={RANGES.map((r) => ({ value: r.value, label: r.label.replace('Last ', '') }))}
        />
      </Group>
      {!can('runs:read') && <Text c="dimmed">Your role cannot see runs.</Text>}
      {stats.isPending && can('runs:read') && <Loading label="Loading statistics…" />}
      {stats.error && <ErrorState error={stats.error} retry={() => stats.refetch()} />}
      {stats.data && <AgentStatsView s={stats.data} />}

      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Configuration
          </Title>
          <Table variant="vertical" layout="fixed" aria-label="Configuration">
            <Table.Tbody>
              <Row label="Id">
                <Text ff="monospace" size="sm">
                  {a.id}
                </Text>
              </Row>
              <Row label="Type">{a.type ?? '—'}</Row>
              <Row label="Environment">{a.environment}</Row>
              <Row label="Team">{team ?? '—'}</Row>
              <Row label="Tags">
                <Group gap={4}>
                  {a.tags.length
                    ? a.tags.map((t) => (
                        <Badge key={t} variant="outline" size="sm">
                          {t}
                        </Badge>
                      ))
                    : '—'}
                </Group>
              </Row>
              <Row label="Registered">
                {dateTime(a.created_at)}
                {a.auto_registered ? ' (automatically, on its first run)' : ''}
              </Row>
            </Table.Tbody>
          </Table>
        </Card>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Provider mapping
          </Title>
          {a.provider ? (
            <Table variant="vertical" layout="fixed" aria-label="Provider mapping">
              <Table.Tbody>
                <Row label="Provider">{a.provider.kind}</Row>
                <Row label="External id">
                  <Text ff="monospace" size="sm">
                    {a.provider.external_id ?? '—'}
                  </Text>
                </Row>
                <Row label="Secrets">
                  {a.provider.connection_fields.length
                    ? `${a.provider.connection_fields.join(', ')} (stored encrypted, never shown)`
                    : 'none'}
                </Row>
              </Table.Tbody>
            </Table>
          ) : (
            <Text c="dimmed" size="sm">
              Not mapped to a provider. Map it to an OpenAI Assistant, an MCP server or your own orchestrator
              {can('agents:edit') ? ' with Edit.' : '.'}
            </Text>
          )}
        </Card>
      </SimpleGrid>
      <AgentCaptureCard agentId={a.id} agentName={a.name} />

      {can('budgets:read') && (
        <Card withBorder>
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">
              Budget
            </Title>
            <AnchorLink to="/budgets" size="sm">
              All budgets
            </AnchorLink>
          </Group>
          {budgetsLocked ? (
            <LockedFeature feature="Budgets" sentence={budgetsLocked} bordered={false} />
          ) : (
            <QueryStatus query={budgets} />
          )}
          {budgets.data && mine.length === 0 && (
            <Text c="dimmed" size="sm">
              No budget covers this agent{can('budgets:manage') ? '. Add one on the Budgets page.' : '.'}
            </Text>
          )}
          {mine.map((b) => (
            <Stack key={b.id} gap={4} mb="sm">
              <Group justify="space-between">
                <Text size="sm" fw={600}>
                  {b.scope === 'team'
                    ? `Team ${b.scope_name ?? ''}`
                    : b.scope === 'org'
                      ? 'Whole organization'
                      : 'This agent'}{' '}
                  · per {b.period} · {b.on_exceed} when exceeded
                </Text>
                <Text size="sm">
                  <Money value={b.spent_usd} /> of <Money value={b.amount_usd} />
                </Text>
              </Group>
              <Progress
                value={Math.min(b.percent, 100)}
                color={b.percent >= 100 ? 'red' : b.percent >= 80 ? 'orange' : 'blue'}
                aria-label={`${Math.round(b.percent)}% of the budget spent`}
              />
            </Stack>
          ))}
        </Card>
      )}

      {stats.data && (
        <Card withBorder p={0}>
          <Group justify="space-between" p="md" pb={0}>
            <Title order={2} size="h4">
              Latest runs
            </Title>
            <AnchorLink to="/runs" search={{ agent: a.id }} size="sm">
              All runs of {a.name}
            </AnchorLink>
          </Group>
          {stats.data.latest_runs.length === 0 ? (
            <Empty title="No run yet">Runs show up here as soon as the agent reports them.</Empty>
          ) : (
            <DataTable
              label="Latest runs"
              rows={stats.data.latest_runs}
              rowKey={(r) => r.id}
              onOpen={(r) => navigate({ to: '/runs/$runId', params: { runId: r.id } })}
              rowLabel={(r) => `Run ${r.id}`}
              minWidth={640}
              columns={[
                {
                  header: 'Run',
                  card: 'title',
                  cell: (r) => (
                    <AnchorLink to="/runs/$runId" params={{ runId: r.id }} ff="monospace" size="sm">
                      {r.id}
                    </AnchorLink>
                  ),
                },
                { header: 'Status', card: 'badge', cell: (r) => <RunStatusBadge run={r} /> },
                { header: 'Started', card: true, cell: (r) => dateTime(r.started_at) },
                { header: 'Duration', cell: (r) => duration(r.latency_ms) },
                {
                  header: 'Adherence',
                  cell: (r) =>
                    r.adherence ? `${adherenceScore(r.adherence)} · ${num(r.adherence.evaluated)} checked` : '—',
                },
                { header: 'Cost', card: true, cell: (r) => <Money value={r.cost_usd} /> },
              ]}
            />
          )}
        </Card>
      )}

      <CreateDialog opened={editing} onClose={() => setEditing(false)} title={`Edit ${a.name}`} size="lg">
        <AgentForm
          agent={a}
          onDone={() => {
            setEditing(false);
            notifications.show({ color: 'teal', message: 'Agent saved.' });
            qc.invalidateQueries({ queryKey: ['agents'] });
          }}
        />
      </CreateDialog>
      <PauseModal
        agent={a}
        opened={pausing}
        onClose={() => setPausing(false)}
        onDone={() => {
          setPausing(false);
          qc.invalidateQueries({ queryKey: ['agents'] });
          qc.invalidateQueries({ queryKey: ['controls'] });
        }}
      />
      <DeleteModal
        agent={a}
        opened={deleting}
        onClose={() => setDeleting(false)}
        onDone={() => {
          qc.invalidateQueries({ queryKey: ['agents'] });
          notifications.show({ message: `Agent ${a.name} deleted.` });
          navigate({ to: '/agents' });
        }}
      />
    </Stack>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={140}>{label}</Table.Th>
      <Table.Td style={{ wordBreak: 'break-word' }}>{children}</Table.Td>
    </Table.Tr>
  );
}

function Stat({ label, value }: { label: string; value: ReactNode }) {
  return (
    <Card withBorder padding="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={24} fw={700}>
        {value}
      </Text>
    </Card>
  );
}

/** Policy adherence over the range: the score, the counts behind it and one line on what it means. */
function AdherenceCard({ a }: { a: AgentStats['adherence'] }) {
  return (
    <Card withBorder aria-label="Policy adherence" component="section">
      <Group align="baseline" gap="md" wrap="wrap">
        <Title order={3} size="h5">
          Policy adherence
        </Title>
        <Text fz={24} fw={700} data-testid="adherence-score">
          {adherenceScore(a)}
        </Text>
        <Text size="sm" data-testid="adherence-counts">
          {adherenceCounts(a)}
        </Text>
      </Group>
      <Text size="xs" c="dimmed" mt={4}>
        {ADHERENCE_EXPLAINED}
      </Text>
    </Card>
  );
}

function AgentStatsView({ s }: { s: AgentStats }) {
  const label = (at: string) =>
    s.bucket === 'hour'
      ? new Date(at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
      : new Date(at).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const points = s.series.map((p) => ({
    at: label(p.at),
    Completed: p.completed,
    Failed: p.failed,
    'Error rate %': p.failure_rate === null ? null : Math.round(p.failure_rate * 1000) / 10,
    'Average ms': p.latency_avg_ms,
    'p95 ms': p.latency_p95_ms,
  }));
  return (
    <>
      <SimpleGrid cols={{ base: 2, md: 5 }}>
        <Stat label="Runs" value={num(s.runs)} />
        <Stat label="Error rate" value={s.failure_rate === null ? '—' : `${Math.round(s.failure_rate * 1000) / 10}%`} />
        <Stat label="Latency (avg)" value={duration(s.latency_avg_ms)} />
        <Stat label="Latency (p95)" value={duration(s.latency_p95_ms)} />
        <Stat label="Cost" value={<Money value={s.cost_usd} />} />
      </SimpleGrid>
      <AdherenceCard a={s.adherence} />
      {s.runs === 0 ? (
        <Card withBorder>
          <Empty title="No run in this range">Pick a longer range, or wait for the agent to report.</Empty>
        </Card>
      ) : (
        <SimpleGrid cols={{ base: 1, lg: 3 }}>
          <Card withBorder>
            <Title order={3} size="h5" mb="sm">
              Runs over time
            </Title>
            <BarChart
              h={200}
              data={points}
              dataKey="at"
              type="stacked"
              withLegend
              yAxisProps={INTEGER_AXIS}
              role="img"
              aria-label="Runs over time"
              series={[
                { name: 'Completed', color: `${STATUS_COLOR.completed}.6` },
                { name: 'Failed', color: `${STATUS_COLOR.failed}.6` },
              ]}
            />
          </Card>
          <Card withBorder>
            <Title order={3} size="h5" mb="sm">
              Error trend
            </Title>
            <LineChart
              h={200}
              data={points}
              dataKey="at"
              unit="%"
              connectNulls
              withLegend
              role="img"
              aria-label="Error rate over time"
              series={[{ name: 'Error rate %', color: 'red.6' }]}
            />
          </Card>
          <Card withBorder>
            <Title order={3} size="h5" mb="sm">
              Latency
            </Title>
            <LineChart
              h={200}
              data={points}
              dataKey="at"
              valueFormatter={(v) => duration(v)}
              connectNulls
              withLegend
              role="img"
              aria-label="Latency over time"
              series={[
                { name: 'Average ms', color: 'blue.6' },
                { name: 'p95 ms', color: 'grape.6' },
              ]}
            />
          </Card>
        </SimpleGrid>
      )}
    </>
  );
}

function PauseModal({
  agent,
  opened,
  onClose,
  onDone,
}: {
  agent: Agent;
  opened: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const [reason, setReason] = useState('');
  const [mode, setMode] = useState<'block' | 'failsafe'>('block');
  const pause = useMutation({
    mutationFn: () =>
      api(`/v1/agents/${agent.id}/pause`, { method: 'POST', body: { reason: reason.trim() || undefined, mode } }),
    onSuccess: () => {
      notifications.show({ color: 'orange', message: `${agent.name} paused.` });
      setReason('');
      onDone();
    },
  });
  return (
    <Modal opened={opened} onClose={onClose} title={`Pause ${agent.name}?`} centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          pause.mutate();
        }}
      >
        <Stack>
          <Text size="sm">Until it is resumed, every policy check of this agent answers BLOCK.</Text>
          <TextInput
            label="Reason"
            placeholder="e.g. investigating odd refunds"
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            data-autofocus
          />
          <Select
            label="Mode"
            data={[
              { value: 'block', label: 'Block: refuse its actions' },
              { value: 'failsafe', label: 'Fail-safe: the SDK stops the agent' },
            ]}
            value={mode}
            onChange={(v) => setMode((v as 'block' | 'failsafe') ?? 'block')}
            allowDeselect={false}
          />
          <FormError error={pause.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color="orange" loading={pause.isPending}>
              Pause agent
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteModal({
  agent,
  opened,
  onClose,
  onDone,
}: {
  agent: Agent;
  opened: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const remove = useMutation({
    mutationFn: () => api(`/v1/agents/${agent.id}`, { method: 'DELETE' }),
    onSuccess: onDone,
  });
  return (
    <ConfirmDialog
      opened={opened}
      onClose={onClose}
      title={`Delete ${agent.name}?`}
      confirmLabel="Delete agent"
      pending={remove.isPending}
      error={remove.error}
      onConfirm={() => remove.mutate()}
    >
      The agent leaves the registry. This cannot be undone. An agent that reports again may be registered again
      automatically.
    </ConfirmDialog>
  );
}
