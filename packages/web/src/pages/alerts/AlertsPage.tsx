/**
 * Alerts: the org's alert rules (`/v1/alerts`) with their state (firing, resolved, ok) and last value in
 * words, a rule's history of transitions, a test-fire, and a form for a new rule (signal, window,
 * threshold, in-app and email). Webhook and Slack channels are set through the API for now.
 */
import type { Alert, AlertEvent, AlertSignal, CreateAlertBody } from '@agentops-hub/contracts';
import { Button, Card, Checkbox, Group, NumberInput, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Page } from '../../api/client';
import { CreateDialog } from '../../components/CreateDialog';
import { DataTable } from '../../components/DataTable';
import { StatusBadge } from '../../components/StatusBadge';
import { Empty, FormError, PageHeader, QueryStatus } from '../../components/states';
import { ago, dateTime, duration, num, usd } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';

/** What each signal measures, and how its value reads. */
export const SIGNALS: Record<AlertSignal, { label: string; value: (v: number) => string }> = {
  failure_rate: { label: 'Failure rate', value: (v) => `${Math.round(v * 100)}%` },
  failed_runs: { label: 'Failed runs', value: (v) => num(v) },
  latency_p95_ms: { label: 'Latency (p95)', value: (v) => duration(v) },
  cost_usd: { label: 'Spend', value: (v) => usd(v) },
  cost_spike: { label: 'Spend spike (× the usual)', value: (v) => `${v.toFixed(1)}×` },
  blocked_actions: { label: 'Blocked actions', value: (v) => num(v) },
  approvals_waiting: { label: 'Approvals waiting', value: (v) => num(v) },
  agent_silent: { label: 'Silent agents', value: (v) => num(v) },
};

const STATE_COLORS = { firing: 'red', resolved: 'teal', ok: 'gray', test: 'blue' };

const scopeText = (a: Alert) => (a.scope.type === 'org' ? 'Whole organization' : `${a.scope.type} ${a.scope.value}`);
const windowText = (m: number) => (m % 60 === 0 ? `${m / 60} h` : `${m} min`);

export function AlertsPage() {
  const { can } = usePermissions();
  const [open, setOpen] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['alerts'],
    queryFn: () => api<Page<Alert>>('/v1/alerts'),
    refetchInterval: 30_000,
  });
  const rules = list.data?.data ?? [];
  const current = rules.find((a) => a.id === selected) ?? null;
  const create = can('integrations:manage') && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New alert
    </Button>
  );

  return (
    <Stack>
      <PageHeader
        title="Alerts"
        description="Rules that tell you when a signal crosses its threshold: failures, latency, spend, blocked actions."
        actions={create}
      />
      <QueryStatus query={list} />
      {list.data && rules.length === 0 && (
        <Card withBorder>
          <Empty title="No alert rule yet" action={create}>
            For example: tell the owners by email when more than 20% of a support agent's runs fail in an hour.
          </Empty>
        </Card>
      )}
      {rules.length > 0 && (
        <Card withBorder p={0}>
          <DataTable
            label="Alert rules"
            rows={rules}
            rowKey={(a) => a.id}
            onOpen={(a) => setSelected(a.id)}
            rowLabel={(a) => `Alert ${a.name}, ${a.state}`}
            columns={[
              { header: 'Rule', card: 'title', cell: (a) => <Text fw={600}>{a.name}</Text> },
              { header: 'State', card: 'badge', cell: (a) => <StatusBadge status={a.state} colors={STATE_COLORS} /> },
              {
                header: 'Condition',
                card: true,
                cell: (a) =>
                  `${SIGNALS[a.signal].label} ≥ ${SIGNALS[a.signal].value(a.threshold)} over ${windowText(a.window_minutes)}`,
              },
              { header: 'Scope', cell: scopeText },
              {
                header: 'Last value',
                card: true,
                cell: (a) => (a.last_value === null ? '—' : SIGNALS[a.signal].value(a.last_value)),
              },
              { header: 'Since', cell: (a) => (a.state_since ? ago(a.state_since) : '—') },
            ]}
          />
        </Card>
      )}
      {current && <AlertHistory alert={current} canTest={can('integrations:manage')} />}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New alert">
        <AlertForm onDone={() => setOpen(false)} />
      </CreateDialog>
    </Stack>
  );
}

