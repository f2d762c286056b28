/**
 * The policy editor: one rule, two faces kept in step — the sentence builder and a YAML/JSON editor —
 * validated by the hub as you type, simulated over recorded actions before it is switched on, with its
 * version history (diff and rollback).
 */

import type { Agent, Policy, PolicyRule, ValidateResult } from '@agentops-hub/contracts';
import {
  Alert,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  List,
  NumberInput,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useParams } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import YAML from 'yaml';
import { api, errorMessage, type Page } from '../api/client';
import { ErrorState, Loading, PageHeader } from '../components/states';
import { usePermissions } from '../lib/permissions';
import { PolicyHistory } from './policies/PolicyHistory';
import { emptySentence, fromRule, type Sentence, toRule } from './policies/policy-sentence';
import { RuleCodeEditor } from './policies/RuleCodeEditor';
import { SentenceBuilder } from './policies/SentenceBuilder';
import { SimulatePanel } from './policies/SimulatePanel';

export function PolicyEditorPage() {
  const { policyId } = useParams({ from: '/app/policies/$policyId' });
  const isNew = policyId === 'new';
  const policy = useQuery({
    queryKey: ['policies', policyId],
    queryFn: () => api<Policy>(`/v1/policies/${policyId}`),
    enabled: !isNew,
  });
  if (!isNew && policy.isPending) return <Loading />;
  if (!isNew && policy.error) return <ErrorState error={policy.error} retry={() => policy.refetch()} />;
  return <Editor key={`${policyId}:${policy.data?.version ?? 0}`} initial={isNew ? undefined : policy.data} />;
}

const stringify = (rule: PolicyRule, format: 'yaml' | 'json') =>
  format === 'yaml' ? YAML.stringify(rule) : JSON.stringify(rule, null, 2);

