/** Policies: what each rule does, whether it is on, and how often it matched. */

import type { PolicyWithHits } from '@agentops-hub/contracts';
import { Badge, Card, Stack, Text } from '@mantine/core';
import { IconPackages, IconPlus } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { api, type Page } from '../api/client';
import { DataTable } from '../components/DataTable';
import { AnchorLink, ButtonLink } from '../components/links';
import { StatusBadge } from '../components/StatusBadge';
import { Empty, PageHeader, QueryStatus } from '../components/states';
import { ago, num } from '../lib/format';
import { usePermissions } from '../lib/permissions';
import { effectColor, effectLabel } from './policies/policy-sentence';

export function PoliciesPage() {
  const { can } = usePermissions();
  const navigate = useNavigate();
  const list = useQuery({
    queryKey: ['policies'],
    queryFn: () => api<Page<PolicyWithHits>>('/v1/policies', { query: { limit: 200 } }),
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
          <DataTable
            label="Policies"
            rows={list.data.data}
            rowKey={(p) => p.id}
            onOpen={(p) => navigate({ to: '/policies/$policyId', params: { policyId: p.id } })}
            rowLabel={(p) => `Policy ${p.name}`}
            columns={[
              {
                header: 'Name',
                card: 'title',
                cell: (p) => (
                  <>
                    <AnchorLink to="/policies/$policyId" params={{ policyId: p.id }} fw={500}>
                      {p.name}
                    </AnchorLink>
                    {p.description && (
                      <Text size="xs" c="dimmed" lineClamp={1}>
                        {p.description}
                      </Text>
                    )}
                  </>
                ),
              },
              { header: 'Status', card: 'badge', cell: (p) => <StatusBadge status={p.status} /> },
              {
                header: 'Effect',
                card: true,
                cell: (p) => (
                  <Badge color={effectColor(p.rule.then)} variant="outline">
                    {effectLabel(p.rule.then)}
                  </Badge>
                ),
              },
              { header: 'Priority', cell: (p) => p.priority },
              { header: 'Hits', card: true, cell: (p) => num(p.hit_count) },
              { header: 'Last hit', cell: (p) => (p.last_hit_at ? ago(p.last_hit_at) : 'never') },
              { header: 'Version', cell: (p) => `v${p.version}` },
            ]}
          />
        </Card>
      )}
    </Stack>
  );
}
