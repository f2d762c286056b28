/**
 * One report: what it sends and when, run it now (optionally without sending) and open the result,
 * edit it, delete it, and its history with each run's HTML, PDF and delivery outcomes. An org whose plan
 * no longer includes reports sees the hub's sentence in a locked panel (LockedFeature).
 */

import type { Report, ReportRun } from '@agentops-hub/contracts';
import { Alert, Badge, Button, Card, Checkbox, Group, List, Popover, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconDownload, IconExternalLink, IconPencil, IconPlayerPlay, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useParams } from '@tanstack/react-router';
import { useState } from 'react';
import { ApiError, api, errorMessage, type Page, planLockOf } from '../../api/client';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { CreateDialog } from '../../components/CreateDialog';
import { LockedFeature } from '../../components/LockedFeature';
import { Money } from '../../components/Money';
import { Empty, ErrorState, Loading, NotFound, PageHeader, QueryStatus } from '../../components/states';
import { dateTime, num, usd } from '../../lib/format';
import { usePermissions } from '../../lib/permissions';
import { DeliveryBadge } from '../settings/DeliveryBadge';
import { ReportForm } from './ReportForm';
import { scheduleLabel, templateLabel } from './ReportsPage';

const deliveries = (n: number) => `${n} ${n === 1 ? 'delivery' : 'deliveries'}`;
const htmlUrl = (run: ReportRun) => `/v1/report-runs/${run.id}.html`;
const pdfUrl = (run: ReportRun) => `/v1/report-runs/${run.id}.pdf`;

