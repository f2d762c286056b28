/**
 * Webhooks: signed HTTP callbacks for hub events (JSON or Slack), with their delivery log and a test
 * send. The secret is shown once, when the webhook is created.
 */

import type { Webhook, WebhookDelivery } from '@agentops-hub/contracts';
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Drawer,
  Group,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, errorMessage, type Page } from '../../api/client';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CopyField } from '../../components/CopyField';
import { CreateDialog } from '../../components/CreateDialog';
import { Empty, ErrorState, FormError, Loading, PageHeader, QueryStatus } from '../../components/states';
import { ago, dateTime } from '../../lib/format';
import { WEBHOOK_EVENTS } from '../../lib/labels';
import { usePermissions } from '../../lib/permissions';
import { DeliveryBadge } from './DeliveryBadge';

export function WebhooksPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [log, setLog] = useState<Webhook | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const hooks = useQuery({ queryKey: ['webhooks'], queryFn: () => api<Page<Webhook>>('/v1/webhooks') });
  const manage = can('integrations:manage');
  const test = useMutation({
    mutationFn: (id: string) => api<WebhookDelivery>(`/v1/webhooks/${id}/test`, { method: 'POST' }),
    onSuccess: (d) => {
      notifications.show({
        color: d.status === 'delivered' ? 'teal' : 'red',
        message:
          d.status === 'delivered'
            ? `Test delivered (HTTP ${d.response_status}).`
            : `Test failed: ${d.last_error ?? `HTTP ${d.response_status}`}`,
      });
      qc.invalidateQueries({ queryKey: ['webhook-deliveries'] });
    },
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/v1/webhooks/${id}`, { method: 'DELETE' }),
    onSuccess: () => {
      setDeleting(null);
      qc.invalidateQueries({ queryKey: ['webhooks'] });
    },
  });
  const newButton = manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New webhook
    </Button>
  );

  return (
    <Stack>
      <PageHeader
        title="Webhooks"
        description="Send hub events to your systems or to Slack. Each delivery is signed and retried."
        actions={newButton}
      />
      <QueryStatus query={hooks} />
      {hooks.data && hooks.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No webhook yet" action={newButton}>
            A webhook calls your URL when an approval is requested, a budget threshold is reached, an agent is paused…
          </Empty>
        </Card>
      )}
      {hooks.data && hooks.data.data.length > 0 && (
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="sm" aria-label="Webhooks">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>URL</Table.Th>
                  <Table.Th>Events</Table.Th>
                  <Table.Th>Format</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {hooks.data.data.map((h) => (
                  <Table.Tr key={h.id}>
                    <Table.Td maw={320}>
                      <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                        {h.url}
                      </Text>
                      {h.description && (
                        <Text size="xs" c="dimmed">
                          {h.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {h.events.map((e) => (
                          <Badge key={e} size="sm" variant="outline" tt="none">
                            {e}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>{h.format}</Table.Td>
                    <Table.Td>{dateTime(h.created_at)}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="xs" variant="light" onClick={() => setLog(h)}>
                          Deliveries
                        </Button>
                        {manage && (
                          <Button
                            size="xs"
                            variant="default"
                            loading={test.isPending && test.variables === h.id}
                            onClick={() => test.mutate(h.id)}
                          >
                            Send test
                          </Button>
                        )}
                        {manage && (
                          <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(h)}>
                            Delete
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New webhook" size="lg">
        <WebhookForm
          onCreated={() => qc.invalidateQueries({ queryKey: ['webhooks'] })}
          onClose={() => setOpen(false)}
        />
      </CreateDialog>
      <Drawer
        opened={Boolean(log)}
        onClose={() => setLog(null)}
        position="right"
        size="xl"
        title={`Deliveries to ${log?.url ?? ''}`}
      >
        {log && <DeliveryLog webhook={log} />}
      </Drawer>
      <ConfirmDialog
        opened={Boolean(deleting)}
        onClose={() => setDeleting(null)}
        title="Delete this webhook?"
        confirmLabel="Delete webhook"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id)}
      >
        The hub stops calling <b>{deleting?.url}</b>. Deliveries still waiting are dropped.
      </ConfirmDialog>
    </Stack>
  );
}

function DeliveryLog({ webhook }: { webhook: Webhook }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries', webhook.id, cursor],
    queryFn: () =>
      api<Page<WebhookDelivery>>(`/v1/webhooks/${webhook.id}/deliveries`, { query: { limit: 50, cursor } }),
    refetchInterval: 5_000,
  });
  if (deliveries.isPending) return <Loading />;
  if (deliveries.error) return <ErrorState error={deliveries.error} retry={() => deliveries.refetch()} />;
  if (deliveries.data.data.length === 0)
    return <Empty title="Nothing delivered yet">Deliveries appear here when one of the events happens.</Empty>;
  return (
    <Stack>
      <Table.ScrollContainer minWidth={600}>
        <Table verticalSpacing="xs" aria-label="Webhook deliveries">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Event</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Attempts</Table.Th>
              <Table.Th>Answer</Table.Th>
              <Table.Th>When</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {deliveries.data.data.map((d) => (
              <Table.Tr key={d.id}>
                <Table.Td>
                  <Text size="sm">{d.event}</Text>
                  <Text size="xs" c="dimmed" ff="monospace">
                    {d.id}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <DeliveryBadge status={d.status} />
                </Table.Td>
                <Table.Td>{d.attempts}</Table.Td>
                <Table.Td>
                  <Text size="sm">{d.response_status ? `HTTP ${d.response_status}` : '—'}</Text>
                  {d.last_error && (
                    <Text size="xs" c="red">
                      {d.last_error}
                    </Text>
                  )}
                  {d.next_attempt_at && d.status === 'pending' && (
                    <Text size="xs" c="dimmed">
                      next try {dateTime(d.next_attempt_at)}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{ago(d.created_at)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Group justify="space-between">
        <Button variant="default" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </Button>
        <Button
          variant="default"
          disabled={!deliveries.data.next_cursor}
          onClick={() => {
            const next = deliveries.data.next_cursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Older
        </Button>
      </Group>
    </Stack>
  );
}

function WebhookForm({ onCreated, onClose }: { onCreated: () => void; onClose: () => void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['approval.requested']);
  const [format, setFormat] = useState<'json' | 'slack'>('json');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () =>
      api<Webhook & { secret: string }>('/v1/webhooks', {
        method: 'POST',
        body: { url: url.trim(), events, format, description: description || undefined },
      }),
    onSuccess: onCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  if (create.data)
    return (
      <Stack>
        <Alert color="yellow" title="Copy the signing secret now">
          Verify each delivery's <code>X-Hub-Signature-256</code> header with it. It is not shown again.
        </Alert>
        <CopyField value={create.data.secret} label="Copy secret" testId="webhook-secret" />
        <Button onClick={onClose}>Done</Button>
      </Stack>
    );
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput
          label="URL"
          required
          type="url"
          placeholder="https://example.com/hooks/agentops"
          value={url}
          onChange={(e) => setUrl(e.currentTarget.value)}
          data-autofocus
        />
        <TextInput
          label="Description"
          placeholder="e.g. #ops channel"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="webhook-format-label">
            Format
          </Text>
          <SegmentedControl
            aria-labelledby="webhook-format-label"
            value={format}
            onChange={(v) => setFormat(v as 'json' | 'slack')}
            data={[
              { value: 'json', label: 'JSON' },
              { value: 'slack', label: 'Slack incoming webhook' },
            ]}
          />
        </Stack>
        <Checkbox.Group label="Events" withAsterisk value={events} onChange={setEvents}>
          <SimpleGrid cols={2} mt="xs" spacing="xs">
            {WEBHOOK_EVENTS.map((e) => (
              <Checkbox key={e} value={e} label={e} />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
        <FormError error={create.error} />
        <Button type="submit" loading={create.isPending} disabled={!url.trim() || events.length === 0}>
          Create webhook
        </Button>
      </Stack>
    </form>
  );
}
