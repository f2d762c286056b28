/**
 * Runs explorer: filter by agent, status, environment, tag and time range; search text; cursor paging.
 * The status filter offers every status a run shows (blocked and paused too); the hub filters by the
 * same outcome the badges show.
 */

import type { Agent, Run } from '@agentops-hub/contracts';
import { Button, Card, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';
import { api, type Page } from '../api/client';
import { DataTable } from '../components/DataTable';
import { FilterBar } from '../components/FilterBar';
import { AnchorLink } from '../components/links';
import { Money } from '../components/Money';
import { RunStatusBadge } from '../components/StatusBadge';
import { Empty, ErrorState, Loading, PageHeader } from '../components/states';
import { dateTime, duration, num, RANGES, rangeFrom } from '../lib/format';
import { usePermissions } from '../lib/permissions';
import { RUN_STATUSES, type RunDisplayStatus, runStatus, STATUS_LABEL } from '../lib/status';
import type { RunsSearch } from '../router';

/** A status from the address bar the hub knows; anything else is no filter rather than an error page. */
const statusFilter = (v: string | undefined): RunDisplayStatus | undefined => RUN_STATUSES.find((s) => s === v);

export function RunsPage() {
  const search = useSearch({ from: '/app/runs' });
  const status = statusFilter(search.status);
  const navigate = useNavigate({ from: '/runs' });
  const [text, setText] = useState(search.q ?? '');
  // The hub refuses a text search to whoever cannot read every run's content (the matches would reveal
  // it by elimination), so only they get the box; a team lead's view_content:team is not enough.
  const maySearch = usePermissions().me?.permissions?.includes('view_content') ?? false;
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
          status,
          environment: search.environment,
          tag: search.tag,
          q: maySearch ? search.q : undefined,
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
      <FilterBar
        active={
          [maySearch && search.q, search.agent, status, search.environment, search.tag, search.range].filter(Boolean)
            .length
        }
      >
        {maySearch && (
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
        )}
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
          data={RUN_STATUSES.map((s) => ({ value: s, label: STATUS_LABEL[s] }))}
          value={status ?? null}
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
      </FilterBar>
      {runs.isPending && <Loading label="Loading runs…" />}
      {runs.error && <ErrorState error={runs.error} retry={() => runs.refetch()} />}
      {runs.data && runs.data.data.length === 0 && (
        <Empty title="No runs match">Change the filters, or connect an agent so its runs show up here.</Empty>
      )}
      {runs.data && runs.data.data.length > 0 && (
        <Card withBorder p={0}>
          <DataTable
            label="Runs"
            rows={runs.data.data}
            rowKey={(r) => r.id}
            onOpen={(r) => navigate({ to: '/runs/$runId', params: { runId: r.id } })}
            rowLabel={(r) => `Run ${r.id} of ${r.agent_name}, ${runStatus(r)}`}
            minWidth={800}
            columns={[
              {
                header: 'Run',
                card: 'title',
                cell: (r) => (
                  <>
                    <AnchorLink to="/runs/$runId" params={{ runId: r.id }} ff="monospace" size="sm">
                      {r.id}
                    </AnchorLink>
                    {r.external_ref && (
                      <Text size="xs" c="dimmed">
                        ref {r.external_ref}
                      </Text>
                    )}
                  </>
                ),
              },
              { header: 'Agent', card: true, cell: (r) => r.agent_name },
              { header: 'Status', card: 'badge', cell: (r) => <RunStatusBadge run={r} /> },
              { header: 'Started', card: true, cell: (r) => dateTime(r.started_at) },
              { header: 'Duration', cell: (r) => duration(r.latency_ms) },
              { header: 'Tokens', cell: (r) => num(r.input_tokens + r.output_tokens) },
              { header: 'Cost', card: true, cell: (r) => <Money value={r.cost_usd} /> },
            ]}
          />
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