export function ReportPage() {
  const { reportId } = useParams({ from: '/app/reports/$reportId' });
  const { can } = usePermissions();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deliver, setDeliver] = useState(false);
  const [latest, setLatest] = useState<ReportRun | null>(null);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const manage = can('reports:manage');

  const report = useQuery({ queryKey: ['reports', reportId], queryFn: () => api<Report>(`/v1/reports/${reportId}`) });
  const runs = useQuery({
    queryKey: ['reports', reportId, 'runs', cursor],
    queryFn: () => api<Page<ReportRun>>(`/v1/reports/${reportId}/runs`, { query: { limit: 20, cursor } }),
    refetchInterval: (q) => (planLockOf(q.state.error) ? false : 15_000),
  });
  const run = useMutation({
    mutationFn: () => api<ReportRun>(`/v1/reports/${reportId}/run`, { method: 'POST', body: { deliver } }),
    onSuccess: (r) => {
      setLatest(r);
      qc.invalidateQueries({ queryKey: ['reports'] });
    },
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });
  const remove = useMutation({
    mutationFn: () => api(`/v1/reports/${reportId}`, { method: 'DELETE' }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['reports'] });
      notifications.show({ message: 'Report deleted.' });
      navigate({ to: '/reports' });
    },
  });

  if (report.isPending) return <Loading />;
  const locked = planLockOf(report.error);
  if (locked)
    return (
      <Stack>
        <PageHeader title="Report" />
        <LockedFeature feature="Reports" sentence={locked} />
      </Stack>
    );
  if (report.error instanceof ApiError && report.error.status === 404) return <NotFound />;
  if (report.error) return <ErrorState error={report.error} retry={() => report.refetch()} />;
  const r = report.data;

  return (
    <Stack>
      <PageHeader
        title={r.name}
        description={`${templateLabel(r.template)} over ${r.range_days} days · ${scheduleLabel(r)} (${r.timezone})`}
        actions={
          manage && (
            <>
              <Button variant="default" leftSection={<IconPencil size={16} />} onClick={() => setEditing(true)}>
                Edit
              </Button>
              <Button
                variant="subtle"
                color="red"
                leftSection={<IconTrash size={16} />}
                onClick={() => setDeleting(true)}
              >
                Delete
              </Button>
            </>
          )
        }
      />
      <Card withBorder>
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <Stack gap={4}>
            <Text size="sm">
              <b>Sends to:</b> {r.recipients.length ? r.recipients.join(', ') : 'no email recipient'}
              {r.webhook_ids.length
                ? `, ${r.webhook_ids.length} webhook(s)`
                : ', every webhook subscribed to report.delivered'}
            </Text>
            <Text size="sm">
              <b>Formats:</b> {r.formats.map((f) => f.toUpperCase()).join(' and ')}
            </Text>
            <Text size="sm">
              <b>Next run:</b>{' '}
              {r.schedule ? (r.enabled ? dateTime(r.next_run_at) : 'the schedule is paused') : 'on demand only'}
              {r.cron && r.schedule !== r.cron ? ` (cron ${r.cron})` : ''}
            </Text>
            <Text size="sm">
              <b>Last run:</b> {dateTime(r.last_run_at)}
            </Text>
          </Stack>
          {manage && (
            <Stack gap="xs" align="flex-end">
              <Button leftSection={<IconPlayerPlay size={16} />} loading={run.isPending} onClick={() => run.mutate()}>
                Run now
              </Button>
              <Checkbox
                label="Also send it to its recipients"
                checked={deliver}
                onChange={(e) => setDeliver(e.currentTarget.checked)}
              />
            </Stack>
          )}
        </Group>
      </Card>
      {latest && (
        <Alert color="teal" title={`Report ready: ${latest.summary.runs} runs, ${usd(latest.summary.cost_usd)}`}>
          <Group gap="sm">
            <Button
              component="a"
              href={htmlUrl(latest)}
              target="_blank"
              rel="noopener"
              size="xs"
              leftSection={<IconExternalLink size={14} />}
              data-testid="open-report-html"
            >
              Open the HTML
            </Button>
            {latest.pdf_url && (
              <Button
                component="a"
                href={pdfUrl(latest)}
                download
                size="xs"
                variant="default"
                leftSection={<IconDownload size={14} />}
              >
                Download the PDF
              </Button>
            )}
            <Text size="sm">
              {latest.deliveries.length ? `${deliveries(latest.deliveries.length)} queued.` : 'Not sent.'}
            </Text>
          </Group>
        </Alert>
      )}
      <Card withBorder p={0}>
        <Title order={2} size="h4" p="md" pb={0}>
          History
        </Title>
        <QueryStatus query={runs} />
        {runs.data && runs.data.data.length === 0 && (
          <Empty title="Not run yet">{manage ? 'Run it now to see what it sends.' : 'Runs appear here.'}</Empty>
        )}
        {runs.data && runs.data.data.length > 0 && (
          <Table.ScrollContainer minWidth={860}>
            <Table verticalSpacing="sm" aria-label="Report history">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Run</Table.Th>
                  <Table.Th>Period</Table.Th>
                  <Table.Th>Figures</Table.Th>
                  <Table.Th w={120}>Status</Table.Th>
                  <Table.Th>Deliveries</Table.Th>
                  <Table.Th>Files</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {runs.data.data.map((x) => (
                  <Table.Tr key={x.id}>
                    <Table.Td>
                      <Text size="sm">{dateTime(x.created_at)}</Text>
                      <Text size="xs" c="dimmed">
                        {x.trigger === 'schedule' ? 'scheduled' : 'by hand'}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs">
                        {new Date(x.period_from).toLocaleDateString()} – {new Date(x.period_to).toLocaleDateString()}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {num(x.summary.runs)} runs · {Math.round(x.summary.success_rate * 100)}% ok ·{' '}
                        <Money value={x.summary.cost_usd} />
                      </Text>
                      {x.summary.insights[0] && (
                        <Text size="xs" c="dimmed" lineClamp={2}>
                          {x.summary.insights[0]}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Badge
                        variant="light"
                        color={x.status === 'failed' ? 'red' : x.status === 'delivered' ? 'teal' : 'gray'}
                      >
                        {x.status}
                      </Badge>
                      {x.error && (
                        <Text size="xs" c="red">
                          {x.error}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {x.deliveries.length === 0 ? (
                        <Text size="sm" c="dimmed">
                          none
                        </Text>
                      ) : (
                        <Popover width={360} withArrow>
                          <Popover.Target>
                            <Button size="xs" variant="subtle">
                              {deliveries(x.deliveries.length)}
                            </Button>
                          </Popover.Target>
                          <Popover.Dropdown>
                            <List spacing={4} size="sm" listStyleType="none">
                              {x.deliveries.map((d) => (
                                <List.Item key={d.id}>
                                  <Group gap="xs" wrap="nowrap">
                                    <DeliveryBadge status={d.status} />
                                    <Text size="xs">
                                      {d.channel} → {d.target}
                                    </Text>
                                  </Group>
                                  {d.last_error && (
                                    <Text size="xs" c="red">
                                      {d.last_error}
                                    </Text>
                                  )}
                                </List.Item>
                              ))}
                            </List>
                          </Popover.Dropdown>
                        </Popover>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button
                          component="a"
                          href={htmlUrl(x)}
                          target="_blank"
                          rel="noopener"
                          size="xs"
                          variant="light"
                          aria-label={`Open the HTML of the run of ${dateTime(x.created_at)}`}
                        >
                          HTML
                        </Button>
                        {x.pdf_url && (
                          <Button
                            component="a"
                            href={pdfUrl(x)}
                            download
                            size="xs"
                            variant="default"
                            aria-label={`Download the PDF of the run of ${dateTime(x.created_at)}`}
                          >
                            PDF
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {(cursors.length > 1 || runs.data?.next_cursor) && (
          <Group justify="space-between" p="md">
            <Button variant="default" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Newer
            </Button>
            <Button
              variant="default"
              disabled={!runs.data?.next_cursor}
              onClick={() => {
                const next = runs.data?.next_cursor;
                if (next) setCursors((c) => [...c, next]);
              }}
            >
              Older
            </Button>
          </Group>
        )}
      </Card>
      <CreateDialog opened={editing} onClose={() => setEditing(false)} title={`Edit ${r.name}`} size="lg">
        <ReportForm
          report={r}
          onDone={(x) => {
            setEditing(false);
            qc.setQueryData(['reports', reportId], x);
            qc.invalidateQueries({ queryKey: ['reports'] });
            notifications.show({ color: 'teal', message: 'Report saved.' });
          }}
        />
      </CreateDialog>
      <ConfirmDialog
        opened={deleting}
        onClose={() => setDeleting(false)}
        title="Delete this report?"
        confirmLabel="Delete report"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
      >
        <b>{r.name}</b>, its schedule and its history are deleted. Emails already sent stay sent.
      </ConfirmDialog>
    </Stack>
  );
}
