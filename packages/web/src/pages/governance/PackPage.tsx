/**
 * One policy pack: what its policies do in plain words, its settings, a preview of what applying would
 * change (nothing is written), apply (or update, or upgrade), and remove it again.
 */

import type { ApplyPackResult, PackChange, PackParamView, PackPreview, PolicyPackView } from '@agentops-hub/contracts';
import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Collapse,
  Group,
  List,
  NumberInput,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useParams } from '@tanstack/react-router';
import { useState } from 'react';
import { ApiError, api, errorMessage } from '../../api/client';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { AnchorLink } from '../../components/links';
import { ErrorState, Loading, NotFound, PageHeader } from '../../components/states';
import { dateTime, json } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';
import { PackBadges } from './PolicyPacksPage';

type ParamValue = number | string | boolean | string[];

const EFFECT: Record<string, { label: string; color: string }> = {
  block: { label: 'Blocks', color: 'red' },
  require_approval: { label: 'Needs approval', color: 'orange' },
  log_only: { label: 'Logs', color: 'gray' },
  allow: { label: 'Allows', color: 'teal' },
};

const CHANGE: Record<PackChange['change'], { label: string; color: string }> = {
  create: { label: 'adds', color: 'teal' },
  restore: { label: 'restores', color: 'teal' },
  update: { label: 'updates', color: 'blue' },
  remove: { label: 'removes', color: 'red' },
  unchanged: { label: 'unchanged', color: 'gray' },
  conflict: { label: 'kept (changed by a person)', color: 'yellow' },
};

export function PackPage() {
  const { packId } = useParams({ from: '/app/governance/packs/$packId' });
  const pack = useQuery({
    queryKey: ['policy-packs', packId],
    queryFn: () => api<PolicyPackView>(`/v1/policy-packs/${packId}`),
  });
  if (pack.isPending) return <Loading />;
  if (pack.error instanceof ApiError && pack.error.status === 404) return <NotFound />;
  if (pack.error) return <ErrorState error={pack.error} retry={() => pack.refetch()} />;
  return <PackView pack={pack.data} key={pack.data.id} />;
}

