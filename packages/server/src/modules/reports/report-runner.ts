/**
 * One report run: read the figures (after letting enrichment catch up), render the HTML and the PDF,
 * then in ONE transaction keep the run with both files and queue its deliveries: one email per
 * recipient through the mailer (HTML body, PDF attached) and one signed `report.delivered` webhook
 * delivery per target. A run exists exactly when its deliveries do; each channel is retried by its own
 * job, and a run shows each delivery's outcome as the mailer and webhooks report it.
 */
import type { ReportFormat, ReportRun, ReportTemplate } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { Database, ReportsTable } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import type { Log } from '../../platform/jobs/job-runner.ts';
import type { Mailer } from '../../platform/notifications/mailer.ts';
import type { WebhookService } from '../../platform/webhooks/webhooks.service.ts';
import { gatherReport } from './report-data.ts';
import { change, int, pct, periodText, usd } from './report-format.ts';
import { renderHtml, renderText } from './report-html.ts';
import { renderPdf } from './report-pdf.ts';
import type { ReportSources } from './report-sources.ts';
import type { ReportData } from './report-types.ts';
import { createReportStore, type ReportRunHead } from './reports.store.ts';

/** Longest wait for enrichment before reading figures: a report never hangs behind a large backlog. */
const SETTLE_MAX_MS = 5_000;

interface StoredDelivery {
  channel: 'email' | 'webhook';
  target: string;
  id: string;
}

export interface ReportRunnerDeps {
  db: Kysely<Database>;
  audit: Pick<AuditStore, 'append'>;
  mailer: Pick<Mailer, 'queue' | 'statuses'>;
  webhooks: Pick<WebhookService, 'emit' | 'deliveryStatuses'>;
  sources: ReportSources;
  publicUrl: string;
  /** Runs before figures are read, so what was ingested a moment ago is counted (enrichment catch-up). */
  settle?: () => Promise<void>;
  clock: () => number;
  log: Log;
}

