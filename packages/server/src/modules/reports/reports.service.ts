/**
 * Reports: definitions (template, schedule, recipients, webhooks), runs now or on schedule, history
 * and downloads. A run itself (figures, files, deliveries in one transaction) is `report-runner.ts`.
 *
 * Schedules live in the job runner under `report:<id>`; each fired occurrence is a `report.run` job
 * whose key carries the occurrence time, and a run is unique per (report, occurrence): a job that runs
 * twice sends once, and a hub that was down for several occurrences sends ONE run when it is back,
 * covering the latest period that ended.
 */
import type {
  CreateReportBody,
  PreviewReportBody,
  ReportFormat,
  ReportTemplate,
  RunReportBody,
  UpdateReportBody,
} from '@agentops-hub/contracts';
import { newId } from '../../db/ids.ts';
import type { ReportsTable } from '../../db/schema.ts';
import { type Caller, type OrgId, SYSTEM_ACTOR } from '../../platform/caller.ts';
import { AppError, invalid, notFound } from '../../platform/errors.ts';
import type { JobRunner } from '../../platform/jobs/job-runner.ts';
import { workForOrg } from '../../platform/jobs/org-jobs.system.ts';
import { assertBelowOrgCap } from '../../platform/org-caps.ts';
import type { WebhookService } from '../../platform/webhooks/webhooks.service.ts';
import { gatherReport } from './report-data.ts';
import { renderHtml } from './report-html.ts';
import { createReportRunner, type ReportRunnerDeps } from './report-runner.ts';
import {
  defaultRangeDays,
  isKnownTimezone,
  latestOccurrence,
  nextRunOf,
  occurrenceOf,
  parseSchedule,
  scheduleName,
} from './report-schedule.ts';
import { createReportStore } from './reports.store.ts';

export const REPORT_QUEUE = 'report.run';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/**
 * Runs by hand per org and hour. Each reads up to 400 days of figures, renders a PDF in the request and
 * keeps the run (HTML and PDF) in the database, and may email 50 addresses: the general rate limit
 * would let one org spend the hub's CPU and storage on it. Counted from the kept runs, so every hub
 * process of a cluster sees the same count.
 */
export const MANUAL_RUNS_PER_HOUR = 30;

interface ReportJob {
  org_id: string;
  report_id: string;
}