function PackView({ pack }: { pack: PolicyPackView }) {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [values, setValues] = useState<Record<string, ParamValue>>(() =>
    Object.fromEntries(
      pack.params.map((p) => [p.name, (pack.applied?.params?.[p.name] as ParamValue | undefined) ?? p.default]),
    ),
  );
  const [open, setOpen] = useState<string | null>(null);
  const [result, setResult] = useState<ApplyPackResult | null>(null);
  const [confirmUnapply, setConfirmUnapply] = useState(false);
  const mayApply = can('policies:create') && (pack.budgets.length === 0 || can('budgets:manage'));

  const refresh = () => {
    qc.invalidateQueries({ queryKey: ['policy-packs'] });
    qc.invalidateQueries({ queryKey: ['policies'] });
    qc.invalidateQueries({ queryKey: ['budgets'] });
  };
  const preview = useMutation({
    mutationFn: () =>
      api<PackPreview>(`/v1/policy-packs/${pack.id}/preview`, { method: 'POST', body: { params: values } }),
  });
  const apply = useMutation({
    mutationFn: (upgrade: boolean) =>
      api<ApplyPackResult>(`/v1/policy-packs/${pack.id}/apply`, {
        method: 'POST',
        body: { params: values, ...(upgrade ? { upgrade: true } : {}) },
      }),
    onSuccess: (r) => {
      setResult(r);
      preview.reset();
      if (r.status !== 'upgrade_available') {
        notifications.show({ color: 'teal', message: `${pack.name}: ${r.status}.` });
        refresh();
      }
    },
  });
  const unapply = useMutation({
    mutationFn: () =>
      api<{ removed: unknown[]; kept: { key: string; reason: string }[] }>(`/v1/policy-packs/${pack.id}/unapply`, {
        method: 'POST',
      }),
    onSuccess: (r) => {
      setConfirmUnapply(false);
      notifications.show({
        message: `${pack.name} removed: ${r.removed.length} item(s) removed${r.kept.length ? `, ${r.kept.length} kept because a person changed them` : ''}.`,
      });
      refresh();
    },
  });
  const changes = result?.changes ?? preview.data?.changes;
  // The plain words follow the settings as they are typed: the hub renders them (preview changes nothing).
  const [debounced] = useDebouncedValue(values, 400);
  const rendered = useQuery({
    queryKey: ['policy-packs', pack.id, 'words', debounced],
    queryFn: () =>
      api<PackPreview>(`/v1/policy-packs/${pack.id}/preview`, { method: 'POST', body: { params: debounced } }),
    placeholderData: keepPreviousData,
    enabled: pack.params.length > 0,
    retry: false,
  });
  const words = (kind: PackChange['kind'], key: string, fallback: string) => {
    const c = rendered.data?.changes.find((x) => x.kind === kind && x.key === key);
    return c && c.change !== 'conflict' && c.change !== 'remove' ? c.summary : fallback;
  };

  return (
    <Stack>
      <PageHeader
        title={pack.name}
        description={`Version ${pack.version}${pack.industries.length ? ` · for ${pack.industries.join(', ')}` : ''}`}
        actions={<PackBadges pack={pack} />}
      />
      <Text>{pack.description}</Text>
      {pack.starter && (
        <Alert color="yellow" title="A starting point">
          Review this pack with whoever owns compliance in your organization: it is not a compliance program.
        </Alert>
      )}
      {pack.applied && (
        <Alert color="teal" title={`Applied (version ${pack.applied.version})`} data-testid="pack-applied">
          Since {dateTime(pack.applied.applied_at)}.{' '}
          {pack.applied.upgrade_available && `Version ${pack.version} is available: preview it, then upgrade.`} Its
          policies are on the{' '}
          <AnchorLink to="/policies" size="sm">
            Policies
          </AnchorLink>{' '}
          page, where you can change them.
        </Alert>
      )}

      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          What it does
        </Title>
        <Stack gap="sm">
          {pack.policies.map((p) => {
            const effect = EFFECT[p.effect] ?? { label: p.effect, color: 'gray' };
            const expanded = open === p.key;
            return (
              <Stack key={p.key} gap={4} data-testid="pack-policy">
                <Group gap="sm" wrap="nowrap" align="flex-start">
                  <Badge color={effect.color} variant="light" w={130}>
                    {effect.label}
                  </Badge>
                  <Stack gap={0} style={{ flex: 1 }}>
                    <Text size="sm" fw={600}>
                      {words('policy', p.key, p.summary)}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {p.name}
                    </Text>
                  </Stack>
                  <UnstyledButton
                    onClick={() => setOpen(expanded ? null : p.key)}
                    aria-expanded={expanded}
                    aria-label={`${expanded ? 'Hide' : 'Show'} the rule of ${p.name}`}
                  >
                    <Group gap={2}>
                      {expanded ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
                      <Text size="xs" c="dimmed">
                        rule
                      </Text>
                    </Group>
                  </UnstyledButton>
                </Group>
                <Collapse expanded={expanded}>
                  <Code block>{json(p.rule)}</Code>
                </Collapse>
              </Stack>
            );
          })}
          {pack.budgets.map((b) => (
            <Group key={b.key} gap="sm" wrap="nowrap" align="flex-start">
              <Badge color="blue" variant="light" w={130}>
                Budget
              </Badge>
              <Stack gap={0}>
                <Text size="sm" fw={600}>
                  {words('budget', b.key, b.summary)}
                </Text>
                <Text size="xs" c="dimmed">
                  {b.name}
                </Text>
              </Stack>
            </Group>
          ))}
          {pack.notifications && (
            <Group gap="sm" wrap="nowrap" align="flex-start">
              <Badge color="grape" variant="light" w={130}>
                Notifications
              </Badge>
              <Text size="sm">{pack.notifications.summary}</Text>
            </Group>
          )}
        </Stack>
      </Card>

      {pack.params.length > 0 && (
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Settings
          </Title>
          <Stack>
            {pack.params.map((p) => (
              <ParamInput
                key={p.name}
                param={p}
                value={values[p.name] ?? p.default}
                disabled={!mayApply}
                onChange={(v) => {
                  setValues((x) => ({ ...x, [p.name]: v }));
                  preview.reset();
                  setResult(null);
                }}
              />
            ))}
          </Stack>
        </Card>
      )}

      {mayApply ? (
        <Group>
          <Button variant="default" loading={preview.isPending} onClick={() => preview.mutate()}>
            Preview changes
          </Button>
          <Button loading={apply.isPending && apply.variables === false} onClick={() => apply.mutate(false)}>
            {pack.applied ? 'Apply the new settings' : 'Apply pack'}
          </Button>
          {pack.applied && can('policies:edit') && (
            <Button variant="subtle" color="red" onClick={() => setConfirmUnapply(true)}>
              Remove pack
            </Button>
          )}
        </Group>
      ) : (
        <Text size="sm" c="dimmed">
          Your role can read packs but not apply them.
        </Text>
      )}
      {(preview.error || apply.error) && (
        <Alert color="red" role="alert">
          {errorMessage(preview.error ?? apply.error)}
        </Alert>
      )}
      {changes && (
        <Card withBorder data-testid="pack-changes">
          <Title order={2} size="h4" mb="sm">
            {result
              ? result.status === 'upgrade_available'
                ? `Version ${result.version} changes this`
                : `Done: ${result.status}`
              : 'Applying would change this'}
          </Title>
          <List spacing={6} listStyleType="none">
            {changes.map((c) => {
              const ch = CHANGE[c.change];
              return (
                <List.Item key={`${c.kind}:${c.key}`}>
                  <Group gap="xs" wrap="nowrap" align="flex-start">
                    <Badge color={ch.color} variant="light" miw={90}>
                      {ch.label}
                    </Badge>
                    <Text size="sm">
                      <b>{c.kind}</b> {c.summary}
                    </Text>
                  </Group>
                </List.Item>
              );
            })}
          </List>
          {result?.status === 'upgrade_available' && (
            <Button mt="md" loading={apply.isPending && apply.variables === true} onClick={() => apply.mutate(true)}>
              Upgrade to version {result.version}
            </Button>
          )}
        </Card>
      )}
      <ConfirmDialog
        opened={confirmUnapply}
        onClose={() => setConfirmUnapply(false)}
        title="Remove this pack?"
        confirmLabel="Remove pack"
        pending={unapply.isPending}
        error={unapply.error}
        onConfirm={() => unapply.mutate()}
      >
        The policies and budgets it added are deleted and its notification settings go back to what they were. Anything
        a person changed since is kept.
      </ConfirmDialog>
    </Stack>
  );
}

function ParamInput({
  param,
  value,
  disabled,
  onChange,
}: {
  param: PackParamView;
  value: ParamValue;
  disabled: boolean;
  onChange: (v: ParamValue) => void;
}) {
  const label = param.name
    .replace(/_/g, ' ')
    .replace(/\busd\b/, 'USD')
    .replace(/^./, (c) => c.toUpperCase());
  const common = { label, description: param.description, disabled };
  switch (param.type) {
    case 'number':
    case 'integer':
      return (
        <NumberInput
          {...common}
          maw={320}
          min={param.min}
          max={param.max}
          allowDecimal={param.type === 'number'}
          value={typeof value === 'number' ? value : Number(value)}
          onChange={(v) => onChange(typeof v === 'number' ? v : Number(v))}
        />
      );
    case 'boolean':
      return <Switch {...common} checked={Boolean(value)} onChange={(e) => onChange(e.currentTarget.checked)} />;
    case 'string_list':
      return (
        <TagsInput {...common} value={Array.isArray(value) ? value : []} onChange={(v) => onChange(v)} maw={480} />
      );
    default:
      return param.enum ? (
        <Select
          {...common}
          maw={320}
          data={param.enum}
          value={String(value)}
          onChange={(v) => onChange(v ?? String(param.default))}
          allowDeselect={false}
        />
      ) : (
        <TextInput {...common} maw={480} value={String(value)} onChange={(e) => onChange(e.currentTarget.value)} />
      );
  }
}