export interface RunOptions {
  from: number;
  to: number;
  deliver: boolean;
  trigger: 'manual' | 'schedule';
  /** The schedule occurrence (unique per report), or null for a manual run. */
  scheduledFor: number | null;
  actor: Caller['actor'];
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function createReportRunner(deps: ReportRunnerDeps) {
  const { db, clock } = deps;
  const store = createReportStore(db);
  const base = deps.publicUrl.replace(/\/+$/, '');
  const runUrl = (id: string, ext: 'html' | 'pdf') => `${base}/v1/report-runs/${id}.${ext}`;

  async function settle() {
    if (!deps.settle) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(r, SETTLE_MAX_MS);
      timer.unref();
    });
    try {
      await Promise.race([deps.settle(), late]);
    } catch (err) {
      // Figures a moment old are better than no report: enrichment retries the pass itself.
      deps.log.warn({ err }, 'enrichment catch-up before a report failed');
    } finally {
      clearTimeout(timer);
    }
  }

  async function toRun(orgId: OrgId, r: ReportRunHead, reportName: string): Promise<ReportRun> {
    const stored = JSON.parse(r.deliveries) as StoredDelivery[];
    const emails = stored.filter((d) => d.channel === 'email').map((d) => d.id);
    const hooks = stored.filter((d) => d.channel === 'webhook').map((d) => d.id);
    const [mailState, hookState] = await Promise.all([
      deps.mailer.statuses(orgId, emails),
      deps.webhooks.deliveryStatuses(orgId, hooks),
    ]);
    return {
      id: r.id,
      report_id: r.report_id,
      report_name: reportName,
      template: r.template as ReportTemplate,
      trigger: r.trigger as 'manual' | 'schedule',
      scheduled_for: iso(r.scheduled_for),
      period_from: iso(r.period_from)!,
      period_to: iso(r.period_to)!,
      status: r.status as ReportRun['status'],
      error: r.error,
      summary: JSON.parse(r.summary),
      deliveries: stored.map((d) => {
        if (d.channel === 'email') {
          const s = mailState.get(d.id);
          return { ...d, status: s?.status ?? 'unknown', last_error: s?.last_error ?? null };
        }
        const s = hookState.get(d.id);
        return {
          ...d,
          target: s?.webhook_id ?? d.target,
          status: s?.status ?? 'unknown',
          last_error: s?.last_error ?? null,
        };
      }),
      html_url: runUrl(r.id, 'html'),
      pdf_url: r.pdf_bytes === null ? null : runUrl(r.id, 'pdf'),
      pdf_bytes: r.pdf_bytes,
      created_by: r.created_by,
      created_at: iso(r.created_at)!,
    };
  }

  function summaryOf(d: ReportData) {
    return {
      runs: d.totals.runs,
      failed: d.totals.failed,
      success_rate: d.totals.success_rate,
      cost_usd: d.totals.cost_usd,
      previous_cost_usd: d.totals.prev_cost_usd,
      cost_change_pct: d.totals.cost_change_pct === null ? null : Math.round(d.totals.cost_change_pct * 10) / 10,
      blocked_actions: d.violations.blocks,
      pending_approvals: d.approvals.pending.length,
      insights: d.insights,
    };
  }

  /** One line of figures, for subjects and chat messages. */
  function figures(d: ReportData) {
    const t = d.totals;
    const finished = t.completed + t.failed;
    if (d.template === 'policy_violations')
      return `${int(d.violations.blocks)} blocked, ${int(d.violations.approvals_required)} sent for approval, ${int(d.approvals.pending.length)} waiting`;
    const cost = `${usd(t.cost_usd)}${t.cost_change_pct === null ? '' : ` (${change(t.cost_change_pct)})`}`;
    return `${int(t.runs)} runs, ${finished ? `${pct(t.success_rate)} success` : 'none finished'}, ${cost}`;
  }

  async function execute(orgId: OrgId, report: ReportsTable, opts: RunOptions): Promise<ReportRun | null> {
    await settle();
    const t = clock();
    const formats = JSON.parse(report.formats) as ReportFormat[];
    const data = await gatherReport(deps.sources, orgId, {
      template: report.template as ReportTemplate,
      name: report.name,
      from: opts.from,
      to: opts.to,
      timezone: report.timezone,
      now: t,
    });
    const id = newId('rpr', t);
    const links = { html: runUrl(id, 'html'), pdf: runUrl(id, 'pdf') };
    const html = renderHtml(data, links);
    const pdf = await renderPdf(data);
    const recipients = JSON.parse(report.recipients) as string[];
    const webhookIds = JSON.parse(report.webhook_ids) as string[];
    const summary = summaryOf(data);
    const period = periodText(data.period.from, data.period.to, data.timezone);
    const subject = `${report.name}: ${figures(data)}`;

    const inserted = await db.transaction().execute(async (trx) => {
      const runs = store.forOrg(orgId, trx);
      if (opts.scheduledFor !== null && (await runs.runForOccurrence(report.id, opts.scheduledFor))) return false;
      const deliveries: StoredDelivery[] = [];
      if (opts.deliver) {
        for (const to of recipients) {
          const mailId = await deps.mailer.queue(
            {
              to,
              subject,
              text: renderText(data, links),
              // Without the html format the message is the text part with the PDF attached.
              ...(formats.includes('html') ? { html } : {}),
              orgId,
              attachments: formats.includes('pdf')
                ? [
                    {
                      filename: `${slug(report.name)}-${dayOf(opts.to)}.pdf`,
                      content: pdf,
                      contentType: 'application/pdf',
                    },
                  ]
                : [],
            },
            { exec: trx },
          );
          deliveries.push({ channel: 'email', target: to, id: mailId });
        }
        const body = [
          figures(data),
          period,
          ...data.insights.map((i) => `\u2022 ${i}`),
          `Full report: ${links.html}`,
        ].join('\n');
        const hookDeliveries = await deps.webhooks.emit(
          orgId,
          'report.delivered',
          {
            title: `${report.name} (${data.orgName})`,
            body,
            report: { id: report.id, name: report.name, template: report.template },
            run: {
              id,
              trigger: opts.trigger,
              period_from: iso(data.period.from),
              period_to: iso(data.period.to),
              html_url: links.html,
              pdf_url: links.pdf,
            },
            summary,
          },
          // A report with chosen webhooks goes to those; one without, to every webhook subscribed to the event.
          { exec: trx, ...(webhookIds.length ? { webhookIds } : {}) },
        );
        // The webhook of each delivery is read back with its status (see toRun).
        for (const dlv of hookDeliveries) deliveries.push({ channel: 'webhook', target: '', id: dlv });
      }
      await runs.insertRun({
        id,
        report_id: report.id,
        template: report.template,
        trigger: opts.trigger,
        scheduled_for: opts.scheduledFor,
        period_from: data.period.from,
        period_to: data.period.to,
        status: opts.deliver && (recipients.length > 0 || deliveries.length > 0) ? 'delivered' : 'generated',
        error: null,
        summary: JSON.stringify(summary),
        deliveries: JSON.stringify(deliveries),
        html,
        pdf: pdf.toString('base64'),
        created_by: opts.actor.id ?? opts.actor.type,
        created_at: t,
      });
      await runs.update(report.id, { last_run_at: t });
      if (opts.trigger === 'manual')
        await deps.audit.append(
          trx,
          orgId,
          {
            actor: opts.actor,
            action: 'report.run',
            entityType: 'report',
            entityId: report.id,
            changes: {
              run_id: id,
              from: iso(data.period.from),
              to: iso(data.period.to),
              recipients,
              webhook_ids: webhookIds,
            },
          },
          t,
        );
      return true;
    });
    if (!inserted) return null;
    const head = await store.forOrg(orgId).getRunHead(id);
    return toRun(orgId, head!, report.name);
  }

  return { execute, toRun, settle };
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'report';
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
