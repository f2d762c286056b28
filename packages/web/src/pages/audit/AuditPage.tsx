/**
 * Audit log: who changed what, policy decisions and approvals, filtered by time, actor and entity type,
 * exported as JSONL or CSV, with the hash chain verified by the hub (`GET /v1/audit/verify`). The list is
 * the console's DataTable (cards on a phone) under its FilterBar; a row opens its changes in place.
 */
import '@mantine/dates/styles.css';
import type { ApiKey, AuditEntry, AuditVerify, Member } from '@agentops-hub/contracts';
import { Alert, Badge, Button, Card, Code, Group, Select, Stack, Text, Tooltip, UnstyledButton } from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import { IconChevronDown, IconChevronRight, IconDownload, IconShieldCheck, IconShieldX } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, buildUrl, type Page } from '../../api/client';
import { DataTable } from '../../components/DataTable';
import { FilterBar } from '../../components/FilterBar';
import { Empty, ErrorState, Loading, PageHeader } from '../../components/states';
import { dateTime, dayIso, json, num } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';

const ENTITY_TYPES = [
  'org',
  'member',
  'invitation',
  'team',
  'api_key',
  'agent',
  'policy',
  'decision',
  'approval',
  'kill_switch',
  'category_pause',
  'budget',
  'webhook',
  'report',
  'policy_pack',
  'price_override',
];

/** Who did it, as people read it: the actor's name, else its id, else its kind ("system"). */
export function actorName(actor: AuditEntry['actor']): string {
  return actor.name ?? actor.id ?? actor.type;
}

/** The row's name for screen readers and the phone card: "Entry 12: policy.created by Ann". */
export function entryLabel(e: Pick<AuditEntry, 'seq' | 'action' | 'actor'>): string {
  return `Entry ${e.seq}: ${e.action} by ${actorName(e.actor)}`;
}

export function AuditPage() {
  const [dates, setDates] = useState<[string | null, string | null]>([null, null]);
  const { can } = usePermissions();
  const [actor, setActor] = useState<string | null>(null);
  const [entityType, setEntityType] = useState<string | null>(null);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [open, setOpen] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const filters = {
    from: dayIso(dates[0]),
    to: dayIso(dates[1] ?? dates[0], true),
    actor: actor ?? undefined,
    entity_type: entityType ?? undefined,
  };

  const verify = useQuery({
    queryKey: ['audit', 'verify'],
    queryFn: () => api<AuditVerify>('/v1/audit/verify'),
    refetchInterval: 60_000,
  });
  const entries = useQuery({
    queryKey: ['audit', 'list', filters, cursor],
    queryFn: () => api<Page<AuditEntry>>('/v1/audit', { query: { ...filters, limit: 50, cursor } }),
    placeholderData: keepPreviousData,
  });
  const members = useQuery({
    queryKey: ['members'],
    queryFn: () => api<Page<Member>>('/v1/members'),
    enabled: can('members:read'),
  });
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: () => api<Page<ApiKey>>('/v1/api-keys'),
    enabled: can('api_keys:read'),
  });
  // The hub matches `actor` against the actor's id or its kind.
  const actorOptions = [
    {
      group: 'Kinds',
      items: [
        { value: 'user', label: 'Any person' },
        { value: 'api_key', label: 'Any API key' },
        { value: 'system', label: 'The hub itself' },
      ],
    },
    { group: 'People', items: (members.data?.data ?? []).map((m) => ({ value: m.user_id, label: m.name || m.email })) },
    {
      group: 'API keys',
      items: (keys.data?.data ?? []).map((k) => ({ value: k.id, label: `${k.name} (${k.prefix}…)` })),
    },
  ].filter((g) => g.items.length > 0);
  const reset = () => setCursors([undefined]);
  const exportUrl = (format: 'jsonl' | 'csv') => buildUrl('/v1/audit', { ...filters, format });

  return (
    <Stack>
      <PageHeader
        title="Audit log"
        description="Every change in the hub, every policy decision and approval: append-only and hash-chained."
        actions={
          <>
            <Button
              component="a"
              href={exportUrl('jsonl')}
              download
              variant="default"
              leftSection={<IconDownload size={16} />}
            >
              Export JSONL
            </Button>
            <Button
              component="a"
              href={exportUrl('csv')}
              download
              variant="default"
              leftSection={<IconDownload size={16} />}
            >
              Export CSV
            </Button>
          </>
        }
      />
      <ChainStatus verify={verify} />
      <FilterBar active={[dates[0], actor, entityType].filter(Boolean).length}>
        <DatePickerInput
          type="range"
          label="Dates"
          placeholder="Any time"
          clearable
          allowSingleDateInRange
          value={dates}
          onChange={(v) => {
            setDates(v as [string | null, string | null]);
            reset();
          }}
          maxDate={new Date()}
          w={260}
        />
        <Select
          label="Actor"
          placeholder="Anyone"
          clearable
          searchable
          data={actorOptions}
          value={actor}
          onChange={(v) => {
            setActor(v);
            reset();
          }}
          w={240}
        />
        <Select
          label="Entity type"
          placeholder="Any"
          clearable
          searchable
          data={ENTITY_TYPES}
          value={entityType}
          onChange={(v) => {
            setEntityType(v);
            reset();
          }}
          w={180}
        />
      </FilterBar>
      {entries.isPending && <Loading label="Loading the audit log…" />}
      {entries.error && <ErrorState error={entries.error} retry={() => entries.refetch()} />}
      {entries.data && entries.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No entry matches">Change the dates or the filters.</Empty>
        </Card>
      )}
      {entries.data && entries.data.data.length > 0 && (
        <Card withBorder p={0}>
          <DataTable
            label="Audit log"
            rows={entries.data.data}
            rowKey={(e) => e.id}
            rowLabel={entryLabel}
            // Opening an entry shows its changes and its place in the hash chain, under it.
            onOpen={(e) => setOpen(open === e.id ? null : e.id)}
            minWidth={820}
            details={(e) => open === e.id && <EntryDetails entry={e} />}
            columns={[
              {
                header: 'Details',
                width: 36,
                cell: (e) => (
                  <UnstyledButton
                    onClick={() => setOpen(open === e.id ? null : e.id)}
                    aria-expanded={open === e.id}
                    aria-label={`Details of entry ${e.seq}`}
                  >
                    {open === e.id ? <IconChevronDown size={16} /> : <IconChevronRight size={16} />}
                  </UnstyledButton>
                ),
              },
              {
                header: 'Action',
                card: 'title',
                cell: (e) => (
                  <>
                    <Badge variant="light" tt="none">
                      {e.action}
                    </Badge>
                    {e.reason && (
                      <Text size="xs" c="dimmed" mt={2}>
                        {e.reason}
                      </Text>
                    )}
                  </>
                ),
              },
              {
                header: 'When',
                card: true,
                cell: (e) => (
                  <>
                    <Text size="sm" span>
                      {dateTime(e.at)}
                    </Text>{' '}
                    <Text size="xs" c="dimmed" span>
                      #{e.seq}
                    </Text>
                  </>
                ),
              },
              {
                header: 'Who',
                card: true,
                cell: (e) => (
                  <>
                    <Text size="sm" span>
                      {actorName(e.actor)}
                    </Text>{' '}
                    <Text size="xs" c="dimmed" span>
                      {e.actor.type.replace('_', ' ')}
                    </Text>
                  </>
                ),
              },
              {
                header: 'Entity',
                card: true,
                cell: (e) => (
                  <>
                    <Text size="sm" span>
                      {e.entity_type}
                    </Text>{' '}
                    <Text size="xs" c="dimmed" ff="monospace" span>
                      {e.entity_id ?? ''}
                    </Text>
                  </>
                ),
              },
              {
                header: 'Hash',
                cell: (e) => (
                  <Tooltip label={`prev ${e.prev_hash.slice(0, 16)}…`}>
                    <Text size="xs" ff="monospace">
                      {e.hash.slice(0, 12)}…
                    </Text>
                  </Tooltip>
                ),
              },
            ]}
          />
        </Card>
      )}
      <Group justify="space-between">
        <Button variant="default" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </Button>
        <Button
          variant="default"
          disabled={!entries.data?.next_cursor}
          onClick={() => {
            const next = entries.data?.next_cursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Older
        </Button>
      </Group>
    </Stack>
  );
}

