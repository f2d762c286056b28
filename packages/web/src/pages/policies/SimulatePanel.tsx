/**
 * Simulate a rule over the actions recorded in the last N days, before switching it on. On a plan without
 * simulation the first try answers 402: the panel then shows the hub's sentence (LockedFeature), not an
 * error, and the button stays off.
 */

import type { PolicySimulation } from '@agentops-hub/contracts';
import { Button, Card, Group, Select, SimpleGrid, Table, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, planLockOf } from '../../api/client';
import { LockedFeature } from '../../components/LockedFeature';
import { ErrorState } from '../../components/states';
import { dateTime, num } from '../../lib/format';

export function SimulatePanel({ policy }: { policy: unknown }) {
  const [days, setDays] = useState('7');
  const sim = useMutation({
    mutationFn: () =>
      api<PolicySimulation>('/v1/policies/simulate', {
        method: 'POST',
        body: {
          policy,
          from: new Date(Date.now() - Number(days) * 86_400_000).toISOString(),
          to: new Date().toISOString(),
        },
      }),
  });
  const r = sim.data;
  const locked = planLockOf(sim.error);
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Simulate before activating
        </Title>
        <Group gap="xs">
          <Select
            aria-label="Simulation period"
            data={[
              { value: '1', label: 'Last day' },
              { value: '7', label: 'Last 7 days' },
              { value: '30', label: 'Last 30 days' },
            ]}
            value={days}
            onChange={(v) => v && setDays(v)}
            w={150}
            allowDeselect={false}
          />
          <Button variant="light" onClick={() => sim.mutate()} loading={sim.isPending} disabled={Boolean(locked)}>
            Simulate
          </Button>
        </Group>
      </Group>
      {locked && <LockedFeature feature="Policy simulation" sentence={locked} bordered={false} />}
      {sim.error && !locked && <ErrorState error={sim.error} />}
      {!r && !sim.error && (
        <Text size="sm" c="dimmed">
          See what this rule would have decided on the actions your agents asked about.
        </Text>
      )}
      {r && (
        <>
          <SimpleGrid cols={{ base: 2, md: 5 }} mb="sm" data-testid="simulation">
            <Fig label="Actions checked" value={num(r.actions)} />
            <Fig label="Matched" value={num(r.matched)} />
            <Fig label="Would block" value={num(r.would_decide.BLOCK ?? 0)} />
            <Fig label="Would need approval" value={num(r.would_decide.REQUIRE_APPROVAL ?? 0)} />
            <Fig label="Changed from recorded" value={num(r.changed_from_recorded)} />
          </SimpleGrid>
          {r.samples.length > 0 && (
            <Table.ScrollContainer minWidth={600}>
              <Table aria-label="Simulated decisions">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Agent</Table.Th>
                    <Table.Th>Action</Table.Th>
                    <Table.Th>Was</Table.Th>
                    <Table.Th>Would be</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {r.samples.slice(0, 20).map((s) => (
                    <Table.Tr key={s.id}>
                      <Table.Td>{dateTime(s.at)}</Table.Td>
                      <Table.Td>{s.agent}</Table.Td>
                      <Table.Td>
                        <code>{JSON.stringify(s.action).slice(0, 80)}</code>
                      </Table.Td>
                      <Table.Td>{s.was}</Table.Td>
                      <Table.Td>{s.would_decide}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </>
      )}
    </Card>
  );
}

function Fig({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} fz="xl">
        {value}
      </Text>
    </div>
  );
}
