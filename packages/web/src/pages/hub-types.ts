/**
 * Wire shapes of the pages added in the console's second part (agents, costs, audit, settings, reports,
 * governance), as the hub's API returns them (packages/contracts). Shared shapes live in api/types.ts.
 */
import type { Run } from '../api/types';

export interface Provider {
  kind: string;
  external_id: string | null;
  /** Names of the stored secret fields, never their values. */
  connection_fields: string[];
}

export interface AgentFull {
  id: string;
  name: string;
  description: string;
  type: string | null;
  team_id: string | null;
  tags: string[];
  environment: 'prod' | 'staging' | 'test';
  status: 'active' | 'paused';
  provider: Provider | null;
  auto_registered: boolean;
  created_at: string;
  updated_at: string;
}

export interface AgentStatsPoint {
  at: string;
  runs: number;
  completed: number;
  failed: number;
  failure_rate: number | null;
  latency_avg_ms: number | null;
  latency_p95_ms: number | null;
  cost_usd: number;
}

export interface AgentStats {
  agent: { id: string; name: string };
  from: string;
  to: string;
  bucket: 'hour' | 'day';
  runs: number;
  completed: number;
  failed: number;
  failure_rate: number | null;
  latency_avg_ms: number | null;
  latency_p95_ms: number | null;
  cost_usd: number;
  series: AgentStatsPoint[];
  latest_runs: Run[];
}

export type CostGroupBy = 'agent' | 'team' | 'model' | 'day' | 'week' | 'month';

export interface CostRow {
  key: string;
  name: string;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  llm_calls: number;
  runs: number;
  unpriced_calls: number;
  share: number;
}

export interface Costs {
  group_by: CostGroupBy;
  from: string;
  to: string;
  timezone: string;
  data: CostRow[];
  total_usd: number;
  unpriced_calls: number;
}

export interface BudgetFull {
  id: string;
  name: string;
  scope: 'agent' | 'team' | 'org';
  scope_id: string | null;
  scope_name: string | null;
  amount_usd: number;
  period: 'day' | 'week' | 'month';
  thresholds: number[];
  on_exceed: 'notify' | 'throttle' | 'pause';
  spent_usd: number;
  percent: number;
  period_start: string;
  period_end: string;
  state: 'ok' | 'exceeded' | 'throttling' | 'pausing';
}

export interface AuditEntry {
  id: string;
  seq: number;
  at: string;
  actor: { type: 'user' | 'api_key' | 'system'; id: string | null; name: string | null };
  action: string;
  entity_type: string;
  entity_id: string | null;
  changes: unknown;
  reason: string | null;
  hash: string;
  prev_hash: string;
}

export interface AuditVerify {
  ok: boolean;
  entries: number;
  head_hash: string | null;
  /** Present when the chain is broken. */
  broken_at?: unknown;
  [k: string]: unknown;
}

export interface Org {
  id: string;
  name: string;
  logo_url: string | null;
  billing_email: string | null;
  plan: 'starter' | 'growth' | 'scale';
  region: string;
  timezone: string;
  locale: string;
  industry: string | null;
  settings: { auto_register_agents: boolean; default_deny: boolean };
  created_at: string;
}

export interface OrgPlan {
  plan: string;
  limits: { agents: number; events_per_month: number; retention_days: number; members: number; features: string[] };
  features: Record<string, boolean>;
}

export interface Team {
  id: string;
  name: string;
  description: string;
  member_ids: string[];
  created_at: string;
}

export const NOTIFICATION_TOPICS = [
  { value: 'approvals', label: 'Approvals', hint: 'A request waits for a person, or was decided' },
  { value: 'budget_thresholds', label: 'Budget thresholds', hint: 'Spend reached a threshold of a budget' },
  { value: 'policy_violations', label: 'Policy violations', hint: 'A policy blocked an action' },
  { value: 'ingestion_errors', label: 'Ingestion errors', hint: 'Runs or events the hub could not accept' },
] as const;
export type NotificationTopic = (typeof NOTIFICATION_TOPICS)[number]['value'];

export interface NotificationPreferences {
  in_app: Record<NotificationTopic, boolean>;
  email: Record<NotificationTopic, boolean>;
}

export interface HubNotification {
  id: string;
  type: string;
  title: string;
  body: string;
  entity_type: string | null;
  entity_id: string | null;
  created_at: string;
  read_at: string | null;
}

