/**
 * Hosted MCP endpoints: remote MCP servers the hub serves behind its policy gateway. The upstream's headers
 * (its credentials) are sent once, when the endpoint is created, and only their names are shown after.
 */

import type { McpEndpoint } from '@agentops-hub/contracts';
import { Badge, Button, Card, Checkbox, Group, Stack, Table, Text, Textarea, TextInput } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Page } from '../../api/client';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CopyField } from '../../components/CopyField';
import { CreateDialog } from '../../components/CreateDialog';
import { Empty, FormError, PageHeader, QueryStatus } from '../../components/states';
import { dateTime } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';

/** The address MCP clients connect to: this console's origin and the endpoint's path. */
const mcpUrl = (e: McpEndpoint) => `${window.location.origin}${e.mcp_path}`;

export function McpEndpointsPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [deleting, setDeleting] = useState<McpEndpoint | null>(null);
  const endpoints = useQuery({
    queryKey: ['mcp-endpoints'],
    queryFn: () => api<Page<McpEndpoint>>('/v1/mcp-endpoints'),
  });
  const manage = can('integrations:manage');
  const remove = useMutation({
    mutationFn: (id: string) => api(`/v1/mcp-endpoints/${id}`, { method: 'DELETE' }),
    onSuccess: () => {
      setDeleting(null);
      qc.invalidateQueries({ queryKey: ['mcp-endpoints'] });
    },
  });
  const newButton = manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New MCP endpoint
    </Button>
  );

  return (
    <Stack>
      <PageHeader
        title="MCP endpoints"
        description="Put your policies in front of a remote MCP server, with nothing to run: agents connect here with an API key, and every tool call is decided first."
        actions={newButton}
      />
      <QueryStatus query={endpoints} />
      {endpoints.data && endpoints.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No MCP endpoint yet" action={newButton}>
            An endpoint relays everything a remote MCP server (Streamable HTTP) offers, and asks your policies before
            each tool call: blocked tools answer with an error naming the policy, approvals wait for a person.
          </Empty>
        </Card>
      )}
      {endpoints.data && endpoints.data.data.length > 0 && (
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="sm" aria-label="MCP endpoints">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Connect MCP clients to</Table.Th>
                  <Table.Th>Upstream</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {endpoints.data.data.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {e.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        as agent {e.agent}
                      </Text>
                      {e.govern.length > 0 && (
                        <Group gap={4} mt={4}>
                          {e.govern.map((g) => (
                            <Badge key={g} size="xs" variant="outline" tt="none">
                              governs {g}
                            </Badge>
                          ))}
                        </Group>
                      )}
                    </Table.Td>
                    <Table.Td maw={340}>
                      <CopyField value={mcpUrl(e)} label="Copy MCP URL" />
                    </Table.Td>
                    <Table.Td maw={280}>
                      <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                        {e.upstream_url}
                      </Text>
                      {e.upstream_header_names.length > 0 && (
                        <Text size="xs" c="dimmed">
                          sends {e.upstream_header_names.join(', ')} (values hidden)
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{dateTime(e.created_at)}</Table.Td>
                    <Table.Td>
                      {manage && (
                        <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(e)}>
                          Delete
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New MCP endpoint" size="lg">
        <McpEndpointForm
          onCreated={() => {
            setOpen(false);
            qc.invalidateQueries({ queryKey: ['mcp-endpoints'] });
          }}
        />
      </CreateDialog>
      <ConfirmDialog
        opened={Boolean(deleting)}
        onClose={() => setDeleting(null)}
        title="Delete this MCP endpoint?"
        confirmLabel="Delete endpoint"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate(deleting.id)}
      >
        Agents connected to <b>{deleting?.name}</b> lose their sessions now, and new ones are refused.
      </ConfirmDialog>
    </Stack>
  );
}

/** `Name: value` lines into a header map; a line without a colon is reported by the hub as invalid. */
function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf(':');
    out[(i < 0 ? line : line.slice(0, i)).trim()] = i < 0 ? '' : line.slice(i + 1).trim();
  }
  return out;
}

function McpEndpointForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [agent, setAgent] = useState('');
  const [upstreamUrl, setUpstreamUrl] = useState('');
  const [headers, setHeaders] = useState('');
  const [govern, setGovern] = useState<string[]>([]);
  const create = useMutation({
    mutationFn: () =>
      api<McpEndpoint>('/v1/mcp-endpoints', {
        method: 'POST',
        body: {
          name: name.trim(),
          agent: agent.trim(),
          upstream_url: upstreamUrl.trim(),
          upstream_headers: headersOf(headers),
          govern,
        },
      }),
    onSuccess: onCreated,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <TextInput
          label="Name"
          required
          placeholder="Shop tools"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          data-autofocus
        />
        <TextInput
          label="Agent"
          description="The agent its sessions run as (its name; made on first use)."
          required
          placeholder="McpBot"
          value={agent}
          onChange={(e) => setAgent(e.currentTarget.value)}
        />
        <TextInput
          label="Upstream MCP server URL"
          description="A Streamable HTTP endpoint. Internal addresses are refused unless your operator allows them."
          required
          type="url"
          placeholder="https://tools.example.com/mcp"
          value={upstreamUrl}
          onChange={(e) => setUpstreamUrl(e.currentTarget.value)}
        />
        <Textarea
          label="Upstream headers"
          description="One `Name: value` per line, e.g. its API token. Sealed at rest, sent only to the upstream, never shown again."
          autosize
          minRows={2}
          placeholder="Authorization: Bearer …"
          value={headers}
          onChange={(e) => setHeaders(e.currentTarget.value)}
        />
        <Checkbox.Group
          label="Also ask the policies before"
          description="Tool calls always are."
          value={govern}
          onChange={setGovern}
        >
          <Group mt="xs">
            <Checkbox value="resources" label="resource reads" />
            <Checkbox value="prompts" label="prompt gets" />
          </Group>
        </Checkbox.Group>
        <FormError error={create.error} />
        <Button
          type="submit"
          loading={create.isPending}
          disabled={!name.trim() || !agent.trim() || !upstreamUrl.trim()}
        >
          Create endpoint
        </Button>
      </Stack>
    </form>
  );
}
