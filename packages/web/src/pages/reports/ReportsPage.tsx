/**
 * Reports: scheduled and on-demand summaries, delivered by email and webhooks as HTML and PDF. On a plan
 * without reports the page stays, with the hub's sentence in a locked panel (LockedFeature).
 */

import type { Report } from '@agentops-hub/contracts';
import { Badge, Button, Card, Stack, Table, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconPlus } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api, type Page, planLockOf } from '../../api/client';
import { CreateDialog } from '../../components/CreateDialog';
import { LockedFeature } from '../../components/LockedFeature';
import { AnchorLink } from '../../components/links';
import { Empty, PageHeader, QueryStatus } from '../../components/states';
import { dateTime } from '../../lib/format';
import { REPORT_TEMPLATES } from '../../lib/labels';
import { usePermissions } from '../../lib/permissions';
import { ReportForm } from './ReportForm';

export function templateLabel(t: string) {
  return REPORT_TEMPLATES.find((x) => x.value === t)?.label ?? t;
}

export function scheduleLabel(r: Report) {
  if (!r.schedule) return 'On demand';
  if (r.schedule === 'weekly') return 'Weekly, Mondays 08:00';
  if (r.schedule === 'monthly') return 'Monthly, the 1st at 08:00';
  return r.schedule;
}

export function ReportsPage() {
  const { can } = usePermissions();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const reports = useQuery({
    queryKey: ['reports'],
    queryFn: () => api<Page<Report>>('/v1/reports', { query: { limit: 200 } }),
  });
  const locked = planLockOf(reports.error);
  const newButton = can('reports:manage') && !locked && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setOpen(true)}>
      New report
    </Button>
  );

  return (
    <Stack>
      <PageHeader
        title="Reports"
        description="Summaries of runs, costs and policy violations, sent on a schedule or when you ask."
        actions={newButton}
      />
      {locked ? <LockedFeature feature="Reports" sentence={locked} /> : <QueryStatus query={reports} />}
      {reports.data && reports.data.data.length === 0 && (
        <Card withBorder>
          <Empty title="No report yet" action={newButton}>
            A weekly summary every Monday morning is a good start: runs, success rate, cost and what changed.
          </Empty>
        </Card>
      )}
      {reports.data && reports.data.data.length > 0 && (
        <Card withBorder p={0}>
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="sm" highlightOnHover aria-label="Reports">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Report</Table.Th>
                  <Table.Th>Schedule</Table.Th>
                  <Table.Th>Recipients</Table.Th>
                  <Table.Th>Next run</Table.Th>
                  <Table.Th>Last run</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {reports.data.data.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>
                      <AnchorLink to="/reports/$reportId" params={{ reportId: r.id }} fw={600}>
                        {r.name}
                      </AnchorLink>
                      <Text size="xs" c="dimmed">
                        {templateLabel(r.template)} · {r.range_days} days · {r.formats.join(' + ').toUpperCase()}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{scheduleLabel(r)}</Text>
                      {r.schedule && !r.enabled && (
                        <Badge size="xs" color="gray">
                          paused
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {r.recipients.length ? r.recipients.join(', ') : '—'}
                        {r.webhook_ids.length ? ` + ${r.webhook_ids.length} webhook(s)` : ''}
                      </Text>
                    </Table.Td>
                    <Table.Td>{r.enabled && r.next_run_at ? dateTime(r.next_run_at) : '—'}</Table.Td>
                    <Table.Td>{dateTime(r.last_run_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <CreateDialog opened={open} onClose={() => setOpen(false)} title="New report" size="lg">
        <ReportForm
          onDone={(r) => {
            setOpen(false);
            qc.invalidateQueries({ queryKey: ['reports'] });
            notifications.show({ color: 'teal', message: `Report ${r.name} created.` });
            navigate({ to: '/reports/$reportId', params: { reportId: r.id } });
          }}
        />
      </CreateDialog>
    </Stack>
  );
}
