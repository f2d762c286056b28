/**
 * Policy packs: ready-made sets of policies, budgets and notification settings for a kind of business
 * or agent. Recommended ones first (with why), then every pack, each marked when applied.
 */

import type { PackRecommendation, PolicyPackView } from '@agentops-hub/contracts';
import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, type Page } from '../../api/client';
import { AnchorLink, ButtonLink } from '../../components/links';
import { Empty, PageHeader, QueryStatus } from '../../components/states';

export function PackBadges({ pack }: { pack: Pick<PolicyPackView, 'starter' | 'baseline' | 'applied'> }) {
  return (
    <Group gap={4}>
      {pack.applied && (
        <Badge color="teal" variant="light">
          applied v{pack.applied.version}
        </Badge>
      )}
      {pack.applied?.upgrade_available && <Badge color="orange">update available</Badge>}
      {pack.starter && (
        <Badge color="yellow" variant="outline">
          starter
        </Badge>
      )}
      {pack.baseline && (
        <Badge color="blue" variant="outline">
          baseline
        </Badge>
      )}
    </Group>
  );
}

export function PolicyPacksPage() {
  const packs = useQuery({ queryKey: ['policy-packs'], queryFn: () => api<Page<PolicyPackView>>('/v1/policy-packs') });
  const recs = useQuery({
    queryKey: ['policy-packs', 'recommendations'],
    queryFn: () => api<{ industry: string | null; data: PackRecommendation[] }>('/v1/policy-packs/recommendations'),
  });
  const suggested = (recs.data?.data ?? []).filter((r) => !r.applied || r.upgrade_available).slice(0, 3);

  return (
    <Stack>
      <PageHeader
        title="Policy packs"
        description="Ready-made guardrails for your kind of business: apply one, tune its numbers, change it later."
      />
      {recs.data && suggested.length > 0 && (
        <Stack gap="xs">
          <Title order={2} size="h4">
            Recommended for you
          </Title>
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            {suggested.map((r) => (
              <Card withBorder key={r.id} data-testid="pack-recommendation">
                <Stack gap="xs" h="100%" justify="space-between">
                  <Stack gap={4}>
                    <Text fw={600}>{r.name}</Text>
                    {r.reasons.map((why) => (
                      <Text key={why} size="sm" c="dimmed">
                        {why}
                      </Text>
                    ))}
                  </Stack>
                  <Group justify="space-between">
                    {r.upgrade_available ? <Badge color="orange">update available</Badge> : <span />}
                    <ButtonLink to="/governance/packs/$packId" params={{ packId: r.id }} size="xs" variant="light">
                      Review
                    </ButtonLink>
                  </Group>
                </Stack>
              </Card>
            ))}
          </SimpleGrid>
          {!recs.data.industry && (
            <Text size="xs" c="dimmed">
              Set your industry in{' '}
              <AnchorLink to="/settings/org" size="xs">
                Organization settings
              </AnchorLink>{' '}
              for better recommendations.
            </Text>
          )}
        </Stack>
      )}
      <Title order={2} size="h4">
        All packs
      </Title>
      <QueryStatus query={packs} />
      {packs.data && packs.data.data.length === 0 && <Empty title="No pack on this hub" />}
      {packs.data && packs.data.data.length > 0 && (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          {packs.data.data.map((p) => (
            <Card withBorder key={p.id} component="article" aria-label={p.name}>
              <Stack gap="xs" h="100%" justify="space-between">
                <Stack gap="xs">
                  <Group justify="space-between" align="flex-start" wrap="nowrap">
                    <AnchorLink to="/governance/packs/$packId" params={{ packId: p.id }} fw={600}>
                      {p.name}
                    </AnchorLink>
                    <PackBadges pack={p} />
                  </Group>
                  <Text size="sm" c="dimmed" lineClamp={3}>
                    {p.description}
                  </Text>
                </Stack>
                <Text size="xs" c="dimmed">
                  {p.policies.length} polic{p.policies.length === 1 ? 'y' : 'ies'}
                  {p.budgets.length ? `, ${p.budgets.length} budget(s)` : ''}
                  {p.params.length ? ` · ${p.params.length} setting(s) to tune` : ''}
                  {p.industries.length ? ` · for ${p.industries.slice(0, 4).join(', ')}` : ''}
                </Text>
              </Stack>
            </Card>
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}