export interface ReportServiceDeps extends ReportRunnerDeps {
  jobs: Pick<JobRunner, 'work' | 'schedule' | 'unschedule'>;
  webhooks: Pick<WebhookService, 'emit' | 'list' | 'deliveryStatuses'>;
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function createReportService(deps: ReportServiceDeps) {
  const { db, clock } = deps;
  const store = createReportStore(db);
  const runner = createReportRunner(deps);

  function toReport(r: ReportsTable) {
    const cron = r.cron;
    const enabled = Number(r.enabled) === 1;
    let next: number | null = null;
    if (cron && enabled) {
      try {
        next = nextRunOf(cron, r.timezone, clock());
      } catch {
        next = null;
      }
    }
    return {
      id: r.id,
      name: r.name,
      template: r.template as ReportTemplate,
      schedule: r.schedule,
      cron,
      timezone: r.timezone,
      range_days: r.range_days === null ? defaultRangeDays(r.template, cron) : Number(r.range_days),
      recipients: JSON.parse(r.recipients) as string[],
      webhook_ids: JSON.parse(r.webhook_ids) as string[],
      formats: JSON.parse(r.formats) as ReportFormat[],
      enabled,
      next_run_at: iso(next),
      last_run_at: iso(r.last_run_at),
      created_by: r.created_by,
      created_at: iso(r.created_at)!,
      updated_at: iso(r.updated_at)!,
    };
  }

  async function mustGet(orgId: OrgId, id: string) {
    const row = await store.forOrg(orgId).get(id);
    if (!row) throw notFound('Report');
    return row;
  }

  /** Checks what the body names and resolves schedule → cron and the time zone. */
  async function resolve(
    orgId: OrgId,
    input: { schedule?: string | null; timezone?: string; webhook_ids?: string[] },
    current?: ReportsTable,
  ) {
    const timezone = input.timezone ?? current?.timezone ?? (await deps.sources.org(orgId)).timezone ?? 'UTC';
    if (!isKnownTimezone(timezone))
      throw invalid('timezone', `"${timezone}" is not an IANA time zone such as Europe/Paris`);
    const schedule = input.schedule === undefined ? (current?.schedule ?? null) : input.schedule;
    let cron: string | null = null;
    if (schedule !== null) {
      const parsed = parseSchedule(schedule, timezone);
      if (!parsed.ok) throw invalid('schedule', parsed.message);
      cron = parsed.cron;
    }
    if (input.webhook_ids?.length) {
      const known = new Set((await deps.webhooks.list(orgId)).map((w) => w.id));
      const missing = input.webhook_ids.filter((id) => !known.has(id));
      if (missing.length)
        throw new AppError('validation_failed', `webhook_ids: no webhook ${missing.join(', ')} in this organization`, {
          errors: missing.map((id) => ({
            path: `webhook_ids.${input.webhook_ids!.indexOf(id)}`,
            message: `no webhook ${id} in this organization`,
          })),
        });
    }
    return { timezone, schedule, cron };
  }

  /** Puts the report's schedule in the job runner, or takes it out. Idempotent. */
  async function syncSchedule(row: Pick<ReportsTable, 'id' | 'org_id' | 'cron' | 'timezone' | 'enabled'>) {
    if (row.cron && Number(row.enabled) === 1)
      await deps.jobs.schedule(scheduleName(row.id), row.cron, {
        timezone: row.timezone,
        queue: REPORT_QUEUE,
        payload: { org_id: row.org_id, report_id: row.id } satisfies ReportJob,
      });
    else await deps.jobs.unschedule(scheduleName(row.id));
  }

  // Scheduled occurrences: one run per (report, occurrence), covering the period that ended then.
  workForOrg<ReportJob>(
    deps.jobs,
    REPORT_QUEUE,
    (payload) => payload.org_id,
    async (orgId, payload, job) => {
      const report = await store.forOrg(orgId).get(payload.report_id);
      if (!report || Number(report.enabled) !== 1 || !report.cron) return;
      const due = occurrenceOf(job.singletonKey) ?? clock();
      // Back after downtime: the runner fired the first missed occurrence only; cover the latest period.
      const end = latestOccurrence(report.cron, report.timezone, due, clock());
      const days =
        report.range_days === null ? defaultRangeDays(report.template, report.cron) : Number(report.range_days);
      try {
        await runner.execute(orgId, report, {
          from: end - days * DAY_MS,
          to: end,
          deliver: true,
          trigger: 'schedule',
          scheduledFor: due,
          actor: { ...SYSTEM_ACTOR, name: 'Report schedule' },
        });
      } catch (err) {
        // Two workers on one occurrence: the unique (report, occurrence) index lets one run through.
        if (/unique|duplicate key/i.test(String((err as Error).message))) return;
        throw err;
      }
      deps.log.info({ reportId: report.id, due }, 'scheduled report sent');
    },
    { concurrency: 2, leaseMs: 5 * 60_000 },
  );

  return {
    async list(orgId: OrgId) {
      return (await store.forOrg(orgId).list()).map(toReport);
    },

    async get(orgId: OrgId, id: string) {
      return toReport(await mustGet(orgId, id));
    },

    async create(caller: Caller, body: CreateReportBody) {
      const t = clock();
      const { timezone, schedule, cron } = await resolve(caller.orgId, body);
      const row: ReportsTable = {
        id: newId('rpt', t),
        org_id: caller.orgId,
        name: body.name,
        template: body.template,
        schedule,
        cron,
        timezone,
        range_days: body.range_days ?? null,
        recipients: JSON.stringify([...new Set(body.recipients)]),
        webhook_ids: JSON.stringify([...new Set(body.webhook_ids)]),
        formats: JSON.stringify(body.formats),
        enabled: body.enabled ? 1 : 0,
        last_run_at: null,
        created_by: caller.actor.id ?? caller.actor.type,
        created_at: t,
        updated_at: t,
      };
      await db.transaction().execute(async (trx) => {
        const reports = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('reports', reports.count);
        await reports.insert(row);
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'report.created',
            entityType: 'report',
            entityId: row.id,
            changes: toReport(row),
          },
          t,
        );
      });
      await syncSchedule(row);
      return toReport(row);
    },

