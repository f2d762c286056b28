/**
 * Approvals inbox: the pending queue (polled every 3 s, like the count in the navigation), the action's
 * details, the policy that asked and the agent's context; approve or reject with a comment. People
 * without `approvals:decide` (viewers) see the queue but no buttons. On a plan without approvals the
 * page stays, with the hub's sentence in a locked panel (LockedFeature), and stops polling.
 */

import type { Agent, Approval, Policy } from '@agentops-hub/contracts';
import {
  Alert,
  Button,
  Card,
  Grid,
  Group,
  SegmentedControl,
  Stack,
  Text,
  Textarea,
  UnstyledButton,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Page, planLockOf } from '../api/client';
import { ActionDetails } from '../components/ActionDetails';
import { LockedFeature } from '../components/LockedFeature';
import { AnchorLink } from '../components/links';
import { StatusBadge } from '../components/StatusBadge';
import { Empty, FormError, PageHeader, QueryStatus } from '../components/states';
import { actionSentence } from '../lib/action-sentence';
import { ago, dateTime } from '../lib/format';
import { usePermissions } from '../lib/permissions';

type Status = 'pending' | 'approved' | 'rejected' | 'expired';

export function ApprovalsPage() {
  const [status, setStatus] = useState<Status>('pending');
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['approvals', status === 'pending' ? 'pending' : `list-${status}`],
    queryFn: () => api<Page<Approval>>('/v1/approvals', { query: { status, limit: 200 } }),
    // A plan without approvals answers the same 402 on every poll: ask once.
    refetchInterval: (q) => (planLockOf(q.state.error) ? false : status === 'pending' ? 3_000 : 15_000),
  });
  const locked = planLockOf(list.error);
  const agents = useQuery({
    queryKey: ['agents', 'all'],
    queryFn: () => api<Page<Agent>>('/v1/agents', { query: { limit: 200 } }),
  });
  const agentName = (id: string) => agents.data?.data.find((a) => a.id === id)?.name ?? id;
  const items = list.data?.data ?? [];
  const selected = items.find((a) => a.id === selectedId) ?? items[0];

  return (
    <Stack>
      <PageHeader
        title="Approvals"
        description="Sensitive actions your policies hold for a person. The queue updates by itself."
        actions={
          !locked && (
            <SegmentedControl
              aria-label="Approval status"
              value={status}
              onChange={(v) => {
                setStatus(v as Status);
                setSelectedId(null);
              }}
              data={['pending', 'approved', 'rejected', 'expired']}
            />
          )
        }
      />
      {locked ? <LockedFeature feature="Approvals" sentence={locked} /> : <QueryStatus query={list} />}
      {list.data && items.length === 0 && (
        <Card withBorder>
          <Empty title={status === 'pending' ? 'Nothing waits for you' : `No ${status} approvals`}>
            {status === 'pending' ? 'When a policy asks for approval, the request appears here within seconds.' : null}
          </Empty>
        </Card>
      )}
      {items.length > 0 && (
        <Grid>
          <Grid.Col span={{ base: 12, md: 5 }}>
            <Stack gap="xs" role="list" aria-label={`${status} approvals`}>
              {items.map((a) => (
                <UnstyledButton
                  key={a.id}
                  role="listitem"
                  onClick={() => setSelectedId(a.id)}
                  aria-current={selected?.id === a.id}
                  data-testid="approval-item"
                >
                  <Card
                    withBorder
                    padding="sm"
                    style={{
                      borderColor: selected?.id === a.id ? 'var(--mantine-color-blue-6)' : undefined,
                    }}
                  >
                    <Group justify="space-between" wrap="nowrap">
                      <Text fw={600} lineClamp={2}>
                        {actionSentence(agentName(a.agent_id), a.action)}
                      </Text>
                      <StatusBadge status={a.status} style={{ flexShrink: 0 }} />
                    </Group>
                    <Text size="xs" c="dimmed">
                      asked {ago(a.requested_at)}
                      {a.status === 'pending' ? ` · expires ${dateTime(a.expires_at)}` : ''}
                    </Text>
                  </Card>
                </UnstyledButton>
              ))}
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 7 }}>
            {selected && (
              <ApprovalDetail key={selected.id} approval={selected} agentName={agentName(selected.agent_id)} />
            )}
          </Grid.Col>
        </Grid>
      )}
    </Stack>
  );
}