/** An entry's changes as recorded, and the hashes that chain it to the one before. */
function EntryDetails({ entry: e }: { entry: AuditEntry }) {
  return (
    <Stack gap="xs" mt="xs">
      <Text size="xs" c="dimmed" ff="monospace" style={{ wordBreak: 'break-all' }}>
        hash {e.hash} · prev {e.prev_hash}
      </Text>
      <Code block style={{ maxHeight: 320, overflow: 'auto' }}>
        {json(e.changes ?? null)}
      </Code>
    </Stack>
  );
}

function ChainStatus({
  verify,
}: {
  verify: { data?: AuditVerify; error: unknown; isPending: boolean; isFetching: boolean; refetch: () => unknown };
}) {
  if (verify.isPending) return <Loading label="Verifying the hash chain…" />;
  if (verify.error) return <ErrorState error={verify.error} retry={() => verify.refetch()} />;
  const v = verify.data;
  if (!v) return null;
  return (
    <Alert
      color={v.ok ? 'teal' : 'red'}
      icon={v.ok ? <IconShieldCheck /> : <IconShieldX />}
      title={v.ok ? 'Chain verified: no entry was changed or removed' : 'The chain is broken'}
      data-testid="audit-verify"
    >
      <Group justify="space-between" wrap="wrap">
        <Text size="sm">
          {num(v.entries)} entries checked.{' '}
          {v.head_hash && (
            <>
              Head hash{' '}
              <Text span ff="monospace" size="xs">
                {v.head_hash}
              </Text>
            </>
          )}
          {!v.ok &&
            ` Details: ${json(Object.fromEntries(Object.entries(v).filter(([k]) => !['ok', 'entries', 'head_hash'].includes(k))))}`}
        </Text>
        <Button size="xs" variant="light" loading={verify.isFetching} onClick={() => verify.refetch()}>
          Verify again
        </Button>
      </Group>
    </Alert>
  );
}
