/**
 * Create or edit a report: template, schedule (weekly, monthly, a cron expression or on demand), time
 * zone, range, recipients, webhooks and formats, with a preview rendered by the hub (nothing is kept).
 */

import type { Report, ReportTemplate, Webhook } from '@agentops-hub/contracts';
import {
  Button,
  Checkbox,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { IconEye } from '@tabler/icons-react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useMemo, useState } from 'react';
import { ApiError, api, errorMessage, type Page } from '../../api/client';
import { REPORT_TEMPLATES } from '../../lib/labels';
import { usePermissions } from '../../lib/permissions';
import { timeZones } from '../../lib/time-zones';

/** `POST /v1/reports/preview` answers HTML, not JSON. */
export async function previewReport(body: {
  template: ReportTemplate;
  name?: string;
  timezone?: string;
  from?: string;
}) {
  const res = await fetch('/v1/reports/preview', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/html' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  if (!res.ok) {
    let p: Record<string, unknown> = {};
    try {
      p = JSON.parse(text);
    } catch {}
    throw new ApiError(res.status, String(p.code ?? 'internal'), String(p.detail ?? res.statusText));
  }
  return text;
}

/** The HTML of a report, sandboxed: no script runs, nothing reaches the console. */
export function ReportFrame({ html, title }: { html: string; title: string }) {
  return (
    <iframe
      title={title}
      srcDoc={html}
      sandbox=""
      style={{
        width: '100%',
        height: '70vh',
        border: '1px solid var(--mantine-color-default-border)',
        borderRadius: 8,
        background: '#fff',
      }}
    />
  );
}

type ScheduleKind = 'weekly' | 'monthly' | 'cron' | 'none';

function scheduleKind(s: string | null | undefined): ScheduleKind {
  if (!s) return 'none';
  if (s === 'weekly' || s === 'monthly') return s;
  return 'cron';
}

export function ReportForm({ report, onDone }: { report?: Report; onDone: (r: Report) => void }) {
  const { can } = usePermissions();
  const webhooks = useQuery({
    queryKey: ['webhooks'],
    queryFn: () => api<Page<Webhook>>('/v1/webhooks'),
    enabled: can('integrations:read'),
  });
  const [name, setName] = useState(report?.name ?? '');
  const [template, setTemplate] = useState<ReportTemplate>(report?.template ?? 'weekly_summary');
  const [kind, setKind] = useState<ScheduleKind>(report ? scheduleKind(report.schedule) : 'weekly');
  const [cron, setCron] = useState(
    report && scheduleKind(report.schedule) === 'cron' ? (report.schedule ?? '') : '0 8 * * 1',
  );
  const [timezone, setTimezone] = useState(report?.timezone ?? '');
  const zones = useMemo(() => timeZones(report?.timezone), [report?.timezone]);
  const [rangeDays, setRangeDays] = useState<number | string>(report?.range_days ?? '');
  const [recipients, setRecipients] = useState<string[]>(report?.recipients ?? []);
  const [webhookIds, setWebhookIds] = useState<string[]>(report?.webhook_ids ?? []);
  const [formats, setFormats] = useState<string[]>(report?.formats ?? ['html', 'pdf']);
  const [enabled, setEnabled] = useState(report?.enabled ?? true);
  const [preview, setPreview] = useState<string | null>(null);

  const schedule = kind === 'none' ? null : kind === 'cron' ? cron.trim() : kind;
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: name.trim(),
        template,
        schedule,
        ...(timezone.trim() ? { timezone: timezone.trim() } : {}),
        range_days: rangeDays === '' ? (report ? null : undefined) : Number(rangeDays),
        recipients,
        webhook_ids: webhookIds,
        formats,
        enabled,
      };
      return report
        ? api<Report>(`/v1/reports/${report.id}`, { method: 'PATCH', body })
        : api<Report>('/v1/reports', { method: 'POST', body });
    },
    onSuccess: onDone,
  });
  const previewMut = useMutation({
    mutationFn: () =>
      previewReport({ template, name: name.trim() || undefined, timezone: timezone.trim() || undefined }),
    onSuccess: setPreview,
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
          placeholder="e.g. Monday summary"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          data-autofocus
        />
        <Select
          label="Template"
          data={REPORT_TEMPLATES.map((t) => ({ value: t.value, label: t.label }))}
          value={template}
          onChange={(v) => setTemplate((v as ReportTemplate) ?? 'weekly_summary')}
          allowDeselect={false}
        />
        <Group grow align="flex-start">
          <Select
            label="Schedule"
            data={[
              { value: 'weekly', label: 'Weekly (Mondays 08:00)' },
              { value: 'monthly', label: 'Monthly (the 1st, 08:00)' },
              { value: 'cron', label: 'Custom (cron expression)' },
              { value: 'none', label: 'On demand only' },
            ]}
            value={kind}
            onChange={(v) => setKind((v as ScheduleKind) ?? 'weekly')}
            allowDeselect={false}
          />
          {kind === 'cron' && (
            <TextInput
              label="Cron expression"
              description="minute hour day-of-month month day-of-week"
              required
              ff="monospace"
              value={cron}
              onChange={(e) => setCron(e.currentTarget.value)}
            />
          )}
        </Group>
        <Group grow align="flex-start">
          <Select
            label="Time zone"
            description="Default: the organization's"
            placeholder="The organization's"
            searchable
            clearable
            data={zones}
            value={timezone || null}
            onChange={(v) => setTimezone(v ?? '')}
          />
          <NumberInput
            label="Days covered"
            description={`Default: ${REPORT_TEMPLATES.find((t) => t.value === template)?.days ?? 7}`}
            min={1}
            max={366}
            allowDecimal={false}
            value={rangeDays}
            onChange={setRangeDays}
          />
        </Group>
        <TagsInput
          label="Email recipients"
          description="Press Enter after each address"
          placeholder="founder@example.com"
          value={recipients}
          onChange={setRecipients}
        />
        {can('integrations:read') && (
          <MultiSelect
            label="Webhooks"
            description="None chosen: every webhook subscribed to report.delivered"
            placeholder={webhooks.data?.data.length ? 'Choose webhooks' : 'No webhook yet'}
            data={(webhooks.data?.data ?? []).map((w) => ({ value: w.id, label: w.description || w.url }))}
            value={webhookIds}
            onChange={setWebhookIds}
          />
        )}
        <Checkbox.Group label="Formats" value={formats} onChange={setFormats} withAsterisk>
          <Group mt="xs">
            <Checkbox value="html" label="HTML (the email body)" />
            <Checkbox value="pdf" label="PDF (attached)" />
          </Group>
        </Checkbox.Group>
        <Switch
          label="Schedule enabled"
          description="Off pauses the schedule; you can still run the report by hand"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        {(save.error || previewMut.error) && (
          <Text c="red" size="sm" role="alert">
            {errorMessage(save.error ?? previewMut.error)}
          </Text>
        )}
        <Group justify="space-between">
          <Button
            variant="default"
            leftSection={<IconEye size={16} />}
            loading={previewMut.isPending}
            onClick={() => previewMut.mutate()}
          >
            Preview
          </Button>
          <Button
            type="submit"
            loading={save.isPending}
            disabled={!name.trim() || formats.length === 0 || (kind === 'cron' && !cron.trim())}
          >
            {report ? 'Save report' : 'Create report'}
          </Button>
        </Group>
      </Stack>
      <Modal opened={preview !== null} onClose={() => setPreview(null)} title="Preview" size="80rem" centered>
        {preview !== null && <ReportFrame html={preview} title="Report preview" />}
      </Modal>
    </form>
  );
}
