/**
 * API keys: create with scopes (the key is shown once) and, for an agent's key, the agents it may act
 * as; list (the console's DataTable, cards on a phone), filter by name and scope, show revoked keys on
 * request, revoke.
 */

import type { Agent, ApiKey } from '@agentops-hub/contracts';
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  MultiSelect,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
} from '@mantine/core';
import { IconPlus, IconSearch } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../../api/client';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CopyField } from '../../components/CopyField';
import { CreateDialog } from '../../components/CreateDialog';
import { DataTable } from '../../components/DataTable';
import { FilterBar } from '../../components/FilterBar';
import { StatusBadge } from '../../components/StatusBadge';
import { Empty, FormError, PageHeader, QueryStatus } from '../../components/states';
import { ago, dateTime } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';

/** A revoked key is kept (the audit trail names it) and reads red; an active one green. */
const KEY_COLORS: Record<string, string> = { active: 'teal', revoked: 'red' };

const SCOPES = [
  { value: 'ingest', label: 'ingest', hint: 'report runs, ask policies, read controls (for agents)' },
  { value: 'read', label: 'read', hint: 'read everything' },
  { value: 'admin', label: 'admin', hint: 'manage the organization except owner-only actions' },
  { value: 'full', label: 'full', hint: 'everything an owner can do' },
];

export interface KeyFilter {
  /** Part of the key's name or prefix, any case. */
  q?: string;
  scope?: string | null;
  /** Show revoked keys too (they stay listed by the hub, for the audit trail). */
  revoked?: boolean;
}

/**
 * The keys the filters keep, active ones first.
 * @example filterKeys(keys, { q: 'support', scope: 'ingest' })
 */
export function filterKeys<K extends Pick<ApiKey, 'name' | 'prefix' | 'scopes' | 'revoked_at'>>(
  keys: readonly K[],
  f: KeyFilter,
): K[] {
  const q = f.q?.trim().toLowerCase();
  return keys
    .filter((k) => f.revoked || !k.revoked_at)
    .filter((k) => !f.scope || k.scopes.includes(f.scope as K['scopes'][number]))
    .filter((k) => !q || k.name.toLowerCase().includes(q) || k.prefix.toLowerCase().includes(q))
    .sort((a, b) => Number(Boolean(a.revoked_at)) - Number(Boolean(b.revoked_at)));
}

