/**
 * Alert rules (`/v1/alerts`): a signal over a window in a scope, a threshold, who is told and how. Each
 * rule moves OK → FIRING → RESOLVED (and FIRING again), one notice per transition.
 *
 * @example
 * const body: CreateAlertBody = {
 *   name: 'SupportBot failing', scope: { type: 'agent', value: 'SupportBot' },
 *   signal: 'failure_rate', window_minutes: 60, threshold: 0.2,
 *   channels: [{ type: 'email' }, { type: 'webhook', webhook_id: 'whk_…' }],
 *   recipients: { roles: ['owner', 'admin'] }, cooldown_minutes: 30,
 * };
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';

export const AlertSignals = [
  /** failed / (completed + failed) runs in the window, 0..1 */
  'failure_rate',
  /** failed runs in the window */
  'failed_runs',
  /** p95 run latency in the window, ms */
  'latency_p95_ms',
  /** spend in the window, USD */
  'cost_usd',
  /** spend in the window ÷ the average spend of the same-length windows over the 7 days before it */
  'cost_spike',
  /** policy decisions that BLOCKed an action in the window */
  'blocked_actions',
  /** approvals still pending after `window_minutes` */
  'approvals_waiting',
  /** agents in scope that reported nothing for `window_minutes` */
  'agent_silent',
] as const;
export const AlertSignalSchema = z.enum(AlertSignals);
export type AlertSignal = z.infer<typeof AlertSignalSchema>;

export const AlertScopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('org') }),
  z.object({ type: z.literal('team'), value: z.string().min(1).max(200) }),
  z.object({ type: z.literal('tag'), value: z.string().min(1).max(200) }),
  /** An agent's id or name. */
  z.object({ type: z.literal('agent'), value: z.string().min(1).max(200) }),
]);
export type AlertScope = z.infer<typeof AlertScopeSchema>;

export const AlertChannelSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('in_app') }),
  z.object({ type: z.literal('email') }),
  /** One of the org's webhooks (`/v1/webhooks`): signed JSON, retried, through the egress guard. */
  z.object({ type: z.literal('webhook'), webhook_id: z.string().min(1).max(200) }),
  /** A webhook registered with `format: "slack"` (a Slack incoming-webhook URL). */
  z.object({ type: z.literal('slack'), webhook_id: z.string().min(1).max(200) }),
]);
export type AlertChannel = z.infer<typeof AlertChannelSchema>;

/** Who is told by in-app and email: members with one of these roles, or the members of a team. */
export const AlertRecipientsSchema = z.union([
  z.object({ roles: z.array(z.enum(['owner', 'admin', 'team_lead', 'member', 'viewer'])).min(1) }).strict(),
  z.object({ team_id: z.string().min(1).max(200) }).strict(),
]);

export const CreateAlertBody = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(1000).optional(),
  scope: AlertScopeSchema.default({ type: 'org' }),
  signal: AlertSignalSchema,
  /** 5 minutes to 7 days. Rollup signals count the whole hours the window touches. */
  window_minutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60),
  /** Fires when the signal's value is at or above it (a rate is 0..1, a spike a ratio: 2 = doubled). */
  threshold: z.number().min(0).max(1e12),
  channels: z.array(AlertChannelSchema).min(1).max(10),
  recipients: AlertRecipientsSchema.default({ roles: ['owner', 'admin'] }),
  /** After a RESOLVED, no new FIRING notice for this long. */
  cooldown_minutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .default(15),
  enabled: z.boolean().default(true),
});
export type CreateAlertBody = z.input<typeof CreateAlertBody>;

export const UpdateAlertBody = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(1000),
    scope: AlertScopeSchema,
    signal: AlertSignalSchema,
    window_minutes: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60),
    threshold: z.number().min(0).max(1e12),
    channels: z.array(AlertChannelSchema).min(1).max(10),
    recipients: AlertRecipientsSchema,
    cooldown_minutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60),
    enabled: z.boolean(),
  })
  .partial();
export type UpdateAlertBody = z.infer<typeof UpdateAlertBody>;

export const AlertStates = ['ok', 'firing', 'resolved'] as const;

export const AlertSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  scope: AlertScopeSchema,
  signal: AlertSignalSchema,
  window_minutes: z.number().int(),
  threshold: z.number(),
  channels: z.array(AlertChannelSchema),
  recipients: AlertRecipientsSchema,
  cooldown_minutes: z.number().int(),
  enabled: z.boolean(),
  state: z.enum(AlertStates),
  state_since: IsoDate.nullable(),
  last_value: z.number().nullable(),
  last_evaluated_at: IsoDate.nullable(),
  created_at: IsoDate,
  updated_at: IsoDate,
});
export type Alert = z.infer<typeof AlertSchema>;

export const AlertEventSchema = z.object({
  id: z.string(),
  alert_id: z.string(),
  /** `firing` and `resolved` are transitions; `test` is a test-fire, which changes no state. */
  kind: z.enum(['firing', 'resolved', 'test']),
  value: z.number().nullable(),
  threshold: z.number(),
  title: z.string(),
  created_at: IsoDate,
});
export type AlertEvent = z.infer<typeof AlertEventSchema>;
