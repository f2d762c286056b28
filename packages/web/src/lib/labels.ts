/**
 * Words for the values the API uses (notification topics, webhook events, report templates), checked
 * against the contracts' own lists: a value the hub adds or drops is a compile error here.
 */
import type { NotificationTopics, ReportTemplate, WebhookEvent } from '@agentops-hub/contracts';

export const NOTIFICATION_TOPICS = [
  { value: 'approvals', label: 'Approvals', hint: 'A request waits for a person, or was decided' },
  { value: 'budget_thresholds', label: 'Budget thresholds', hint: 'Spend reached a threshold of a budget' },
  { value: 'policy_violations', label: 'Policy violations', hint: 'A policy blocked an action' },
  { value: 'ingestion_errors', label: 'Ingestion errors', hint: 'Runs or events the hub could not accept' },
  { value: 'alerts', label: 'Alerts', hint: 'An alert rule fired or resolved' },
] as const satisfies readonly { value: (typeof NotificationTopics)[number]; label: string; hint: string }[];
export type NotificationTopic = (typeof NOTIFICATION_TOPICS)[number]['value'];

export const WEBHOOK_EVENTS = [
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
] as const satisfies readonly WebhookEvent[];

/** Fails to compile when the hub has a webhook event or notification topic this console does not list. */
type Unlisted =
  | Exclude<WebhookEvent, (typeof WEBHOOK_EVENTS)[number]>
  | Exclude<(typeof NotificationTopics)[number], NotificationTopic>;
export const EVERY_VALUE_LISTED: [Unlisted] extends [never] ? true : never = true;

export const REPORT_TEMPLATES = [
  { value: 'weekly_summary', label: 'Weekly summary', days: 7 },
  { value: 'monthly_summary', label: 'Monthly summary', days: 30 },
  { value: 'cost_breakdown', label: 'Cost breakdown', days: 30 },
  { value: 'policy_violations', label: 'Policy violations', days: 7 },
] as const satisfies readonly { value: ReportTemplate; label: string; days: number }[];