function Editor({ initial }: { initial?: Policy }) {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const canEdit = initial ? can('policies:edit') : can('policies:create');
  const [name, setName] = useState(initial?.name ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [priority, setPriority] = useState<number>(initial?.priority ?? 0);
  const [rule, setRule] = useState<PolicyRule>(initial?.rule ?? toRule(emptySentence()));
  const [sentence, setSentence] = useState<Sentence | null>(initial ? fromRule(initial.rule) : emptySentence());
  const [format, setFormat] = useState<'yaml' | 'json'>('yaml');
  const [text, setText] = useState(() => stringify(initial?.rule ?? toRule(emptySentence()), 'yaml'));
  const [parseError, setParseError] = useState<string | null>(null);
  // A new policy starts incomplete on purpose: its problems are shown once the person has changed
  // something, not as a red list before they typed a word.
  const [touched, setTouched] = useState(Boolean(initial));

  const agents = useQuery({
    queryKey: ['agents', 'all'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
  });

  function fromBuilder(s: Sentence) {
    setTouched(true);
    setSentence(s);
    const r = toRule(s, rule);
    setRule(r);
    setText(stringify(r, format));
    setParseError(null);
  }
  function fromText(t: string) {
    setTouched(true);
    setText(t);
    try {
      const parsed = YAML.parse(t) as PolicyRule;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('The rule must be an object with when and then.');
      setParseError(null);
      setRule(parsed);
      setSentence(fromRule(parsed));
    } catch (e) {
      setParseError((e as Error).message.split('\n')[0]);
    }
  }
  function changeFormat(f: 'yaml' | 'json') {
    setFormat(f);
    setText(stringify(rule, f));
    setParseError(null);
  }

  const body = useMemo(
    () => ({ name: name || 'Untitled policy', description, priority, status: initial?.status ?? 'inactive', rule }),
    [name, description, priority, rule, initial?.status],
  );
  const [debounced] = useDebouncedValue(body, 400);
  const validation = useQuery({
    queryKey: ['policy-validate', debounced],
    queryFn: () => api<ValidateResult>('/v1/policies/validate', { method: 'POST', body: debounced }),
    enabled: !parseError,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const valid = !parseError && validation.data?.valid === true && name.trim().length > 0;

  const save = useMutation({
    mutationFn: (status?: 'active' | 'inactive') => {
      const payload = { ...body, name, status: status ?? body.status };
      return initial
        ? api<Policy>(`/v1/policies/${initial.id}`, { method: 'PUT', body: payload })
        : api<Policy>('/v1/policies', { method: 'POST', body: payload });
    },
    onSuccess: async (p) => {
      notifications.show({ color: 'teal', title: 'Policy saved', message: `${p.name} · v${p.version} · ${p.status}` });
      await qc.invalidateQueries({ queryKey: ['policies'] });
      if (!initial) await navigate({ to: '/policies/$policyId', params: { policyId: p.id } });
    },
  });

  return (
    <Stack>
      <PageHeader
        title={initial ? initial.name : 'New policy'}
        description="Write the rule as a sentence, or as YAML/JSON: both stay in step."
        actions={
          initial && (
            <Group gap="xs">
              <Badge color={initial.status === 'active' ? 'teal' : 'gray'} size="lg">
                {initial.status}
              </Badge>
              <Badge variant="outline" size="lg">
                v{initial.version}
              </Badge>
            </Group>
          )
        }
      />
      <Card withBorder>
        <Grid>
          <Grid.Col span={{ base: 12, md: 5 }}>
            <TextInput
              label="Name"
              required
              value={name}
              onChange={(e) => {
                setTouched(true);
                setName(e.currentTarget.value);
              }}
              disabled={!canEdit}
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 5 }}>
            <Textarea
              label="Description"
              autosize
              minRows={1}
              value={description}
              onChange={(e) => setDescription(e.currentTarget.value)}
              disabled={!canEdit}
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 2 }}>
            <NumberInput
              label="Priority"
              value={priority}
              onChange={(v) => setPriority(Number(v) || 0)}
              disabled={!canEdit}
            />
          </Grid.Col>
        </Grid>
      </Card>
      <Grid>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Card withBorder h="100%">
            <Title order={2} size="h4" mb="sm">
              As a sentence
            </Title>
            {sentence ? (
              <SentenceBuilder
                value={sentence}
                onChange={fromBuilder}
                agents={(agents.data?.data ?? []).map((a) => a.name)}
                disabled={!canEdit}
              />
            ) : (
              <Alert color="gray">
                This rule uses groups (any / not) that one sentence cannot show. Edit it in the code editor; the
                sentence comes back when the rule is a simple list of conditions.
              </Alert>
            )}
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Card withBorder h="100%">
            <Title order={2} size="h4" mb="sm">
              As code
            </Title>
            <RuleCodeEditor text={text} format={format} onText={fromText} onFormat={changeFormat} readOnly={!canEdit} />
          </Card>
        </Grid.Col>
      </Grid>
      <Card withBorder aria-live="polite" data-testid="validation">
        {!touched ? (
          <Text c="dimmed" size="sm">
            Name the policy and finish the sentence (or write the rule as code): it is checked as you type.
          </Text>
        ) : parseError ? (
          <Text c="red" size="sm">
            {format.toUpperCase()} error: {parseError}
          </Text>
        ) : validation.data?.valid ? (
          <Text c="teal" size="sm">
            ✓ The rule is valid.{name.trim() ? '' : ' Give the policy a name to save it.'}
          </Text>
        ) : validation.data ? (
          <Stack gap={4}>
            <Text c="red" size="sm" fw={600}>
              The rule has problems:
            </Text>
            <List size="sm">
              {validation.data.errors.map((e) => (
                <List.Item key={`${e.path}:${e.message}`}>
                  <code>{e.path}</code>: {e.message}
                </List.Item>
              ))}
            </List>
          </Stack>
        ) : (
          <Text c="dimmed" size="sm">
            Checking…
          </Text>
        )}
      </Card>
      {save.error && <ErrorState error={save.error} />}
      {canEdit && (
        <Group>
          {!initial && can('policies:activate') && (
            <Button
              color="teal"
              onClick={() => save.mutate('active')}
              disabled={!valid}
              loading={save.isPending && save.variables === 'active'}
            >
              Save and activate
            </Button>
          )}
          <Button
            variant={!initial && can('policies:activate') ? 'default' : 'filled'}
            onClick={() => save.mutate(undefined)}
            loading={save.isPending && save.variables === undefined}
            disabled={!valid}
          >
            {initial ? 'Save changes' : 'Save as draft'}
          </Button>
          {can('policies:activate') && (
            <Switch
              label={initial?.status === 'active' ? 'Active: agents are checked against it' : 'Inactive'}
              checked={initial?.status === 'active'}
              disabled={!valid || save.isPending}
              onChange={(e) => save.mutate(e.currentTarget.checked ? 'active' : 'inactive')}
            />
          )}
        </Group>
      )}
      <SimulatePanel policy={body} />
      {initial && <PolicyHistory policy={initial} canRollback={can('policies:edit')} />}
      {save.error ? <Text c="red">{errorMessage(save.error)}</Text> : null}
    </Stack>
  );
}
