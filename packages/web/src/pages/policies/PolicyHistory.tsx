/** Version history of a policy: pick a version to see its diff against the current one, and roll back to it. */

import type { Policy, PolicyVersion } from '@agentops-hub/contracts';
import { Box, Button, Card, Code, Group, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { diffLines } from 'diff';
import { useState } from 'react';
import YAML from 'yaml';
import { api, errorMessage, type Page } from '../../api/client';
import { usePeople } from '../../api/people';
import { Loading } from '../../components/states';
import { dateTime } from '../../lib/format';

const view = (p: Policy) =>
  YAML.stringify({ name: p.name, description: p.description, status: p.status, priority: p.priority, rule: p.rule });

export function PolicyHistory({ policy, canRollback }: { policy: Policy; canRollback: boolean }) {
  const qc = useQueryClient();
  const person = usePeople();
  const [picked, setPicked] = useState<number | null>(null);
  const versions = useQuery({
    queryKey: ['policies', policy.id, 'versions', policy.version],
    queryFn: () => api<Page<PolicyVersion>>(`/v1/policies/${policy.id}/versions`),
  });
  const rollback = useMutation({
    mutationFn: (version: number) =>
      api<Policy>(`/v1/policies/${policy.id}/rollback`, { method: 'POST', body: { version } }),
    onSuccess: (p) => {
      notifications.show({ color: 'teal', title: 'Rolled back', message: `${p.name} is now v${p.version}.` });
      setPicked(null);
      qc.invalidateQueries({ queryKey: ['policies'] });
    },
  });
  const chosen = versions.data?.data.find((v) => v.version === picked);

  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        Version history
      </Title>
      {versions.isPending && <Loading />}
      {versions.data && (
        <Table aria-label="Policy versions" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th>
              <Table.Th>Change</Table.Th>
              <Table.Th>By</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {versions.data.data.map((v) => (
              <Table.Tr key={v.version}>
                <Table.Td>v{v.version}</Table.Td>
                <Table.Td>{v.change}</Table.Td>
                <Table.Td>
                  <Text size="sm" title={v.changed_by}>
                    {person(v.changed_by)}
                  </Text>
                </Table.Td>
                <Table.Td>{dateTime(v.changed_at)}</Table.Td>
                <Table.Td>
                  {v.version !== policy.version && (
                    <Button size="xs" variant="subtle" onClick={() => setPicked(v.version)}>
                      Compare
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {chosen && (
        <Stack mt="md" gap="xs">
          <Group justify="space-between">
            <Text fw={600}>
              v{chosen.version} → current v{policy.version}
            </Text>
            {canRollback && (
              <Button
                color="orange"
                variant="light"
                onClick={() => rollback.mutate(chosen.version)}
                loading={rollback.isPending}
              >
                Roll back to v{chosen.version}
              </Button>
            )}
          </Group>
          {rollback.error && (
            <Text c="red" size="sm">
              {errorMessage(rollback.error)}
            </Text>
          )}
          <Code block aria-label="Diff">
            {diffLines(view(chosen.policy), view(policy)).map((part, i) => (
              <Box
                // biome-ignore lint/suspicious/noArrayIndexKey: diff parts are positional
                key={i}
                component="span"
                style={{
                  display: 'block',
                  whiteSpace: 'pre-wrap',
                  background: part.added
                    ? 'var(--mantine-color-teal-light)'
                    : part.removed
                      ? 'var(--mantine-color-red-light)'
                      : undefined,
                }}
              >
                {part.value
                  .replace(/\n$/, '')
                  .split('\n')
                  .map((l) => `${part.added ? '+ ' : part.removed ? '- ' : '  '}${l}`)
                  .join('\n')}
              </Box>
            ))}
          </Code>
        </Stack>
      )}
    </Card>
  );
}