export const WEBHOOK_EVENTS = [
  'approval.requested',
  'approval.decided',
  'budget.threshold',
  'agent.paused',
  'kill_switch.changed',
  'policy.violation',
  'ingestion.error',
  'report.delivered',
] as const;

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  format: 'json' | 'slack';
  description: string;
  active: boolean;
  created_at: string;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  response_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  next_attempt_at: string | null;
}

export interface OutboxEntry {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export const REPORT_TEMPLATES = [
  { value: 'weekly_summary', label: 'Weekly summary', days: 7 },
  { value: 'monthly_summary', label: 'Monthly summary', days: 30 },
  { value: 'cost_breakdown', label: 'Cost breakdown', days: 30 },
  { value: 'policy_violations', label: 'Policy violations', days: 7 },
] as const;
export type ReportTemplate = (typeof REPORT_TEMPLATES)[number]['value'];

export interface Report {
  id: string;
  name: string;
  template: ReportTemplate;
  schedule: string | null;
  cron: string | null;
  timezone: string;
  range_days: number;
  recipients: string[];
  webhook_ids: string[];
  formats: ('html' | 'pdf')[];
  enabled: boolean;
  next_run_at: string | null;
  last_run_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface ReportRun {
  id: string;
  report_id: string;
  report_name: string;
  template: ReportTemplate;
  trigger: 'manual' | 'schedule';
  scheduled_for: string | null;
  period_from: string;
  period_to: string;
  status: 'delivered' | 'generated' | 'failed';
  error: string | null;
  summary: {
    runs: number;
    failed: number;
    success_rate: number;
    cost_usd: number;
    previous_cost_usd: number;
    cost_change_pct: number | null;
    blocked_actions: number;
    pending_approvals: number;
    insights: string[];
  };
  deliveries: { channel: 'email' | 'webhook'; target: string; status: string; id: string; last_error: string | null }[];
  html_url: string;
  pdf_url: string | null;
  pdf_bytes: number | null;
  created_at: string;
}

export interface PackParam {
  name: string;
  type: 'number' | 'integer' | 'string' | 'boolean' | 'string_list';
  default: number | string | boolean | string[];
  description: string;
  min?: number;
  max?: number;
  enum?: string[];
}

export interface PolicyPack {
  id: string;
  name: string;
  version: number;
  description: string;
  starter: boolean;
  baseline: boolean;
  industries: string[];
  agent_types: string[];
  agent_tags: string[];
  params: PackParam[];
  policies: { key: string; name: string; summary: string; effect: string; priority?: number; rule: unknown }[];
  budgets: { key: string; name: string; summary: string; amount_usd: unknown; period: unknown }[];
  notifications: { summary: string } | null | undefined;
  applied: { version: number; params: Record<string, unknown>; applied_at: string; upgrade_available: boolean } | null;
}

export interface PackRecommendation {
  id: string;
  name: string;
  description: string;
  starter: boolean;
  score: number;
  reasons: string[];
  applied: boolean;
  upgrade_available: boolean;
}

export interface PackChange {
  key: string;
  kind: 'policy' | 'budget' | 'notification';
  change: 'create' | 'update' | 'remove' | 'unchanged' | 'conflict' | 'restore';
  entity_id: string | null;
  summary: string;
}

export interface PackPreview {
  pack_id: string;
  version: number;
  applied_version: number | null;
  params: Record<string, unknown>;
  changes: PackChange[];
}

export interface ApplyPackResult {
  pack_id: string;
  version: number;
  status: 'applied' | 'unchanged' | 'updated' | 'upgraded' | 'upgrade_available';
  policies: string[];
  budgets: string[];
  changes: PackChange[];
}

export interface OrgExport {
  id: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  requested_by: string | null;
  created_at: string;
  completed_at: string | null;
  size_bytes: number | null;
  sha256: string | null;
  files: { name: string; rows: number }[];
  error: string | null;
  download_url: string | null;
}

/** Day start (local) of a `YYYY-MM-DD` date as ISO, or its end when `end` is set: for `from`/`to` filters. */
export function dayIso(day: string | null | undefined, end = false): string | undefined {
  if (!day) return undefined;
  const [y, m, d] = day.slice(0, 10).split('-').map(Number);
  const at = end ? new Date(y!, m! - 1, d!, 23, 59, 59, 999) : new Date(y!, m! - 1, d!);
  return at.toISOString();
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
