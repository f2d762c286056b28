/**
 * "Connect your first agent": an ingest key created on the spot, copy-paste snippets (curl, SDK,
 * OpenTelemetry), and a status that turns green as soon as the first run arrives (polled every 2 s).
 * Demo data: a few sample runs sent with the same key, for a look around before wiring a real agent.
 */

import type { CreatedApiKey, Run } from '@agentops-hub/contracts';
import {
  Alert,
  Button,
  Card,
  Checkbox,
  Group,
  Loader,
  Stack,
  Stepper,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconCircleCheck } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, errorMessage, type Page } from '../api/client';
import { CopyField } from '../components/CopyField';
import { AnchorLink, ButtonLink } from '../components/links';
import { RunStatusBadge } from '../components/StatusBadge';
import { FormError, PageHeader } from '../components/states';
import { usePermissions } from '../lib/permissions';
import { demoRuns } from './onboarding-demo';

export function OnboardingPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [agent, setAgent] = useState('my-first-agent');
  const [key, setKey] = useState<string | null>(null);
  // An agent needs only `ingest` (report, ask the policies, learn its controls, wait for its approvals);
  // reading runs back (a script, the README's curl check) takes `read` too, so it is a choice.
  const [canRead, setCanRead] = useState(false);
  const [scopes, setScopes] = useState<string[]>([]);
  const origin = window.location.origin;

  const createKey = useMutation({
    mutationFn: () =>
      api<CreatedApiKey>('/v1/api-keys', {
        method: 'POST',
        body: { name: `Ingest key for ${agent}`, scopes: canRead ? ['ingest', 'read'] : ['ingest'] },
      }),
    onSuccess: (r) => {
      setKey(r.key);
      setScopes(r.scopes);
      qc.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const runs = useQuery({
    queryKey: ['runs', 'onboarding'],
    queryFn: () => api<Page<Run>>('/v1/runs', { query: { limit: 1 } }),
    refetchInterval: (q) => (q.state.data?.data.length ? false : 2000),
  });
  const demo = useMutation({
    mutationFn: async () => {
      for (const run of demoRuns())
        await api('/v1/ingest/run', { method: 'POST', body: run, headers: { authorization: `Bearer ${key}` } });
    },
    onSuccess: () => {
      notifications.show({ color: 'teal', title: 'Demo data loaded', message: 'Five sample runs from three agents.' });
      qc.invalidateQueries();
    },
  });

  const first = runs.data?.data[0];
  const step = first ? 3 : key ? 1 : 0;
  const now = '$(date -u +%Y-%m-%dT%H:%M:%SZ)';

  const curl = `curl -X POST ${origin}/v1/ingest/run \\
  -H "Authorization: Bearer ${key ?? 'ahk_…'}" \\
  -H "Content-Type: application/json" \\
  -d '{"agent": "${agent}", "status": "completed", "started_at": "'${now}'",
       "input": {"question": "Where is my order?"}, "output": "It ships tomorrow.",
       "usage": {"model": "gpt-4o-mini", "input_tokens": 120, "output_tokens": 40}}'`;
  const sdk = `# npm install @agentops-hub/sdk
export AGENTOPS_HUB_URL=${origin}
export AGENTOPS_API_KEY=${key ?? 'ahk_…'}

// in your agent: every run is recorded; guard() asks the policies before a sensitive action
import { createAgentOps } from '@agentops-hub/sdk';
const agentops = createAgentOps({ agent: '${agent}' });
await agentops.run('answer-ticket', async () => {
  await agentops.guard({ type: 'issue_refund', order_id: 'A-1', amount: 250 }, () => payments.refund('A-1', 250));
});`;
  const otel = `# Agents that already emit OpenTelemetry GenAI spans: point the OTLP/HTTP exporter at the hub
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${origin}/v1/traces
OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf
OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20${key ?? 'ahk_…'}
OTEL_SERVICE_NAME=${agent}`;

  return (
    <Stack maw={880}>
      <PageHeader
        title="Connect your first agent"
        description="Three steps: a key for your agent, one request from it, and its first run shows up here."
      />
      <Stepper active={step} allowNextStepsSelect={false} size="sm" aria-label="Progress">
        <Stepper.Step label="Create an ingest key" description="Reports runs, asks policies" />
        <Stepper.Step label="Send a run" description="curl, SDK or OpenTelemetry" />
        <Stepper.Step label="See it arrive" description="This page is listening" />
      </Stepper>
      <Title order={2} size="h4">
        1. An ingest key for your agent
      </Title>
      <Card withBorder>
        {key ? (
          <Stack gap="xs">
            <Text size="sm">Your ingest key. Copy it now: it is shown only once (the hub keeps only a hash).</Text>
            <CopyField value={key} label="Copy key" testId="ingest-key" />
            <Text size="sm" c="dimmed" data-testid="key-scopes">
              Scopes: {scopes.join(' + ')}. It reports runs and events, asks the policies before an action (guard),
              reads its controls and waits for its approvals
              {scopes.includes('read')
                ? ', and reads runs and the rest of the organization back.'
                : '. It cannot read runs back: see them here, or make a key with the read scope in Settings → API keys.'}
            </Text>
          </Stack>
        ) : (
          <Group align="flex-end">
            <TextInput
              label="Agent name"
              description="How your agent will appear in the hub"
              value={agent}
              onChange={(e) => setAgent(e.currentTarget.value)}
            />
            <Button onClick={() => createKey.mutate()} loading={createKey.isPending} disabled={!can('api_keys:manage')}>
              Create ingest key
            </Button>
            <Checkbox
              label="Also let it read runs (read scope: for scripts and curl checks)"
              checked={canRead}
              onChange={(e) => setCanRead(e.currentTarget.checked)}
              w="100%"
            />
          </Group>
        )}
        <FormError error={createKey.error} />
      </Card>
      <Title order={2} size="h4">
        2. Send a run
      </Title>
      <Card withBorder>
        <Tabs defaultValue="curl">
          <Tabs.List>
            <Tabs.Tab value="curl">curl</Tabs.Tab>
            <Tabs.Tab value="sdk">SDK (Node)</Tabs.Tab>
            <Tabs.Tab value="otel">OpenTelemetry</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="curl" pt="sm">
            <CopyField value={curl} label="Copy curl command" />
          </Tabs.Panel>
          <Tabs.Panel value="sdk" pt="sm">
            <CopyField value={sdk} label="Copy SDK snippet" />
          </Tabs.Panel>
          <Tabs.Panel value="otel" pt="sm">
            <CopyField value={otel} label="Copy exporter settings" />
          </Tabs.Panel>
        </Tabs>
      </Card>
      <Title order={2} size="h4">
        3. See it arrive
      </Title>
      <Card
        withBorder
        bg={first ? 'var(--mantine-color-teal-light)' : undefined}
        aria-live="polite"
        data-testid="first-run-status"
      >
        {first ? (
          <Group justify="space-between">
            <Group gap="sm">
              <IconCircleCheck color="var(--mantine-color-teal-6)" size={28} aria-hidden />
              <div>
                <Text fw={700}>Your first run arrived</Text>
                <Text size="sm">
                  {first.agent_name} · <RunStatusBadge run={first} size="sm" />
                </Text>
              </div>
            </Group>
            <ButtonLink to="/runs/$runId" params={{ runId: first.id }}>
              Open its replay
            </ButtonLink>
          </Group>
        ) : (
          <Group gap="sm">
            <Loader size="sm" />
            <Text>Waiting for the first run…</Text>
          </Group>
        )}
      </Card>
      {key && !first && (
        <Alert color="gray" title="Just looking around?">
          <Group justify="space-between">
            <Text size="sm">Load a small demo data set: five runs of three sample agents, sent with your new key.</Text>
            <Button variant="light" onClick={() => demo.mutate()} loading={demo.isPending}>
              Load demo data
            </Button>
          </Group>
          {demo.error && (
            <Text c="red" size="sm">
              {errorMessage(demo.error)}
            </Text>
          )}
        </Alert>
      )}
      <Title order={2} size="h4" mt="md">
        Next
      </Title>
      <Text size="sm" c="dimmed">
        Add a <AnchorLink to="/policies">policy</AnchorLink> so sensitive actions need a person's approval, and set a{' '}
        <AnchorLink to="/budgets">budget</AnchorLink>.
      </Text>
    </Stack>
  );
}
