/**
 * Budgets: spend against each budget in its period, with the alert thresholds and what happens past it.
 * On a plan without budgets the page stays, with the hub's sentence in a locked panel (LockedFeature).
 */

import type { Agent, Budget } from '@agentops-hub/contracts';
import {
  Badge,
  Button,
  Card,
  Group,
  MultiSelect,
  NumberInput,
  Progress,
  Select,
  Stack,
  Table,
  Text,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Page, planLockOf } from '../api/client';
import { CreateDialog } from '../components/CreateDialog';
import { LockedFeature } from '../components/LockedFeature';
import { Money } from '../components/Money';
import { Empty, FormError, PageHeader, QueryStatus } from '../components/states';
import { usePermissions } from '../lib/permissions';

export function BudgetsPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const budgets = useQuery({
    queryKey: ['budgets'],
    queryFn: () => api<Page<Budget>>('/v1/budgets'),
    refetchInterval: 30_000,
  });
  const agents = useQuery({
    queryKey: ['agents', 'all'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
  });
  const teams = useQuery({
    queryKey: ['teams'],
    queryFn: () => api<Page<{ id: string; name: string }>>('/v1/teams'),
    enabled: can('teams:read'),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/v1/budgets/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['budgets'] }),
  });
  const locked = planLockOf(budgets.error);
  const manage = can('budgets:manage') && !locked;
  const scopeName = (b: Budget) =>
    b.scope === 'org'
      ? 'Whole organization'
      : b.scope === 'agent'
        ? (agents.data?.data.find((a) => a.id === b.scope_id)?.name ?? b.name ?? b.scope_id)
        : (teams.data?.data.find((t) => t.id === b.scope_id)?.name ?? b.name ?? b.scope_id);
  const newButton = manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New budget
    </Button>
  );

  return (
    <Stack>
      <PageHeader
        title="Budgets"
        description="Spending limits per agent, team or organization, with alerts."
        actions={newButton}
      />
      {locked ? <LockedFeature feature="Budgets" sentence={locked} /> : <QueryStatus query={budgets} />}
      {budgets.data && budgets.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No budget yet" action={newButton}>
            A budget alerts you at its thresholds and can pause agents when it is spent.
          </Empty>
        </Card>
      )}
      {budgets.data && budgets.data.data.length > 0 && (
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="sm" aria-label="Budgets">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Scope</Table.Th>
                  <Table.Th>Period</Table.Th>
                  <Table.Th w="30%">Spent</Table.Th>
                  <Table.Th>Thresholds</Table.Th>
                  <Table.Th>When exceeded</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {budgets.data.data.map((b) => {
                  const pct = b.amount_usd > 0 ? (b.spent_usd / b.amount_usd) * 100 : 0;
                  return (
                    <Table.Tr key={b.id}>
                      <Table.Td>
                        <Text fw={600}>{scopeName(b)}</Text>
                        <Text size="xs" c="dimmed">
                          {b.scope}
                        </Text>
                      </Table.Td>
                      <Table.Td>per {b.period}</Table.Td>
                      <Table.Td>
                        <Progress
                          value={Math.min(pct, 100)}
                          color={pct >= 100 ? 'red' : pct >= 80 ? 'orange' : 'blue'}
                          aria-label={`${Math.round(pct)}% of the budget spent`}
                        />
                        <Text size="xs" mt={4}>
                          <Money value={b.spent_usd} /> of <Money value={b.amount_usd} /> ({Math.round(pct)}%)
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {b.thresholds.map((t) => (
                            <Badge key={t} variant="outline" size="sm">
                              {t}%
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                      <Table.Td>{b.on_exceed}</Table.Td>
                      <Table.Td>
                        {manage && (
                          <Button size="xs" variant="subtle" color="red" onClick={() => remove.mutate(b.id)}>
                            Delete
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New budget">
        <BudgetForm
          agents={agents.data?.data ?? []}
          teams={teams.data?.data ?? []}
          onDone={() => {
            setOpen(false);
            qc.invalidateQueries({ queryKey: ['budgets'] });
          }}
        />
      </CreateDialog>
    </Stack>
  );
}

function BudgetForm({
  agents,
  teams,
  onDone,
}: {
  agents: Agent[];
  teams: { id: string; name: string }[];
  onDone: () => void;
}) {
  const [scope, setScope] = useState<'org' | 'agent' | 'team'>('org');
  const [scopeId, setScopeId] = useState<string | null>(null);
  const [amount, setAmount] = useState<number | string>(100);
  const [period, setPeriod] = useState<'day' | 'week' | 'month'>('month');
  const [thresholds, setThresholds] = useState<string[]>(['50', '80', '100']);
  const [onExceed, setOnExceed] = useState<'notify' | 'throttle' | 'pause'>('notify');
  const create = useMutation({
    mutationFn: () =>
      api<Budget>('/v1/budgets', {
        method: 'POST',
        body: {
          scope,
          ...(scope !== 'org' ? { scope_id: scopeId } : {}),
          amount_usd: Number(amount),
          period,
          thresholds: thresholds.map(Number).sort((a, b) => a - b),
          on_exceed: onExceed,
        },
      }),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'Budget created.' });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <Select
          label="Applies to"
          data={[
            { value: 'org', label: 'The whole organization' },
            { value: 'agent', label: 'One agent' },
            { value: 'team', label: 'One team' },
          ]}
          value={scope}
          onChange={(v) => {
            setScope((v as typeof scope) ?? 'org');
            setScopeId(null);
          }}
          allowDeselect={false}
        />
        {scope !== 'org' && (
          <Select
            label={scope === 'agent' ? 'Agent' : 'Team'}
            required
            searchable
            data={(scope === 'agent' ? agents : teams).map((x) => ({ value: x.id, label: x.name }))}
            value={scopeId}
            onChange={setScopeId}
          />
        )}
        <NumberInput
          label="Amount (USD)"
          required
          min={0.01}
          decimalScale={2}
          prefix="$"
          value={amount}
          onChange={setAmount}
        />
        <Select
          label="Period"
          data={[
            { value: 'day', label: 'Per day' },
            { value: 'week', label: 'Per week' },
            { value: 'month', label: 'Per month' },
          ]}
          value={period}
          onChange={(v) => setPeriod((v as typeof period) ?? 'month')}
          allowDeselect={false}
        />
        <MultiSelect
          label="Alert thresholds"
          description="Percentages of the amount that send an alert"
          data={['25', '50', '75', '80', '90', '100']}
          value={thresholds}
          onChange={setThresholds}
        />
        <Select
          label="When exceeded"
          data={[
            { value: 'notify', label: 'Notify only' },
            { value: 'throttle', label: 'Throttle the agents' },
            { value: 'pause', label: 'Pause the agents' },
          ]}
          value={onExceed}
          onChange={(v) => setOnExceed((v as typeof onExceed) ?? 'notify')}
          allowDeselect={false}
        />
        <FormError error={create.error} />
        <Button type="submit" loading={create.isPending} disabled={scope !== 'org' && !scopeId}>
          Create budget
        </Button>
      </Stack>
    </form>
  );
}
