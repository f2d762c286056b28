/**
 * Email outbox: every email the hub sent or meant to send. Without SMTP settings (`SMTP_URL`,
 * `SMTP_FROM`) mail is kept here with status `kept`, so an admin can still read invitations, password
 * resets and reports and pass them on.
 */

import type { OutboxEntry } from '@agentops-hub/contracts';
import { Alert, Badge, Button, Card, Code, Drawer, Group, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Page } from '../../api/client';
import { Empty, PageHeader, QueryStatus } from '../../components/states';
import { ago, dateTime } from '../../lib/format';

const STATUS_COLOR: Record<string, string> = { sent: 'teal', kept: 'yellow', failed: 'red', queued: 'gray' };

export function EmailOutboxPage() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [reading, setReading] = useState<OutboxEntry | null>(null);
  const cursor = cursors[cursors.length - 1];
  const outbox = useQuery({
    queryKey: ['email-outbox', cursor],
    queryFn: () => api<Page<OutboxEntry>>('/v1/email-outbox', { query: { limit: 50, cursor } }),
    refetchInterval: 10_000,
  });
  const kept = (outbox.data?.data ?? []).some((m) => m.status === 'kept');

  return (
    <Stack>
      <PageHeader title="Email outbox" description="Every email the hub sends, with its delivery state." />
      {kept && (
        <Alert color="yellow" title="Email is not configured" data-testid="smtp-not-configured">
          This hub has no SMTP server (<code>SMTP_URL</code> and <code>SMTP_FROM</code>), so emails are kept here
          instead of being sent. Open one to read it or copy its links.
        </Alert>
      )}
      <QueryStatus query={outbox} />
      {outbox.data && outbox.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No email yet">Invitations, password resets, alerts and reports appear here.</Empty>
        </Card>
      )}
      {outbox.data && outbox.data.data.length > 0 && (
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={700}>
            <Table verticalSpacing="sm" highlightOnHover aria-label="Email outbox">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>To</Table.Th>
                  <Table.Th>Subject</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Queued</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {outbox.data.data.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td>{m.to}</Table.Td>
                    <Table.Td>{m.subject}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLOR[m.status] ?? 'gray'} variant="light">
                        {m.status}
                      </Badge>
                      {m.last_error && (
                        <Text size="xs" c="red">
                          {m.last_error}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{ago(m.created_at)}</Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="light" onClick={() => setReading(m)} aria-label={`Read ${m.subject}`}>
                        Read
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Group justify="space-between">
        <Button variant="default" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </Button>
        <Button
          variant="default"
          disabled={!outbox.data?.next_cursor}
          onClick={() => {
            const next = outbox.data?.next_cursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Older
        </Button>
      </Group>
      <Drawer
        opened={Boolean(reading)}
        onClose={() => setReading(null)}
        position="right"
        size="xl"
        title={reading?.subject}
      >
        {reading && (
          <Stack>
            <Text size="sm">
              To <b>{reading.to}</b> · {dateTime(reading.created_at)} · {reading.status}
              {reading.sent_at ? ` (sent ${dateTime(reading.sent_at)})` : ''} · {reading.attempts} attempt(s)
            </Text>
            <Code block style={{ whiteSpace: 'pre-wrap' }}>
              {reading.text}
            </Code>
          </Stack>
        )}
      </Drawer>
    </Stack>
  );
}
