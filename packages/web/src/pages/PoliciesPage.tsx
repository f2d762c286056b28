/** Policies: what each rule does, whether it is on, and how often it matched. */
import { Badge, Card, Stack, Table, Text } from '@mantine/core';
import { IconPackages, IconPlus } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { api, type Page } from '../api/client';
import type { Policy } from '../api/types';
import { AnchorLink, ButtonLink } from '../components/links';
import { Empty, PageHeader, QueryStatus } from '../components/states';
import { ago, num } from '../lib/format';
import { usePermissions } from '../lib/permissions';
import { effectColor, effectLabel } from './policies/policy-sentence';

export function PoliciesPage() {
  const { can } = usePermissions();
  const list = useQuery({
    queryKey: ['policies'],
    queryFn: () => api<Page<Policy>>('/v1/policies', { query: { limit: 200 } }),
  });
  const create = can('policies:create') && (
    <ButtonLink to="/policies/$policyId" params={{ policyId: 'new' }} leftSection={<IconPlus size={16} />}>
      New policy
    </ButtonLink>
  );
  return (
    <Stack>
      <PageHeader
        title="Policies"
        description="Rules your agents' sensitive actions are checked against: block them, or hold them for a person."
        actions={
          <>
            <ButtonLink to="/governance/packs" variant="default" leftSection={<IconPackages size={16} />}>
              Policy packs
            </ButtonLink>
            {create}
          </>
        }
      />
      <QueryStatus query={list} />
      {list.data && list.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No policy yet" action={create}>
            Without policies every action is allowed. Start with one sentence, e.g. “When support-bot does refund and
            amount is more than 100 → require approval”. Or apply a{' '}
            <AnchorLink to="/governance/packs">policy pack</AnchorLink>: a tested set of policies and budgets for your
            kind of agents.
          </Empty>
        </Card>
      )}
      {list.data && list.data.data.length > 0 && (
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={700}>
            <Table highlightOnHover verticalSpacing="sm" aria-label="Policies">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Effect</Table.Th>
                  <Table.Th>Priority</Table.Th>
                  <Table.Th>Hits</Table.Th>
                  <Table.Th>Last hit</Table.Th>
                  <Table.Th>Version</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.data.data.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>
                      <AnchorLink to="/policies/$policyId" params={{ policyId: p.id }} fw={500}>
                        {p.name}
                      </AnchorLink>
                      {p.description && (
                        <Text size="xs" c="dimmed" lineClamp={1}>
                          {p.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Badge color={p.status === 'active' ? 'teal' : 'gray'} variant="light">
                        {p.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={effectColor(p.rule.then)} variant="outline">
                        {effectLabel(p.rule.then)}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{p.priority}</Table.Td>
                    <Table.Td>{num(p.hit_count)}</Table.Td>
                    <Table.Td>{p.last_hit_at ? ago(p.last_hit_at) : 'never'}</Table.Td>
                    <Table.Td>v{p.version}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
    </Stack>
  );
}