const statusColor = (s: string) =>
  s === 'approved' ? 'teal' : s === 'pending' ? 'yellow' : s === 'rejected' ? 'red' : 'gray';

function ApprovalDetail({ approval, agentName }: { approval: Approval; agentName: string }) {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const [comment, setComment] = useState('');
  const policy = useQuery({
    queryKey: ['policies', approval.policy_id],
    queryFn: () => api<Policy>(`/v1/policies/${approval.policy_id}`),
    enabled: Boolean(approval.policy_id) && can('policies:read'),
  });
  const decide = useMutation({
    mutationFn: (verdict: 'approve' | 'reject') =>
      api<Approval>(`/v1/approvals/${approval.id}/${verdict}`, {
        method: 'POST',
        body: comment ? { comment } : {},
      }),
    onSuccess: (a) => {
      notifications.show({
        color: a.status === 'approved' ? 'teal' : 'red',
        title: `Request ${a.status}`,
        message: `${agentName} was told.`,
      });
      qc.invalidateQueries({ queryKey: ['approvals'] });
    },
  });

  return (
    <Card withBorder aria-label="Approval details">
      <Stack>
        <Group justify="space-between">
          <Text fw={700} fz="lg" component="h2" m={0} style={{ flex: 1 }}>
            {actionSentence(agentName, approval.action)}
          </Text>
          <StatusBadge status={approval.status} variant="filled" />
        </Group>
        {approval.message && <Text>{approval.message}</Text>}
        <ActionDetails action={approval.action} />
        <Group gap="xl">
          <div>
            <Text size="xs" c="dimmed">
              Asked by policy
            </Text>
            {approval.policy_id ? (
              <AnchorLink to="/policies/$policyId" params={{ policyId: approval.policy_id }}>
                {policy.data?.name ?? approval.policy_id}
              </AnchorLink>
            ) : (
              <Text>—</Text>
            )}
          </div>
          <div>
            <Text size="xs" c="dimmed">
              Run
            </Text>
            {approval.run_id ? (
              <AnchorLink to="/runs/$runId" params={{ runId: approval.run_id }}>
                {approval.run_id}
              </AnchorLink>
            ) : (
              <Text>—</Text>
            )}
          </div>
          <div>
            <Text size="xs" c="dimmed">
              Requested
            </Text>
            <Text size="sm">{dateTime(approval.requested_at)}</Text>
          </div>
        </Group>
        {approval.status !== 'pending' && (
          <Alert color={statusColor(approval.status)} title={`Decided ${dateTime(approval.decided_at)}`}>
            {approval.decided_by ? `By ${approval.decided_by}` : ''}
            {approval.comment ? ` — “${approval.comment}”` : ''}
          </Alert>
        )}
        {approval.status === 'pending' && can('approvals:decide') && (
          <>
            <Textarea
              label="Comment (optional)"
              description="Shown to the team and recorded in the audit log"
              autosize
              minRows={2}
              value={comment}
              onChange={(e) => setComment(e.currentTarget.value)}
            />
            <FormError error={decide.error} />
            <Group>
              <Button
                color="teal"
                onClick={() => decide.mutate('approve')}
                loading={decide.isPending && decide.variables === 'approve'}
              >
                Approve
              </Button>
              <Button
                color="red"
                variant="light"
                onClick={() => decide.mutate('reject')}
                loading={decide.isPending && decide.variables === 'reject'}
              >
                Reject
              </Button>
            </Group>
          </>
        )}
        {approval.status === 'pending' && !can('approvals:decide') && (
          <Text size="sm" c="dimmed">
            Your role can see requests but not decide them.
          </Text>
        )}
      </Stack>
    </Card>
  );
}
