/** Agents: the registry, filtered by tag, type, environment and status, searched by name; create one. */

import type { Agent, CostsResponse as Costs, Team } from '@agentops-hub/contracts';
import { Badge, Button, Card, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api, type Page } from '../../api/client';
import { CreateDialog } from '../../components/CreateDialog';
import { DataTable } from '../../components/DataTable';
import { AnchorLink } from '../../components/links';
import { Money } from '../../components/Money';
import { AgentStatusBadge } from '../../components/StatusBadge';
import { Empty, ErrorState, Loading, PageHeader } from '../../components/states';
import { ago, num } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';
import { AgentForm } from './AgentForm';

export function AgentsPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [q] = useDebouncedValue(text.trim(), 300);
  const [tagText, setTag] = useState('');
  const [typeText, setType] = useState('');
  const [tag] = useDebouncedValue(tagText, 300);
  const [type] = useDebouncedValue(typeText, 300);
  const [environment, setEnvironment] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const filters = { q, tag, type, environment, status };

  const agents = useQuery({
    queryKey: ['agents', 'list', filters, cursor],
    queryFn: () =>
      api<Page<Agent>>('/v1/agents', {
        query: { q, tag, type, environment, status, limit: 50, cursor },
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  // Spend and activity over the last 30 days, one call for every agent.
  const costs = useQuery({
    queryKey: ['costs', 'agent', '30d'],
    queryFn: () => api<Costs>('/v1/costs', { query: { group_by: 'agent' } }),
    enabled: can('costs:read'),
  });
  const teams = useQuery({
    queryKey: ['teams'],
    queryFn: () => api<Page<Team>>('/v1/teams'),
    enabled: can('teams:read'),
  });
  const byAgent = new Map((costs.data?.data ?? []).map((r) => [r.key, r]));
  const teamName = (id: string | null) => (id ? (teams.data?.data.find((t) => t.id === id)?.name ?? id) : '—');
  const reset = () => setCursors([undefined]);
  const filtered = Boolean(q || tag || type || environment || status);

  const newButton = can('agents:create') && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New agent
    </Button>
  );

  return (
    <Stack>
      <PageHeader
        title="Agents"
        description="Every agent that reports to the hub: its configuration, activity and cost."
        actions={newButton}
      />
      <Card withBorder>
        <Group align="flex-end" wrap="wrap">
          <TextInput
            label="Search"
            placeholder="Agent name"
            leftSection={<IconSearch size={16} />}
            value={text}
            onChange={(e) => {
              setText(e.currentTarget.value);
              reset();
            }}
            w={240}
          />
          <TextInput
            label="Tag"
            placeholder="e.g. billing"
            value={tagText}
            onChange={(e) => {
              setTag(e.currentTarget.value.trim());
              reset();
            }}
            w={150}
          />
          <TextInput
            label="Type"
            placeholder="e.g. support"
            value={typeText}
            onChange={(e) => {
              setType(e.currentTarget.value.trim());
              reset();
            }}
            w={150}
          />
          <Select
            label="Environment"
            placeholder="Any"
            clearable
            data={['prod', 'staging', 'test']}
            value={environment}
            onChange={(v) => {
              setEnvironment(v);
              reset();
            }}
            w={140}
          />
          <Select
            label="Status"
            placeholder="Any"
            clearable
            data={['active', 'paused']}
            value={status}
            onChange={(v) => {
              setStatus(v);
              reset();
            }}
            w={130}
          />
        </Group>
      </Card>
      {agents.isPending && <Loading label="Loading agents…" />}
      {agents.error && <ErrorState error={agents.error} retry={() => agents.refetch()} />}
      {agents.data && agents.data.data.length === 0 && (
        <Card withBorder>
          {filtered ? (
            <Empty title="No agent matches">Change the search or the filters.</Empty>
          ) : (
            <Empty title="No agent yet" action={newButton}>
              An agent appears here when it reports its first run, or when you register it.
            </Empty>
          )}
        </Card>
      )}
      {agents.data && agents.data.data.length > 0 && (
        <Card withBorder p={0}>
          <DataTable
            label="Agents"
            rows={agents.data.data}
            rowKey={(a) => a.id}
            onOpen={(a) => navigate({ to: '/agents/$agentId', params: { agentId: a.id } })}
            rowLabel={(a) => `Agent ${a.name}`}
            minWidth={860}
            columns={[
              {
                header: 'Agent',
                card: 'title',
                cell: (a) => (
                  <>
                    <AnchorLink to="/agents/$agentId" params={{ agentId: a.id }} fw={600}>
                      {a.name}
                    </AnchorLink>
                    <Text size="xs" c="dimmed" lineClamp={1}>
                      {a.description || `added ${ago(a.created_at)}`}
                    </Text>
                  </>
                ),
              },
              { header: 'Status', card: 'badge', cell: (a) => <AgentStatusBadge status={a.status} /> },
              { header: 'Type', cell: (a) => a.type ?? '—' },
              { header: 'Environment', card: true, cell: (a) => a.environment },
              { header: 'Team', cell: (a) => teamName(a.team_id) },
              {
                header: 'Tags',
                cell: (a) => (
                  <Group gap={4}>
                    {a.tags.map((t) => (
                      <Badge key={t} variant="outline" size="sm">
                        {t}
                      </Badge>
                    ))}
                  </Group>
                ),
              },
              {
                header: 'Runs (30 d)',
                card: true,
                hidden: !can('costs:read'),
                cell: (a) => num(byAgent.get(a.id)?.runs ?? 0),
              },
              {
                header: 'Cost (30 d)',
                card: true,
                hidden: !can('costs:read'),
                cell: (a) => <Money value={byAgent.get(a.id)?.cost_usd ?? 0} />,
              },
            ]}
          />
        </Card>
      )}
      <Group justify="space-between">
        <Button variant="default" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous
        </Button>
        <Button
          variant="default"
          disabled={!agents.data?.next_cursor}
          onClick={() => agents.data?.next_cursor && setCursors((c) => [...c, agents.data.next_cursor ?? undefined])}
        >
          Next
        </Button>
      </Group>
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New agent" size="lg">
        <AgentForm
          onDone={(a) => {
            setOpen(false);
            qc.invalidateQueries({ queryKey: ['agents'] });
            notifications.show({ color: 'teal', message: `Agent ${a.name} created.` });
            navigate({ to: '/agents/$agentId', params: { agentId: a.id } });
          }}
        />
      </CreateDialog>
    </Stack>
  );
}
