/** Notifications: your in-app feed (mark read) and which topics reach you in the app and by email. */

import type { HubNotification, NotificationPreferences } from '@agentops-hub/contracts';
import { Badge, Button, Card, Group, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { notifications as toast } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, errorMessage, type Page } from '../../api/client';
import { Empty, PageHeader, QueryStatus } from '../../components/states';
import { ago } from '../../lib/format';
import { NOTIFICATION_TOPICS, type NotificationTopic } from '../../lib/labels';

export function NotificationsPage() {
  const qc = useQueryClient();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const prefs = useQuery({
    queryKey: ['notification-preferences'],
    queryFn: () => api<NotificationPreferences>('/v1/notification-preferences'),
  });
  const feed = useQuery({
    queryKey: ['notifications', unreadOnly, cursor],
    queryFn: () =>
      api<Page<HubNotification>>('/v1/notifications', {
        query: { unread: unreadOnly ? 'true' : undefined, limit: 30, cursor },
      }),
    refetchInterval: 15_000,
  });
  const setPref = useMutation({
    mutationFn: (v: { channel: 'in_app' | 'email'; topic: NotificationTopic; on: boolean }) =>
      api<NotificationPreferences>('/v1/notification-preferences', {
        method: 'PUT',
        body: { [v.channel]: { [v.topic]: v.on } },
      }),
    onSuccess: (p) => qc.setQueryData(['notification-preferences'], p),
    onError: (e) => toast.show({ color: 'red', message: errorMessage(e) }),
  });
  const markRead = useMutation({
    mutationFn: (id: string) => api(`/v1/notifications/${id}/read`, { method: 'POST' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['notifications'] }),
  });
  const markAll = useMutation({
    mutationFn: () => api<{ updated: number }>('/v1/notifications/read-all', { method: 'POST' }),
    onSuccess: (r) => {
      toast.show({ message: `${r.updated} notification(s) marked as read.` });
      qc.invalidateQueries({ queryKey: ['notifications'] });
    },
  });

  return (
    <Stack>
      <PageHeader title="Notifications" description="What the hub tells you about, and where." />
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Preferences
        </Title>
        <QueryStatus query={prefs} />
        {prefs.data && (
          <Table.ScrollContainer minWidth={520}>
            <Table aria-label="Notification preferences" verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Topic</Table.Th>
                  <Table.Th w={110}>In the app</Table.Th>
                  <Table.Th w={110}>By email</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {NOTIFICATION_TOPICS.map((t) => (
                  <Table.Tr key={t.value}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {t.label}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {t.hint}
                      </Text>
                    </Table.Td>
                    {(['in_app', 'email'] as const).map((channel) => (
                      <Table.Td key={channel}>
                        <Switch
                          aria-label={`${t.label} ${channel === 'email' ? 'by email' : 'in the app'}`}
                          checked={Boolean(prefs.data[channel][t.value])}
                          onChange={(e) => setPref.mutate({ channel, topic: t.value, on: e.currentTarget.checked })}
                        />
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h4">
            Your notifications
          </Title>
          <Group gap="sm">
            <Switch
              label="Unread only"
              checked={unreadOnly}
              onChange={(e) => {
                setUnreadOnly(e.currentTarget.checked);
                setCursors([undefined]);
              }}
            />
            <Button size="xs" variant="default" loading={markAll.isPending} onClick={() => markAll.mutate()}>
              Mark all as read
            </Button>
          </Group>
        </Group>
        <QueryStatus query={feed} />
        {feed.data && feed.data.data.length === 0 && (
          <Empty title={unreadOnly ? 'Nothing unread' : 'No notification yet'}>
            Approvals, budget thresholds and policy violations show up here.
          </Empty>
        )}
        <Stack gap="xs">
          {feed.data?.data.map((n) => (
            <Card key={n.id} withBorder padding="sm" bg={n.read_at ? undefined : 'var(--mantine-color-blue-light)'}>
              <Group justify="space-between" wrap="nowrap" align="flex-start">
                <Stack gap={2}>
                  <Group gap="xs">
                    <Text size="sm" fw={600}>
                      {n.title}
                    </Text>
                    {!n.read_at && (
                      <Badge size="xs" color="blue">
                        new
                      </Badge>
                    )}
                  </Group>
                  {n.body && (
                    <Text size="sm" c="dimmed">
                      {n.body}
                    </Text>
                  )}
                  <Text size="xs" c="dimmed">
                    {ago(n.created_at)} · {n.type}
                  </Text>
                </Stack>
                {!n.read_at && (
                  <Button size="xs" variant="subtle" onClick={() => markRead.mutate(n.id)}>
                    Mark read
                  </Button>
                )}
              </Group>
            </Card>
          ))}
        </Stack>
        {(cursors.length > 1 || feed.data?.next_cursor) && (
          <Group justify="space-between" mt="sm">
            <Button variant="default" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Newer
            </Button>
            <Button
              variant="default"
              disabled={!feed.data?.next_cursor}
              onClick={() => {
                const next = feed.data?.next_cursor;
                if (next) setCursors((c) => [...c, next]);
              }}
            >
              Older
            </Button>
          </Group>
        )}
      </Card>
    </Stack>
  );
}