    async update(caller: Caller, id: string, patch: UpdateReportBody) {
      const t = clock();
      const before = await mustGet(caller.orgId, id);
      const { timezone, schedule, cron } = await resolve(caller.orgId, patch, before);
      const set: Partial<ReportsTable> = { timezone, schedule, cron, updated_at: t };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.template !== undefined) set.template = patch.template;
      if (patch.range_days !== undefined) set.range_days = patch.range_days;
      if (patch.recipients !== undefined) set.recipients = JSON.stringify([...new Set(patch.recipients)]);
      if (patch.webhook_ids !== undefined) set.webhook_ids = JSON.stringify([...new Set(patch.webhook_ids)]);
      if (patch.formats !== undefined) set.formats = JSON.stringify(patch.formats);
      if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
      const after: ReportsTable = { ...before, ...set };
      await db.transaction().execute(async (trx) => {
        await store.forOrg(caller.orgId, trx).update(id, set);
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'report.updated',
            entityType: 'report',
            entityId: id,
            changes: { before: toReport(before), after: toReport(after) },
          },
          t,
        );
      });
      await syncSchedule(after);
      return toReport(after);
    },

    async remove(caller: Caller, id: string) {
      const row = await mustGet(caller.orgId, id);
      await db.transaction().execute(async (trx) => {
        await store.forOrg(caller.orgId, trx).remove(id);
        await deps.audit.append(
          trx,
          caller.orgId,
          { actor: caller.actor, action: 'report.deleted', entityType: 'report', entityId: id, changes: toReport(row) },
          clock(),
        );
      });
      await deps.jobs.unschedule(scheduleName(id));
    },

    /** Runs the report now over its range ending now, or over `from`/`to`; answers the kept run. */
    async run(caller: Caller, id: string, body: RunReportBody) {
      const report = await mustGet(caller.orgId, id);
      const t = clock();
      const to = body.to ? Date.parse(body.to) : t;
      const days =
        report.range_days === null ? defaultRangeDays(report.template, report.cron) : Number(report.range_days);
      const from = body.from ? Date.parse(body.from) : to - days * DAY_MS;
      if (!(from < to)) throw invalid('from', 'must be before to');
      if (to - from > 400 * DAY_MS) throw invalid('from', 'a report covers at most 400 days');
      const recent = await store.forOrg(caller.orgId).manualRunsSince(t - HOUR_MS);
      if (recent.count >= MANUAL_RUNS_PER_HOUR)
        throw new AppError(
          'rate_limited',
          `An organization can run reports by hand at most ${MANUAL_RUNS_PER_HOUR} times an hour; scheduled runs are not affected.`,
          { retryAfterS: Math.max(1, Math.ceil(((recent.oldest ?? t) + HOUR_MS - t) / 1000)) },
        );
      const run = await runner.execute(caller.orgId, report, {
        from,
        to,
        deliver: body.deliver,
        trigger: 'manual',
        scheduledFor: null,
        actor: caller.actor,
      });
      return run!;
    },

    async runs(orgId: OrgId, reportId: string, page: { limit: number; cursor?: string }) {
      const report = await mustGet(orgId, reportId);
      const rows = await store.forOrg(orgId).listRuns(reportId, page.limit + 1, page.cursor);
      const data = rows.slice(0, page.limit);
      return {
        data: await Promise.all(data.map((r) => runner.toRun(orgId, r, report.name))),
        next_cursor: rows.length > page.limit ? data[data.length - 1]!.id : null,
      };
    },

    async getRun(orgId: OrgId, runId: string) {
      const head = await store.forOrg(orgId).getRunHead(runId);
      if (!head) throw notFound('Report run');
      const report = await store.forOrg(orgId).get(head.report_id);
      return runner.toRun(orgId, head, report?.name ?? '');
    },

    /** The kept HTML or PDF of a run, exactly as it was delivered. */
    async runFile(orgId: OrgId, runId: string, part: 'html' | 'pdf') {
      const row = await store.forOrg(orgId).getRunBody(runId, part);
      if (!row) throw notFound('Report run');
      if (part === 'html') return { body: row.html ?? '', type: 'text/html; charset=utf-8' };
      if (!row.pdf) throw notFound('PDF of this report run');
      return { body: Buffer.from(row.pdf, 'base64'), type: 'application/pdf' };
    },

    /** Renders a template over a range as HTML (for the console's preview): nothing is kept or sent. */
    async preview(orgId: OrgId, body: PreviewReportBody) {
      const t = clock();
      const to = body.to ? Date.parse(body.to) : t;
      const from = body.from ? Date.parse(body.from) : to - defaultRangeDays(body.template, null) * DAY_MS;
      if (!(from < to)) throw invalid('from', 'must be before to');
      if (to - from > 400 * DAY_MS) throw invalid('from', 'a report covers at most 400 days');
      if (body.timezone && !isKnownTimezone(body.timezone))
        throw invalid('timezone', `"${body.timezone}" is not an IANA time zone such as Europe/Paris`);
      await runner.settle();
      const data = await gatherReport(deps.sources, orgId, {
        template: body.template,
        name: body.name ?? 'Preview',
        from,
        to,
        timezone: body.timezone,
        now: t,
      });
      return renderHtml(data);
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
