/**
 * Create or edit an agent: name, description, type, team, tags, environment and its provider mapping
 * (kind, external id and secret connection fields, which the hub encrypts and never shows again).
 */

import type { Agent, Team } from '@agentops-hub/contracts';
import {
  ActionIcon,
  Button,
  Divider,
  Group,
  PasswordInput,
  Select,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../../api/client';
import { FormError } from '../../components/states';
import { usePermissions } from '../../lib/permissions';

const PROVIDERS = [
  { value: '', label: 'None' },
  { value: 'openai_assistants', label: 'OpenAI Assistants' },
  { value: 'mcp', label: 'MCP server' },
  { value: 'langchain', label: 'LangChain / LangGraph' },
  { value: 'custom', label: 'Custom orchestrator' },
];

export function AgentForm({ agent, onDone }: { agent?: Agent; onDone: (a: Agent) => void }) {
  const { can } = usePermissions();
  const teams = useQuery({
    queryKey: ['teams'],
    queryFn: () => api<Page<Team>>('/v1/teams'),
    enabled: can('teams:read'),
  });
  const [name, setName] = useState(agent?.name ?? '');
  const [description, setDescription] = useState(agent?.description ?? '');
  const [type, setType] = useState(agent?.type ?? '');
  const [teamId, setTeamId] = useState<string | null>(agent?.team_id ?? null);
  const [tags, setTags] = useState<string[]>(agent?.tags ?? []);
  const [environment, setEnvironment] = useState<string>(agent?.environment ?? 'prod');
  const [kind, setKind] = useState(agent?.provider?.kind ?? '');
  const [externalId, setExternalId] = useState(agent?.provider?.external_id ?? '');
  // New secret values only: stored ones are never sent back, so an empty list keeps them.
  const [secrets, setSecrets] = useState<{ key: string; value: string }[]>([]);

  const save = useMutation({
    mutationFn: () => {
      const connection = Object.fromEntries(secrets.filter((s) => s.key.trim()).map((s) => [s.key.trim(), s.value]));
      const provider = kind
        ? {
            kind,
            ...(externalId.trim() ? { external_id: externalId.trim() } : {}),
            ...(Object.keys(connection).length ? { connection } : {}),
          }
        : null;
      const body = {
        name: name.trim(),
        description,
        ...(type.trim() ? { type: type.trim() } : {}),
        team_id: teamId,
        tags,
        environment,
      };
      if (!agent)
        return api<Agent>('/v1/agents', { method: 'POST', body: { ...body, provider: provider ?? undefined } });
      // Send the provider only when it changed, so an edit of the name does not rewrite the mapping.
      const before = agent.provider;
      const changed =
        (before?.kind ?? '') !== kind ||
        (before?.external_id ?? '') !== externalId.trim() ||
        Object.keys(connection).length > 0;
      return api<Agent>(`/v1/agents/${agent.id}`, {
        method: 'PATCH',
        body: { ...body, ...(changed ? { provider } : {}) },
      });
    },
    onSuccess: onDone,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput
          label="Name"
          required
          placeholder="e.g. support-bot"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          data-autofocus
        />
        <Textarea
          label="Description"
          autosize
          minRows={2}
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
        />
        <Group grow align="flex-start">
          <TextInput
            label="Type"
            description="A category, e.g. support or outreach"
            value={type}
            onChange={(e) => setType(e.currentTarget.value)}
          />
          <Select
            label="Environment"
            description="Where it runs"
            data={['prod', 'staging', 'test']}
            value={environment}
            onChange={(v) => setEnvironment(v ?? 'prod')}
            allowDeselect={false}
          />
        </Group>
        <Select
          label="Team"
          placeholder="No team"
          clearable
          data={(teams.data?.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
          value={teamId}
          onChange={setTeamId}
        />
        <TagsInput label="Tags" placeholder="Type a tag and press Enter" value={tags} onChange={setTags} />
        <Divider label="Provider mapping" labelPosition="left" />
        <Group grow align="flex-start">
          <Select
            label="Provider"
            data={
              kind && !PROVIDERS.some((p) => p.value === kind)
                ? [...PROVIDERS, { value: kind, label: kind }]
                : PROVIDERS
            }
            value={kind}
            onChange={(v) => setKind(v ?? '')}
            allowDeselect={false}
          />
          <TextInput
            label="External id"
            description="The agent's id at the provider"
            disabled={!kind}
            value={externalId}
            onChange={(e) => setExternalId(e.currentTarget.value)}
          />
        </Group>
        {kind && (
          <Stack gap="xs">
            <Text size="sm" fw={500}>
              Connection secrets
            </Text>
            <Text size="xs" c="dimmed">
              Encrypted at rest and never shown again.
              {agent?.provider?.connection_fields.length
                ? ` Stored: ${agent.provider.connection_fields.join(', ')}. Adding fields replaces them.`
                : ''}
            </Text>
            {secrets.map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their position
              <Group key={i} gap="xs" wrap="nowrap" align="flex-end">
                <TextInput
                  label="Field"
                  placeholder="api_key"
                  value={s.key}
                  onChange={(e) => {
                    const v = e.currentTarget.value;
                    setSecrets((xs) => xs.map((x, j) => (j === i ? { ...x, key: v } : x)));
                  }}
                />
                <PasswordInput
                  label="Value"
                  style={{ flex: 1 }}
                  value={s.value}
                  onChange={(e) => {
                    const v = e.currentTarget.value;
                    setSecrets((xs) => xs.map((x, j) => (j === i ? { ...x, value: v } : x)));
                  }}
                />
                <ActionIcon
                  variant="subtle"
                  color="red"
                  size="lg"
                  aria-label={`Remove field ${s.key || i + 1}`}
                  onClick={() => setSecrets((xs) => xs.filter((_, j) => j !== i))}
                >
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
            ))}
            <Button
              variant="subtle"
              size="xs"
              leftSection={<IconPlus size={14} />}
              onClick={() => setSecrets((xs) => [...xs, { key: '', value: '' }])}
              style={{ alignSelf: 'flex-start' }}
            >
              Add a secret field
            </Button>
          </Stack>
        )}
        <FormError error={save.error} />
        <Button type="submit" loading={save.isPending} disabled={!name.trim()}>
          {agent ? 'Save changes' : 'Create agent'}
        </Button>
      </Stack>
    </form>
  );
}
