/** Runs explorer: filter by agent, status, environment, tag and time range; search text; cursor paging. */
import { Button, Card, Group, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';
import { api, type Page } from '../api/client';
import type { Agent, Run } from '../api/types';
import { AnchorLink } from '../components/links';
import { Money } from '../components/Money';
import { RunStatusBadge } from '../components/StatusBadge';
import { Empty, ErrorState, Loading, PageHeader } from '../components/states';
import { dateTime, duration, num, RANGES, rangeFrom } from '../lib/format';
import type { RunsSearch } from '../router';

export function RunsPage() {
  const search = useSearch({ from: '/app/runs' });
  const navigate = useNavigate({ from: '/runs' });
  const [text, setText] = useState(search.q ?? '');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];

  const set = (patch: Partial<RunsSearch>) => {
    setCursors([undefined]);
    navigate({ search: (s: RunsSearch) => ({ ...s, ...patch }) });
  };
  const searchText = useDebouncedCallback((value: string) => set({ q: value || undefined }), 300);

  const agents = useQuery({
    queryKey: ['agents', 'all'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
  });
  const runs = useQuery({
    queryKey: ['runs', search, cursor],
    queryFn: () =>
      api<Page<Run>>('/v1/runs', {
        query: {
          agent: search.agent,
          status: search.status,
          environment: search.environment,
          tag: search.tag,
          q: search.q,
          from: search.range ? rangeFrom(search.range) : undefined,
          limit: 50,
          cursor,
        },
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });

  return (
    <Stack>
      <PageHeader title="Runs" description="Every run your agents reported. Open one to replay it step by step." />
      <Card withBorder>
        <Group align="flex-end" wrap="wrap">
          <TextInput
            label="Search"
            placeholder="Run id, external reference or text"
            leftSection={<IconSearch size={16} />}
            value={text}
            onChange={(e) => {
              setText(e.currentTarget.value);
              searchText(e.currentTarget.value);
            }}
            w={280}
          />
          <Select
            label="Agent"
            placeholder="All agents"
            clearable
            searchable
            data={(agents.data?.data ?? []).map((a) => ({ value: a.id, label: a.name }))}
            value={search.agent ?? null}
            onChange={(v) => set({ agent: v ?? undefined })}
            w={200}
          />
          <Select
            label="Status"
            placeholder="Any status"
            clearable
            data={['running', 'completed', 'failed']}
            value={search.status ?? null}
            onChange={(v) => set({ status: v ?? undefined })}
            w={150}
          />
          <Select
            label="Environment"
            placeholder="Any"
            clearable
            data={['prod', 'staging', 'test']}
            value={search.environment ?? null}
            onChange={(v) => set({ environment: v ?? undefined })}
            w={130}
          />
          <TextInput
            label="Tag"
            placeholder="e.g. billing"
            defaultValue={search.tag}
            onBlur={(e) => set({ tag: e.currentTarget.value || undefined })}
            w={130}
          />
          <Select
            label="Time range"
            placeholder="All time"
            clearable
            data={RANGES.map((r) => ({ value: r.value, label: r.label }))}
            value={search.range ?? null}
            onChange={(v) => set({ range: v ?? undefined })}
            w={170}
          />
        </Group>
      </Card>
      {runs.isPending && <Loading label="Loading runs…" />}
      {runs.error && <ErrorState error={runs.error} retry={() => runs.refetch()} />}
      {runs.data && runs.data.data.length === 0 && (
        <Empty title="No runs match">Change the filters, or connect an agent so its runs show up here.</Empty>
      )}
      {runs.data && runs.data.data.length > 0 && (
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={800}>
            <Table highlightOnHover verticalSpacing="sm" aria-label="Runs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Run</Table.Th>
                  <Table.Th>Agent</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Duration</Table.Th>
                  <Table.Th>Tokens</Table.Th>
                  <Table.Th>Cost</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {runs.data.data.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>
                      <AnchorLink to="/runs/$runId" params={{ runId: r.id }} ff="monospace" size="sm">
                        {r.id}
                      </AnchorLink>
                      {r.external_ref && (
                        <Text size="xs" c="dimmed">
                          ref {r.external_ref}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{r.agent_name}</Table.Td>
                    <Table.Td>
                      <RunStatusBadge run={r} />
                    </Table.Td>
                    <Table.Td>{dateTime(r.started_at)}</Table.Td>
                    <Table.Td>{duration(r.latency_ms)}</Table.Td>
                    <Table.Td>{num(r.input_tokens + r.output_tokens)}</Table.Td>
                    <Table.Td>
                      <Money value={r.cost_usd} />
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
          Previous page
        </Button>
        <Text size="sm" c="dimmed">
          Page {cursors.length}
        </Text>
        <Button
          variant="default"
          disabled={!runs.data?.next_cursor}
          onClick={() => runs.data?.next_cursor && setCursors((c) => [...c, runs.data.next_cursor ?? undefined])}
        >
          Next page
        </Button>
      </Group>
    </Stack>
  );
}