function AlertHistory({ alert, canTest }: { alert: Alert; canTest: boolean }) {
  const qc = useQueryClient();
  const events = useQuery({
    queryKey: ['alerts', alert.id, 'events'],
    queryFn: () => api<Page<AlertEvent>>(`/v1/alerts/${alert.id}/events`),
  });
  const test = useMutation({
    mutationFn: () => api(`/v1/alerts/${alert.id}/test`, { method: 'POST' }),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `A test notice for ${alert.name} was sent.` });
      qc.invalidateQueries({ queryKey: ['alerts', alert.id, 'events'] });
    },
  });
  return (
    <Card withBorder aria-label={`History of ${alert.name}`}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          {alert.name}: history
        </Title>
        {canTest && (
          <Button variant="default" onClick={() => test.mutate()} loading={test.isPending}>
            Send a test notice
          </Button>
        )}
      </Group>
      <FormError error={test.error} />
      <QueryStatus query={events} />
      {events.data && events.data.data.length === 0 && (
        <Text c="dimmed" size="sm">
          It has not fired yet.
        </Text>
      )}
      {events.data && events.data.data.length > 0 && (
        <DataTable
          label={`Notices of ${alert.name}`}
          rows={events.data.data}
          rowKey={(e) => e.id}
          columns={[
            { header: 'When', card: true, cell: (e) => dateTime(e.created_at) },
            { header: 'What', card: 'badge', cell: (e) => <StatusBadge status={e.kind} colors={STATE_COLORS} /> },
            { header: 'Notice', card: 'title', cell: (e) => e.title },
            {
              header: 'Value',
              card: true,
              cell: (e) => (e.value === null ? '—' : SIGNALS[alert.signal].value(e.value)),
            },
          ]}
        />
      )}
    </Card>
  );
}

function AlertForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [signal, setSignal] = useState<AlertSignal>('failure_rate');
  const [windowMinutes, setWindowMinutes] = useState<number>(60);
  const [threshold, setThreshold] = useState<number>(20);
  const [email, setEmail] = useState(true);
  // Rates are typed as percentages and sent as 0..1.
  const rate = signal === 'failure_rate';
  const save = useMutation({
    mutationFn: () => {
      const body: CreateAlertBody = {
        name,
        signal,
        window_minutes: windowMinutes,
        threshold: rate ? threshold / 100 : threshold,
        channels: email ? [{ type: 'in_app' }, { type: 'email' }] : [{ type: 'in_app' }],
      };
      return api<Alert>('/v1/alerts', { method: 'POST', body });
    },
    onSuccess: (a) => {
      notifications.show({ color: 'teal', message: `Alert ${a.name} created.` });
      qc.invalidateQueries({ queryKey: ['alerts'] });
      onDone();
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Select
          label="Signal"
          data={Object.entries(SIGNALS).map(([value, s]) => ({ value, label: s.label }))}
          value={signal}
          onChange={(v) => v && setSignal(v as AlertSignal)}
          allowDeselect={false}
        />
        <Group grow>
          <NumberInput
            label={rate ? 'Threshold (%)' : 'Threshold'}
            min={0}
            value={threshold}
            onChange={(v) => setThreshold(Number(v) || 0)}
          />
          <NumberInput
            label="Window (minutes)"
            min={5}
            max={10_080}
            value={windowMinutes}
            onChange={(v) => setWindowMinutes(Number(v) || 60)}
          />
        </Group>
        <Checkbox
          label="Also by email (in-app always)"
          checked={email}
          onChange={(e) => setEmail(e.currentTarget.checked)}
        />
        <FormError error={save.error} />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending} disabled={!name.trim()}>
            Create alert
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
