/**
 * The run page: a forensic replay. Every step (model calls, tools, external actions, policy decisions,
 * approvals) in time order, each expandable, drawn as a waterfall of durations. Keyboard: ↓/j next step,
 * ↑/k previous, Enter or Space opens/closes it. Export downloads the whole run as JSON.
 */

import type { RunDetail } from '@agentops-hub/contracts';
import {
  Alert,
  Badge,
  Box,
  Button,
  Card,
  Collapse,
  Group,
  Kbd,
  SimpleGrid,
  Stack,
  Text,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import { JsonBlock } from '../components/JsonBlock';
import { Money } from '../components/Money';
import { RunStatusBadge } from '../components/StatusBadge';
import { ErrorState, Loading, PageHeader } from '../components/states';
import { dateTime, duration, num } from '../lib/format';
import { buildSteps, type Step, timelineBounds } from './replay-steps';

export function RunReplayPage() {
  const { runId } = useParams({ from: '/app/runs/$runId' });
  const run = useQuery({
    queryKey: ['runs', 'detail', runId],
    queryFn: () => api<RunDetail>(`/v1/runs/${encodeURIComponent(runId)}`),
    refetchInterval: (q) => (q.state.data?.status === 'running' ? 3000 : false),
  });

  if (run.isPending) return <Loading label="Loading the run…" />;
  if (run.error) return <ErrorState error={run.error} retry={() => run.refetch()} />;
  return <Replay run={run.data} />;
}

function Replay({ run }: { run: RunDetail }) {
  const steps = useMemo(() => buildSteps(run), [run]);
  const bounds = timelineBounds(run, steps);
  const [current, setCurrent] = useState(0);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const refs = useRef<(HTMLButtonElement | null)[]>([]);

  useEffect(() => {
    refs.current[current]?.focus();
  }, [current]);

  const toggle = (key: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(key)) n.delete(key);
      else n.add(key);
      return n;
    });

  function onKey(e: KeyboardEvent) {
    if (e.key === 'ArrowDown' || e.key === 'j') {
      e.preventDefault();
      setCurrent((c) => Math.min(c + 1, steps.length - 1));
    } else if (e.key === 'ArrowUp' || e.key === 'k') {
      e.preventDefault();
      setCurrent((c) => Math.max(c - 1, 0));
    } else if ((e.key === 'Enter' || e.key === ' ') && steps[current]) {
      e.preventDefault();
      toggle(steps[current].key);
    }
  }

  function exportRun() {
    const blob = new Blob([JSON.stringify(run, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${run.id}.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  }

  return (
    <Stack>
      <PageHeader
        title={`Run ${run.id}`}
        description={`${run.agent_name} · started ${dateTime(run.started_at)}`}
        actions={
          <>
            <Button component={Link} to="/runs" variant="default">
              All runs
            </Button>
            <Button leftSection={<IconDownload size={16} />} onClick={exportRun} variant="light">
              Export run
            </Button>
          </>
        }
      />
      <SimpleGrid cols={{ base: 2, md: 5 }}>
        <Fact label="Status" value={<RunStatusBadge run={run} />} />
        <Fact label="Duration" value={duration(run.latency_ms)} />
        <Fact label="Tokens" value={`${num(run.input_tokens)} in · ${num(run.output_tokens)} out`} />
        <Fact label="Cost" value={<Money value={run.cost_usd} />} />
        <Fact label="Environment" value={run.environment} />
      </SimpleGrid>
      {run.events_truncated && (
        <Alert color="yellow" title="This run is longer than the replay shows">
          The replay shows the run's first events (at most 10,000, and 32 MiB of their content). The rest are stored,
          and the run's totals above include them.
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, md: run.error ? 3 : 2 }}>
        <Card withBorder>
          <Text fw={600} mb="xs">
            Input
          </Text>
          <JsonBlock value={run.input} maxHeight={200} />
        </Card>
        <Card withBorder>
          <Text fw={600} mb="xs">
            Output
          </Text>
          <JsonBlock value={run.output} maxHeight={200} />
        </Card>
        {run.error ? (
          <Card withBorder>
            <Text fw={600} mb="xs" c="red">
              Error
            </Text>
            <JsonBlock value={run.error} maxHeight={200} />
          </Card>
        ) : null}
      </SimpleGrid>
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Text fw={600} component="h2" fz="lg" m={0}>
            Timeline · {steps.length} steps
          </Text>
          <Text size="xs" c="dimmed">
            <Kbd>↑</Kbd> <Kbd>↓</Kbd> step through · <Kbd>Enter</Kbd> expand
          </Text>
        </Group>
        {steps.length === 0 ? (
          <Text c="dimmed">This run reported no steps.</Text>
        ) : (
          <Box role="list" aria-label="Run timeline" onKeyDown={onKey} data-testid="timeline">
            {steps.map((s, i) => (
              <StepRow
                key={s.key}
                step={s}
                bounds={bounds}
                selected={i === current}
                expanded={open.has(s.key)}
                onSelect={() => {
                  setCurrent(i);
                  toggle(s.key);
                }}
                buttonRef={(el) => {
                  refs.current[i] = el;
                }}
              />
            ))}
          </Box>
        )}
      </Card>
    </Stack>
  );
}

function StepRow({
  step,
  bounds,
  selected,
  expanded,
  onSelect,
  buttonRef,
}: {
  step: Step;
  bounds: { start: number; total: number };
  selected: boolean;
  expanded: boolean;
  onSelect: () => void;
  buttonRef: (el: HTMLButtonElement | null) => void;
}) {
  const left = ((step.at - bounds.start) / bounds.total) * 100;
  const width = step.durationMs ? Math.max((step.durationMs / bounds.total) * 100, 0.8) : 0.8;
  return (
    <Box
      role="listitem"
      style={{
        borderLeft: `3px solid var(--mantine-color-${step.color}-6)`,
        background: selected ? 'var(--mantine-color-default-hover)' : undefined,
      }}
      mb={4}
      data-testid="timeline-step"
    >
      <UnstyledButton
        ref={buttonRef}
        onClick={onSelect}
        aria-expanded={expanded}
        tabIndex={selected ? 0 : -1}
        w="100%"
        p="xs"
      >
        <Group wrap="nowrap" gap="md">
          {/* On a phone the title takes the row (two lines) and the waterfall bar is left out. */}
          <Box w={{ base: 'auto', sm: 320 }} style={{ flex: '0 1 auto', minWidth: 0 }}>
            <Text size="sm" fw={600} lineClamp={2}>
              {step.title}
            </Text>
            <Text size="xs" c="dimmed" truncate>
              {step.subtitle || '\u00a0'}
            </Text>
          </Box>
          <Box visibleFrom="sm" style={{ flex: 1, position: 'relative', height: 14 }} aria-hidden>
            <Box
              style={{
                position: 'absolute',
                left: `${Math.min(left, 99.2)}%`,
                width: `${Math.min(width, 100 - Math.min(left, 99.2))}%`,
                top: 2,
                height: 10,
                borderRadius: 3,
                background: `var(--mantine-color-${step.color}-5)`,
              }}
            />
          </Box>
          <Tooltip label={new Date(step.at).toISOString()}>
            <Text size="xs" c="dimmed" ta="right" style={{ flexShrink: 0, marginLeft: 'auto', minWidth: 56 }}>
              +{duration(step.at - bounds.start)}
            </Text>
          </Tooltip>
          <Badge size="xs" variant="light" color={step.color} miw={70} style={{ flexShrink: 0 }}>
            {step.durationMs !== null ? duration(step.durationMs) : 'instant'}
          </Badge>
        </Group>
      </UnstyledButton>
      <Collapse expanded={expanded}>
        <Box px="xs" pb="xs">
          <JsonBlock value={step.detail} />
        </Box>
      </Collapse>
    </Box>
  );
}

function Fact({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Box fw={600}>{value}</Box>
    </Card>
  );
}
