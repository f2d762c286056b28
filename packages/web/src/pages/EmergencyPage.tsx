/** Emergency controls: the kill switch, category pauses (an agent type or tag) and per-agent pause. */

import type { Agent } from '@agentops-hub/contracts';
import { Badge, Button, Card, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, errorMessage, type Page } from '../api/client';
import { useControls } from '../api/queries';
import { BigRedButton } from '../components/BigRedButton';
import { ErrorState, Loading, PageHeader } from '../components/states';
import { ago } from '../lib/format';
import { usePermissions } from '../lib/permissions';

export function EmergencyPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const controls = useControls();
  const agents = useQuery({
    queryKey: ['agents', 'all'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
  });
  const [category, setCategory] = useState('');
  const [reason, setReason] = useState('');
  const manage = can('controls:manage');
  const canPause = can('agents:pause');

  const refresh = () => {
    qc.invalidateQueries({ queryKey: ['controls'] });
    qc.invalidateQueries({ queryKey: ['agents'] });
  };
  const categoryMut = useMutation({
    mutationFn: ({ name, pause }: { name: string; pause: boolean }) =>
      api(`/v1/controls/categories/${encodeURIComponent(name)}/${pause ? 'pause' : 'resume'}`, {
        method: 'POST',
        body: pause && reason ? { reason } : {},
      }),
    onSuccess: (_r, v) => {
      notifications.show({ message: `Category ${v.name} ${v.pause ? 'paused' : 'resumed'}.` });
      setCategory('');
      refresh();
    },
  });
  const agentMut = useMutation({
    mutationFn: ({ id, pause }: { id: string; pause: boolean }) =>
      api(`/v1/agents/${id}/${pause ? 'pause' : 'resume'}`, {
        method: 'POST',
        body: pause ? { reason: reason || undefined } : {},
      }),
    onSuccess: refresh,
  });

  if (controls.isPending) return <Loading />;
  if (controls.error) return <ErrorState error={controls.error} retry={() => controls.refetch()} />;
  const c = controls.data;

  return (
    <Stack>
      <PageHeader title="Emergency" description="Stop everything, a category of agents, or one agent, at once." />
      <Card withBorder bg={c.kill_switch.engaged ? 'var(--mantine-color-red-light)' : undefined}>
        <Group justify="space-between">
          <div>
            <Title order={2} size="h4">
              Kill switch
            </Title>
            <Text size="sm">
              {c.kill_switch.engaged
                ? `Engaged ${ago(c.kill_switch.at)} by ${c.kill_switch.by?.name ?? c.kill_switch.by?.id ?? 'someone'}: ${c.kill_switch.reason ?? ''}`
                : 'Off: agents act within their policies.'}
            </Text>
          </div>
          {manage && <BigRedButton controls={c} />}
        </Group>
      </Card>
      <TextInput
        label="Reason for the next pause"
        description="Recorded in the audit log with the pause"
        value={reason}
        onChange={(e) => setReason(e.currentTarget.value)}
        maw={480}
        disabled={!manage && !canPause}
      />
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Category pauses
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          A category is an agent type or a tag, e.g. <code>outbound_email</code>: every agent in it is refused.
        </Text>
        {c.paused_categories.length === 0 ? (
          <Text size="sm">No category is paused.</Text>
        ) : (
          <Table aria-label="Paused categories">
            <Table.Tbody>
              {c.paused_categories.map((p) => (
                <Table.Tr key={p.category}>
                  <Table.Td>
                    <Badge color="orange">{p.category}</Badge>
                  </Table.Td>
                  <Table.Td>{p.reason ?? '—'}</Table.Td>
                  <Table.Td>{ago(p.at)}</Table.Td>
                  <Table.Td>
                    {manage && (
                      <Button
                        size="xs"
                        variant="light"
                        onClick={() => categoryMut.mutate({ name: p.category, pause: false })}
                      >
                        Resume
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {manage && (
          <Group mt="sm" align="flex-end">
            <TextInput
              label="Category"
              placeholder="outbound_email"
              value={category}
              onChange={(e) => setCategory(e.currentTarget.value)}
            />
            <Button
              color="orange"
              disabled={!category.trim()}
              onClick={() => categoryMut.mutate({ name: category.trim(), pause: true })}
              loading={categoryMut.isPending}
            >
              Pause category
            </Button>
          </Group>
        )}
        {categoryMut.error && (
          <Text c="red" size="sm">
            {errorMessage(categoryMut.error)}
          </Text>
        )}
      </Card>
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Agents
        </Title>
        {agents.isPending && <Loading />}
        {agents.data && agents.data.data.length === 0 && <Text size="sm">No agent yet.</Text>}
        {agents.data && agents.data.data.length > 0 && (
          <Table.ScrollContainer minWidth={600}>
            <Table aria-label="Agents">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Agent</Table.Th>
                  <Table.Th>Type / tags</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {agents.data.data.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td>{a.name}</Table.Td>
                    <Table.Td>{[a.type, ...a.tags].filter(Boolean).join(', ') || '—'}</Table.Td>
                    <Table.Td>
                      <Badge color={a.status === 'paused' ? 'orange' : 'teal'} variant="light">
                        {a.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {canPause && (
                        <Button
                          size="xs"
                          variant="light"
                          color={a.status === 'paused' ? 'teal' : 'orange'}
                          onClick={() => agentMut.mutate({ id: a.id, pause: a.status !== 'paused' })}
                          aria-label={`${a.status === 'paused' ? 'Resume' : 'Pause'} ${a.name}`}
                        >
                          {a.status === 'paused' ? 'Resume' : 'Pause'}
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {agentMut.error && (
          <Text c="red" size="sm">
            {errorMessage(agentMut.error)}
          </Text>
        )}
      </Card>
    </Stack>
  );
}
