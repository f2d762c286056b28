/**
 * @module platform
 * Audit entries, notifications and webhooks.
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';

export const ActorSchema = z.object({
  type: z.enum(['user', 'api_key', 'system']),
  id: z.string().nullable(),
  name: z.string().nullable(),
});
export type Actor = z.infer<typeof ActorSchema>;

export const AuditEntrySchema = z.object({
  id: z.string(),
  seq: z.number().int(),
  at: IsoDate,
  actor: ActorSchema,
  action: z.string(),
  entity_type: z.string(),
  entity_id: z.string().nullable(),
  changes: z.unknown(),
  reason: z.string().nullable(),
  hash: z.string(),
  prev_hash: z.string(),
});
export const ListAuditQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  actor: z.string().optional(),
  entity_type: z.string().optional(),
  entity_id: z.string().optional(),
  action: z.string().optional(),
  format: z.enum(['json', 'jsonl', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const NotificationSchema = z.object({
  id: z.string(),
  type: z.string(),
  title: z.string(),
  body: z.string(),
  entity_type: z.string().nullable(),
  entity_id: z.string().nullable(),
  created_at: IsoDate,
  read_at: IsoDate.nullable(),
});

export const WebhookEvents = [
  'approval.requested',
  'approval.decided',
  'budget.threshold',
  'agent.paused',
  'kill_switch.changed',
  'policy.violation',
  'ingestion.error',
  'report.delivered',
  'alert.firing',
  'alert.resolved',
] as const;
export const WebhookEventSchema = z.enum(WebhookEvents);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;

export const CreateWebhookBody = z.object({
  url: z
    .string()
    .url()
    .max(2000)
    .refine((u) => /^https?:\/\//.test(u), 'an http(s) URL'),
  events: z.array(WebhookEventSchema).min(1),
  format: z.enum(['json', 'slack']).default('json'),
  /** When absent the hub generates one and shows it once. */
  secret: z.string().min(8).max(200).optional(),
  description: z.string().max(500).optional(),
});
export const WebhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(WebhookEventSchema),
  format: z.enum(['json', 'slack']),
  description: z.string(),
  active: z.boolean(),
  created_at: IsoDate,
});
export const WebhookDeliverySchema = z.object({
  id: z.string(),
  webhook_id: z.string(),
  event: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  response_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: IsoDate,
  delivered_at: IsoDate.nullable(),
  next_attempt_at: IsoDate.nullable(),
});

export const NotificationTopics = [
  'budget_thresholds',
  'policy_violations',
  'ingestion_errors',
  'approvals',
  'alerts',
] as const;
export const NotificationPreferencesSchema = z.object({
  in_app: z.record(z.enum(NotificationTopics), z.boolean()),
  email: z.record(z.enum(NotificationTopics), z.boolean()),
});
