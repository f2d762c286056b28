/**
 * Data rights, for owners: export everything the organization owns (a durable job, then a .tar.gz of
 * JSONL files) and delete the organization with all its data, confirmed by typing its name.
 */

import type { OrgExport } from '@agentops-hub/contracts';
import { Alert, Badge, Button, Card, Group, Modal, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconDownload, IconPackageExport, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api, errorMessage, type Page } from '../../api/client';
import { useMe } from '../../api/queries';
import { Empty, FormError, PageHeader, QueryStatus } from '../../components/states';
import { ago, bytes, num } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';

const STATUS_COLOR: Record<OrgExport['status'], string> = {
  pending: 'gray',
  running: 'blue',
  completed: 'teal',
  failed: 'red',
};

export function DataRightsPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const mayExport = can('org:export');
  const exports = useQuery({
    queryKey: ['org-exports'],
    queryFn: () => api<Page<OrgExport>>('/v1/org/exports'),
    enabled: mayExport,
    // Follow a running export until it is ready.
    refetchInterval: (q) =>
      q.state.data?.data.some((e) => e.status === 'pending' || e.status === 'running') ? 2_000 : false,
  });
  const start = useMutation({
    mutationFn: () => api<OrgExport>('/v1/org/export', { method: 'POST' }),
    onSuccess: () => {
      notifications.show({ message: 'Export started. It appears below when it is ready.' });
      qc.invalidateQueries({ queryKey: ['org-exports'] });
    },
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api(`/v1/org/exports/${id}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['org-exports'] }),
  });

  if (!mayExport && !can('org:delete'))
    return (
      <Stack>
        <PageHeader title="Data and deletion" />
        <Alert color="gray">Only the organization's owners can export or delete its data.</Alert>
      </Stack>
    );

  return (
    <Stack>
      <PageHeader
        title="Data and deletion"
        description="Take all your organization's data out, or erase it. Both are recorded in the audit log."
      />
      {mayExport && (
        <Card withBorder>
          <Group justify="space-between" mb="sm" align="flex-start">
            <Stack gap={2}>
              <Title order={2} size="h4">
                Export everything
              </Title>
              <Text size="sm" c="dimmed" maw={640}>
                A .tar.gz of JSONL files: members, agents, policies, runs, events, approvals, the audit log with its
                hashes, and every other table. Secrets (key hashes, webhook secrets, provider credentials) never leave.
              </Text>
            </Stack>
            <Button
              leftSection={<IconPackageExport size={16} />}
              loading={start.isPending}
              onClick={() => start.mutate()}
            >
              Start an export
            </Button>
          </Group>
          <QueryStatus query={exports} />
          {exports.data && exports.data.data.length === 0 && <Empty title="No export yet" />}
          {exports.data && exports.data.data.length > 0 && (
            <Table.ScrollContainer minWidth={640}>
              <Table verticalSpacing="sm" aria-label="Exports">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Requested</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Size</Table.Th>
                    <Table.Th>Rows</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {exports.data.data.map((x) => (
                    <Table.Tr key={x.id}>
                      <Table.Td>
                        <Text size="sm">{ago(x.created_at)}</Text>
                        <Text size="xs" c="dimmed" ff="monospace">
                          {x.id}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={STATUS_COLOR[x.status]} variant="light">
                          {x.status}
                        </Badge>
                        {x.error && (
                          <Text size="xs" c="red">
                            {x.error}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>{bytes(x.size_bytes)}</Table.Td>
                      <Table.Td>{num(x.files.reduce((n, f) => n + f.rows, 0))}</Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap" justify="flex-end">
                          {x.status === 'completed' && (
                            <Button
                              component="a"
                              href={`/v1/org/export/${x.id}`}
                              download
                              size="xs"
                              leftSection={<IconDownload size={14} />}
                              data-testid="export-download"
                            >
                              Download
                            </Button>
                          )}
                          <Button
                            size="xs"
                            variant="subtle"
                            color="red"
                            onClick={() => remove.mutate(x.id)}
                            aria-label={`Delete export ${x.id}`}
                          >
                            Delete
                          </Button>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Card>
      )}
      {can('org:delete') && <DeleteOrg />}
    </Stack>
  );
}

function DeleteOrg() {
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const name = me.data?.org?.name ?? '';
  const del = useMutation({
    mutationFn: () => api('/v1/org', { method: 'DELETE', body: { confirm: typed } }),
    onSuccess: async () => {
      setOpen(false);
      notifications.show({ message: `${name} and all its data were deleted.` });
      qc.clear();
      await navigate({ to: '/' });
    },
  });
  return (
    <Card withBorder style={{ borderColor: 'var(--mantine-color-red-6)' }}>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Title order={2} size="h4" c="red">
            Delete the organization
          </Title>
          <Text size="sm" c="dimmed" maw={640}>
            Every agent, run, policy, key, member and setting of {name} is erased at once. This cannot be undone: export
            first if you may need anything.
          </Text>
        </Stack>
        <Button color="red" leftSection={<IconTrash size={16} />} onClick={() => setOpen(true)}>
          Delete organization
        </Button>
      </Group>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Delete ${name}?`} centered>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            del.mutate();
          }}
        >
          <Stack>
            <Text size="sm">
              Type <b>{name}</b> to confirm. All its data is deleted now; the audit log keeps a tombstone.
            </Text>
            <TextInput
              label="Organization name"
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
              autoComplete="off"
              data-autofocus
            />
            <FormError error={del.error} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" color="red" disabled={typed !== name} loading={del.isPending}>
                Delete {name} forever
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </Card>
  );
}