export function ApiKeysPage() {
  const { can, role } = usePermissions();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api<Page<ApiKey>>('/v1/api-keys') });
  const agents = useQuery({
    queryKey: ['agents', 'all'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
  });
  const agentName = (id: string) => agents.data?.data.find((a) => a.id === id)?.name ?? id;
  const revoke = useMutation({
    mutationFn: (id: string) => api(`/v1/api-keys/${id}`, { method: 'DELETE' }),
    onSuccess: () => {
      setRevoking(null);
      qc.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const manage = can('api_keys:manage');
  const allowed = SCOPES.filter((s) => role === 'owner' || s.value !== 'full');
  const newButton = manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New API key
    </Button>
  );
  const [filter, setFilter] = useState<KeyFilter>({});
  const all = keys.data?.data ?? [];
  const active = all.filter((k) => !k.revoked_at);
  const shown = filterKeys(all, filter);

  return (
    <Stack>
      <PageHeader
        title="API keys"
        description="Keys for your agents and scripts. A key is shown once, when it is created."
        actions={newButton}
      />
      <QueryStatus query={keys} />
      {keys.data && active.length === 0 && (
        <Card withBorder>
          <Empty title="No API key yet" action={newButton}>
            Agents report runs and ask policies with an ingest key.
          </Empty>
        </Card>
      )}
      {all.length > 0 && (
        <FilterBar active={[filter.q, filter.scope, filter.revoked].filter(Boolean).length}>
          <TextInput
            label="Search"
            placeholder="Name or prefix"
            leftSection={<IconSearch size={16} />}
            value={filter.q ?? ''}
            onChange={(e) => setFilter((f) => ({ ...f, q: e.currentTarget.value }))}
            w={220}
          />
          <Select
            label="Scope"
            placeholder="Any scope"
            clearable
            data={SCOPES.map((s) => s.value)}
            value={filter.scope ?? null}
            onChange={(scope) => setFilter((f) => ({ ...f, scope }))}
            w={150}
          />
          <Switch
            label="Show revoked keys"
            checked={Boolean(filter.revoked)}
            onChange={(e) => setFilter((f) => ({ ...f, revoked: e.currentTarget.checked }))}
            mb={8}
          />
        </FilterBar>
      )}
      {(active.length > 0 || filter.revoked) && shown.length === 0 && (
        <Card withBorder>
          <Empty title="No key matches">Change the search or the scope.</Empty>
        </Card>
      )}
      {shown.length > 0 && (
        <Card withBorder p={0}>
          <DataTable
            label="API keys"
            rows={shown}
            rowKey={(k) => k.id}
            minWidth={760}
            columns={[
              { header: 'Name', card: 'title', cell: (k) => k.name },
              {
                header: 'Status',
                card: 'badge',
                cell: (k) => <StatusBadge status={k.revoked_at ? 'revoked' : 'active'} colors={KEY_COLORS} />,
              },
              {
                header: 'Key',
                card: true,
                cell: (k) => (
                  <Text ff="monospace" size="sm" span>
                    {k.prefix}…
                  </Text>
                ),
              },
              {
                header: 'Scopes',
                card: true,
                cell: (k) => (
                  <Group gap={4} component="span" display="inline-flex">
                    {k.scopes.map((s) => (
                      <Badge key={s} variant="light" size="sm">
                        {s}
                      </Badge>
                    ))}
                  </Group>
                ),
              },
              {
                header: 'Agents',
                cell: (k) => (
                  <Text size="sm" c={k.agent_ids ? undefined : 'dimmed'} span>
                    {k.agent_ids ? k.agent_ids.map(agentName).join(', ') : 'any'}
                  </Text>
                ),
              },
              { header: 'Created', cell: (k) => dateTime(k.created_at) },
              { header: 'Last used', card: true, cell: (k) => (k.last_used_at ? ago(k.last_used_at) : 'never') },
              {
                header: 'Revoke',
                card: 'badge',
                hidden: !manage,
                cell: (k) =>
                  !k.revoked_at && (
                    <Button
                      size="xs"
                      color="red"
                      variant="subtle"
                      onClick={() => setRevoking(k)}
                      aria-label={`Revoke ${k.name}`}
                    >
                      Revoke
                    </Button>
                  ),
              },
            ]}
          />
        </Card>
      )}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New API key" size="lg">
        <CreateKey
          scopes={allowed}
          agents={agents.data?.data ?? []}
          onCreated={() => qc.invalidateQueries({ queryKey: ['api-keys'] })}
          onClose={() => setOpen(false)}
        />
      </CreateDialog>
      <ConfirmDialog
        opened={Boolean(revoking)}
        onClose={() => setRevoking(null)}
        title="Revoke this key?"
        confirmLabel="Revoke key"
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
      >
        Anything using <b>{revoking?.name}</b> ({revoking?.prefix}…) stops working at once. This cannot be undone.
      </ConfirmDialog>
    </Stack>
  );
}

function CreateKey({
  scopes,
  agents,
  onCreated,
  onClose,
}: {
  scopes: typeof SCOPES;
  agents: Agent[];
  onCreated: () => void;
  onClose: () => void;
}) {
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>(['ingest']);
  const [agentIds, setAgentIds] = useState<string[]>([]);
  // The hub binds only agents' keys: ingest, optionally read, never admin or full.
  const bindable = chosen.includes('ingest') && chosen.every((s) => s === 'ingest' || s === 'read');
  const create = useMutation({
    mutationFn: () =>
      api<ApiKey & { key: string }>('/v1/api-keys', {
        method: 'POST',
        body: { name, scopes: chosen, ...(bindable && agentIds.length ? { agent_ids: agentIds } : {}) },
      }),
    onSuccess: onCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  if (create.data)
    return (
      <Stack>
        <Alert color="yellow" title="Copy the key now">
          This is the only time the hub shows it: it keeps only a hash.
        </Alert>
        <CopyField value={create.data.key} label="Copy key" testId="new-api-key" />
        <Button onClick={onClose}>Done</Button>
      </Stack>
    );
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput
          label="Name"
          required
          placeholder="e.g. support-bot production"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <Checkbox.Group label="Scopes" value={chosen} onChange={setChosen} withAsterisk>
          <Stack gap="xs" mt="xs">
            {scopes.map((s) => (
              <Checkbox key={s.value} value={s.value} label={s.label} description={s.hint} />
            ))}
          </Stack>
        </Checkbox.Group>
        {bindable && (
          <MultiSelect
            label="Agents"
            description="Optional: the key acts only as these agents and cannot register new ones. Empty: any agent."
            placeholder={agentIds.length ? undefined : 'Any agent'}
            data={agents.map((a) => ({ value: a.id, label: a.name }))}
            value={agentIds}
            onChange={setAgentIds}
            searchable
          />
        )}
        <FormError error={create.error} />
        <Button type="submit" loading={create.isPending} disabled={!name.trim() || chosen.length === 0}>
          Create key
        </Button>
      </Stack>
    </form>
  );
}
