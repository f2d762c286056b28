/**
 * @module reports
 * Scheduled and on-demand reports: a template over a period, rendered as HTML (with charts) and PDF,
 * delivered by email and webhooks (`report.delivered`), every run kept with its files.
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';

export const ReportTemplates = ['weekly_summary', 'monthly_summary', 'cost_breakdown', 'policy_violations'] as const;
export const ReportTemplateSchema = z.enum(ReportTemplates);
export type ReportTemplate = z.infer<typeof ReportTemplateSchema>;

export const ReportFormats = ['html', 'pdf'] as const;
export const ReportFormatSchema = z.enum(ReportFormats);
export type ReportFormat = z.infer<typeof ReportFormatSchema>;

/**
 * `weekly` (Mondays 08:00), `monthly` (the 1st, 08:00), or a 5-field cron expression
 * (`minute hour day-of-month month day-of-week`), in the report's time zone. `null`: on demand only.
 * The hub checks the expression and answers 400 with the reason when it cannot read it.
 */
export const ReportScheduleSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .describe('"weekly", "monthly" or a 5-field cron expression, in the report\'s time zone');

const fields = {
  name: z.string().trim().min(1).max(200),
  template: ReportTemplateSchema,
  schedule: ReportScheduleSchema.nullable(),
  /** An IANA zone such as Europe/Paris; default: the org's. */
  timezone: z.string().min(1).max(64),
  /** Days the report covers, ending when it runs; default 7 (weekly, policy violations) or 30. */
  range_days: z.int().min(1).max(366),
  recipients: z.array(z.email().max(320)).max(50),
  webhook_ids: z.array(z.string().min(1).max(100)).max(20),
  formats: z
    .array(ReportFormatSchema)
    .min(1)
    .max(2)
    .refine((f) => new Set(f).size === f.length, { message: 'each format once' }),
  /** False pauses the schedule; the report can still be run by hand. */
  enabled: z.boolean(),
};

/**
 * `POST /v1/reports`.
 * @example
 * { "name": "Monday summary", "template": "weekly_summary", "schedule": "weekly",
 *   "recipients": ["founder@acme.example"], "webhook_ids": ["whk_…"], "formats": ["html", "pdf"] }
 */
export const CreateReportBody = z.object({
  name: fields.name,
  template: fields.template,
  schedule: fields.schedule.optional(),
  timezone: fields.timezone.optional(),
  range_days: fields.range_days.optional(),
  recipients: fields.recipients.default([]),
  webhook_ids: fields.webhook_ids.default([]),
  formats: fields.formats.default(['html', 'pdf']),
  enabled: fields.enabled.default(true),
});
export type CreateReportBody = z.infer<typeof CreateReportBody>;

/** `PATCH /v1/reports/{id}`: any field of the create body; `range_days: null` goes back to the default. */
export const UpdateReportBody = z.object({
  name: fields.name.optional(),
  template: fields.template.optional(),
  schedule: fields.schedule.optional(),
  timezone: fields.timezone.optional(),
  range_days: fields.range_days.nullable().optional(),
  recipients: fields.recipients.optional(),
  webhook_ids: fields.webhook_ids.optional(),
  formats: fields.formats.optional(),
  enabled: fields.enabled.optional(),
});
export type UpdateReportBody = z.infer<typeof UpdateReportBody>;

export const ReportSchema = z.object({
  id: z.string(),
  name: z.string(),
  template: ReportTemplateSchema,
  schedule: z.string().nullable(),
  /** The cron expression the schedule runs on (`weekly` → `0 8 * * 1`). */
  cron: z.string().nullable(),
  timezone: z.string(),
  range_days: z.number().int(),
  recipients: z.array(z.string()),
  webhook_ids: z.array(z.string()),
  formats: z.array(ReportFormatSchema),
  enabled: z.boolean(),
  next_run_at: IsoDate.nullable(),
  last_run_at: IsoDate.nullable(),
  created_by: z.string().nullable(),
  created_at: IsoDate,
  updated_at: IsoDate,
});
export type Report = z.infer<typeof ReportSchema>;

/**
 * `POST /v1/reports/{id}/run`: runs the report now. Without `from`/`to` it covers the report's
 * `range_days` ending now; with them, any range (ad hoc). `deliver: false` keeps the run without
 * sending it anywhere.
 */
export const RunReportBody = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    deliver: z.boolean().default(true),
  })
  .default({ deliver: true });
export type RunReportBody = z.infer<typeof RunReportBody>;

/** `POST /v1/reports/preview`: renders a template over a range as HTML, keeps and sends nothing. */
export const PreviewReportBody = z.object({
  template: ReportTemplateSchema,
  name: z.string().trim().min(1).max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  timezone: z.string().min(1).max(64).optional(),
});
export type PreviewReportBody = z.infer<typeof PreviewReportBody>;

export const ReportDeliverySchema = z.object({
  channel: z.enum(['email', 'webhook']),
  /** The recipient's address, or the webhook id. */
  target: z.string(),
  /** Email: queued | sent | failed | kept (no SMTP configured: kept in the outbox). Webhook: pending | delivered | failed. */
  status: z.string(),
  /** The outbox message or webhook delivery id. */
  id: z.string(),
  last_error: z.string().nullable(),
});

export const ReportRunSchema = z.object({
  id: z.string(),
  report_id: z.string(),
  report_name: z.string(),
  template: ReportTemplateSchema,
  trigger: z.enum(['manual', 'schedule']),
  /** The schedule occurrence this run is for (null for a manual run). */
  scheduled_for: IsoDate.nullable(),
  period_from: IsoDate,
  period_to: IsoDate,
  /** `delivered`: generated and handed to every channel (see `deliveries` for each one's outcome). */
  status: z.enum(['delivered', 'generated', 'failed']),
  error: z.string().nullable(),
  /** The headline figures, for lists and webhooks. */
  summary: z.object({
    runs: z.number().int(),
    failed: z.number().int(),
    success_rate: z.number(),
    cost_usd: z.number(),
    previous_cost_usd: z.number(),
    cost_change_pct: z.number().nullable(),
    blocked_actions: z.number().int(),
    pending_approvals: z.number().int(),
    insights: z.array(z.string()),
  }),
  deliveries: z.array(ReportDeliverySchema),
  html_url: z.string(),
  pdf_url: z.string().nullable(),
  pdf_bytes: z.number().int().nullable(),
  created_by: z.string().nullable(),
  created_at: IsoDate,
});
export type ReportRun = z.infer<typeof ReportRunSchema>;
