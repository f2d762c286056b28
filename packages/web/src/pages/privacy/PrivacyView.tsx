/**
 * The privacy settings page's content, without its queries (PrivacyPage.tsx fetches and saves): the org's
 * capture level, the redaction rules with add and remove, the sample box, each agent's capture level, and
 * the re-redaction of stored data with its progress. Every change goes through a callback, so the
 * component test renders it with plain data.
 */
import type {
  Agent,
  CaptureLevel,
  PrivacySettings,
  RedactionAction,
  RedactionJob,
  RedactionRule,
} from '@agentops-hub/contracts';
import {
  ActionIcon,
  Badge,
  Button,
  Card,
  Group,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { FormError } from '../../components/states';
import { dateTime, num } from '../../lib/format';

export const CAPTURE_LABELS: Record<CaptureLevel, string> = {
  full: 'Full',
  redacted: 'Redacted',
  metadata_only: 'Metadata only',
};
const CAPTURE_HELP: Record<CaptureLevel, string> = {
  full: 'Content is kept as sent; your rules still apply.',
  redacted: 'Your rules, then the built-in detectors: emails, phones, cards, IBANs and secrets become labels.',
  metadata_only: 'No text is kept: only structure, tokens, cost, timing and decisions.',
};
const ACTION_LABELS: Record<RedactionAction, string> = { label: 'Label', hash: 'Keyed hash', remove: 'Remove' };
const PHASE_LABELS: Record<RedactionJob['phase'], string> = {
  runs: 'runs',
  events: 'events',
  decisions: 'decisions',
  approvals: 'approvals',
  archives: 'cold archives',
  done: 'done',
};

/** One sentence on the latest re-redaction, e.g. "Running: events. 120 of 300 rows changed so far." */
export function redactionSentence(job: RedactionJob | null): string {
  if (!job) return 'Stored data has not been re-redacted yet.';
  const counts = Object.values(job.counts);
  const scanned = counts.reduce((n, c) => n + c.scanned, 0);
  const changed = counts.reduce((n, c) => n + c.changed, 0);
  const tally = `${num(changed)} of ${num(scanned)} stored items changed`;
  if (job.status === 'queued') return `Queued ${dateTime(job.requested_at)}; it starts in a moment.`;
  if (job.status === 'running') return `Running: ${PHASE_LABELS[job.phase]}. ${tally} so far.`;
  if (job.status === 'failed') return `Failed ${dateTime(job.finished_at)}: ${job.error ?? 'unknown error'}.`;
  return `Completed ${dateTime(job.finished_at)}: ${tally}.`;
}

export interface PrivacyViewProps {
  settings: PrivacySettings;
  agents: Pick<Agent, 'id' | 'name'>[];
  /** `org:update`: change the org's level, rules, and re-redact. */
  canEdit: boolean;
  /** `agents:edit` (or its team variant: the hub then checks the team and the org's floor). */
  canEditAgents: boolean;
  /** `view_content`: the sample box shows content. */
  canTest: boolean;
  onCapture: (capture: CaptureLevel) => void;
  onRules: (rules: RedactionRule[]) => void;
  onAgentCapture: (agentId: string, capture: CaptureLevel | null) => void;
  onTest: (payload: unknown, capture: CaptureLevel) => Promise<unknown>;
  onRedact: () => void;
  saving?: boolean;
  error?: unknown;
}

export function PrivacyView(p: PrivacyViewProps) {
  const { settings } = p;
  return (
    <Stack>
      <FormError error={p.error} />
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          What the hub keeps
        </Title>
        <SegmentedControl
          aria-label="Organization capture level"
          data={Object.entries(CAPTURE_LABELS).map(([value, label]) => ({ value, label }))}
          value={settings.capture}
          onChange={(v) => p.onCapture(v as CaptureLevel)}
          disabled={!p.canEdit || p.saving}
        />
        <Text size="sm" c="dimmed" mt="xs">
          {CAPTURE_HELP[settings.capture]} Agents can override it below.
        </Text>
      </Card>
      <RulesCard {...p} />
      {p.canTest && <SampleBox onTest={p.onTest} initial={settings.capture} />}
      <AgentsCard {...p} />
      <Card withBorder aria-label="Re-redaction of stored data">
        <Group justify="space-between" mb="xs">
          <Title order={2} size="h4">
            Data already stored
          </Title>
          {p.canEdit && (
            <Button
              variant="default"
              onClick={p.onRedact}
              // While one waits a request would only join it; a running one reads the settings it started with.
              disabled={settings.redaction?.status === 'queued'}
            >
              Re-redact stored data
            </Button>
          )}
        </Group>
        <Text size="sm">{redactionSentence(settings.redaction)}</Text>
        <Text size="sm" c="dimmed">
          Tightening a setting re-redacts runs, events, decisions, approvals and cold archives by itself. The audit log
          and messages already sent are not rewritten.
        </Text>
      </Card>
    </Stack>
  );
}

function RulesCard(p: PrivacyViewProps) {
  const rules = p.settings.rules;
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'key' | 'pattern'>('key');
  const [match, setMatch] = useState('');
  const [action, setAction] = useState<RedactionAction>('label');
  const add = () => {
    const rule: RedactionRule = { name, action, ...(kind === 'key' ? { key: match } : { pattern: match }) };
    p.onRules([...rules, rule]);
    setName('');
    setMatch('');
  };
  return (
    <Card withBorder aria-label="Redaction rules">
      <Title order={2} size="h4" mb="xs">
        Your rules
      </Title>
      {rules.length === 0 ? (
        <Text size="sm" c="dimmed">
          No rule yet. A rule matches a key (customer.address) or a pattern (CUST-[0-9]{'{6}'}) at every level.
        </Text>
      ) : (
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Rule</Table.Th>
              <Table.Th>Matches</Table.Th>
              <Table.Th>Becomes</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rules.map((r, i) => (
              <Table.Tr key={`${r.name}:${r.key ?? r.pattern}`}>
                <Table.Td>{r.name}</Table.Td>
                <Table.Td>
                  <Text ff="monospace" size="sm">
                    {r.key !== undefined ? `key ${r.key}` : `pattern ${r.pattern}`}
                  </Text>
                </Table.Td>
                <Table.Td>{r.action === 'label' ? (r.label ?? '[REDACTED]') : ACTION_LABELS[r.action]}</Table.Td>
                <Table.Td>
                  {p.canEdit && (
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Remove rule ${r.name}`}
                      onClick={() => p.onRules(rules.filter((_, j) => j !== i))}
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {p.canEdit && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add();
          }}
        >
          <Group align="flex-end" mt="sm" wrap="wrap">
            <TextInput label="Rule name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <Select
              label="Match by"
              data={[
                { value: 'key', label: 'Key or path' },
                { value: 'pattern', label: 'Pattern (RE2)' },
              ]}
              value={kind}
              onChange={(v) => v && setKind(v as 'key' | 'pattern')}
              allowDeselect={false}
            />
            <TextInput
              label={kind === 'key' ? 'Key or path' : 'Pattern'}
              required
              value={match}
              onChange={(e) => setMatch(e.currentTarget.value)}
            />
            <Select
              label="Replace with"
              data={Object.entries(ACTION_LABELS).map(([value, label]) => ({ value, label }))}
              value={action}
              onChange={(v) => v && setAction(v as RedactionAction)}
              allowDeselect={false}
            />
            <Button type="submit" loading={p.saving}>
              Add rule
            </Button>
          </Group>
        </form>
      )}
    </Card>
  );
}

function SampleBox({ onTest, initial }: { onTest: PrivacyViewProps['onTest']; initial: CaptureLevel }) {
  const [text, setText] = useState('');
  const [capture, setCapture] = useState<CaptureLevel>(initial === 'full' ? 'redacted' : initial);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setError(null);
    // JSON when it parses, else the text as one string: people paste both.
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {}
    try {
      const out = await onTest(payload, capture);
      setResult(typeof out === 'string' ? out : JSON.stringify(out, null, 2));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card withBorder aria-label="Test a sample">
      <Title order={2} size="h4" mb="xs">
        Test a sample
      </Title>
      <Text size="sm" c="dimmed" mb="xs">
        Paste a payload (JSON or text) to see what would be stored. Nothing is saved.
      </Text>
      <Textarea label="Sample" rows={4} value={text} onChange={(e) => setText(e.currentTarget.value)} />
      <Group mt="sm">
        <Select
          aria-label="Level to test"
          data={Object.entries(CAPTURE_LABELS).map(([value, label]) => ({ value, label }))}
          value={capture}
          onChange={(v) => v && setCapture(v as CaptureLevel)}
          allowDeselect={false}
        />
        <Button variant="default" onClick={run} disabled={!text}>
          Show what is kept
        </Button>
      </Group>
      <FormError error={error} />
      {result !== null && (
        <Text component="pre" ff="monospace" size="sm" mt="sm" aria-label="What would be stored">
          {result}
        </Text>
      )}
    </Card>
  );
}

const FOLLOW = 'org';

function AgentsCard(p: PrivacyViewProps) {
  const own = new Map(p.settings.agents.map((a) => [a.agent_id, a.capture]));
  const options = [
    { value: FOLLOW, label: `Like the organization (${CAPTURE_LABELS[p.settings.capture]})` },
    ...Object.entries(CAPTURE_LABELS).map(([value, label]) => ({ value, label })),
  ];
  return (
    <Card withBorder aria-label="Capture level per agent">
      <Title order={2} size="h4" mb="xs">
        Per agent
      </Title>
      {p.agents.length === 0 ? (
        <Text size="sm" c="dimmed">
          No agent yet.
        </Text>
      ) : (
        <Table>
          <Table.Tbody>
            {p.agents.map((a) => {
              const level = own.get(a.id);
              return (
                <Table.Tr key={a.id}>
                  <Table.Td>
                    <Group gap="xs">
                      <Text>{a.name}</Text>
                      {level && <Badge variant="light">{CAPTURE_LABELS[level]}</Badge>}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Select
                      aria-label={`Capture level of ${a.name}`}
                      data={options}
                      value={level ?? FOLLOW}
                      onChange={(v) => v && p.onAgentCapture(a.id, v === FOLLOW ? null : (v as CaptureLevel))}
                      disabled={!p.canEditAgents}
                      allowDeselect={false}
                    />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <Text size="sm" c="dimmed" mt="xs">
        Team leads may set their own teams' agents to a level at least as strict as the organization's.
      </Text>
    </Card>
  );
}
