import type { Generated } from 'kysely';

/**
 * Row types of the hub's own tables (Better Auth owns the auth_* tables). Timestamps are epoch
 * milliseconds in a bigint column, JSON is text, booleans are 0/1: the same on SQLite and PostgreSQL.
 * Rows never leave a store: stores map them to the contract DTOs.
 *
 * This file is longer than 400 lines because it is Kysely's one `Database` interface: a row type per table.
 */

export interface OrgsTable {
  id: string;
  name: string;
  logo_url: string | null;
  billing_email: string | null;
  plan: string;
  region: string;
  timezone: string;
  locale: string;
  industry: string | null;
  settings: string;
  created_at: number;
  updated_at: number;
}

export interface UserPrefsTable {
  user_id: string;
  active_org_id: string | null;
}

export interface MembersTable {
  id: string;
  org_id: string;
  user_id: string;
  role: string;
  created_at: number;
}

export interface TeamsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  created_at: number;
}

export interface TeamMembersTable {
  org_id: string;
  team_id: string;
  member_id: string;
}

export interface InvitationsTable {
  id: string;
  org_id: string;
  email: string;
  role: string;
  team_id: string | null;
  token_hash: string;
  status: string;
  invited_by: string | null;
  expires_at: number;
  created_at: number;
  decided_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  org_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: string;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  created_at: number;
  /** 011-security: JSON array of the agent ids the key may act as; null = any agent of the org. */
  agent_ids?: string | null;
}

export interface AgentsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  type: string | null;
  team_id: string | null;
  tags: string;
  environment: string;
  status: string;
  provider_kind: string | null;
  provider_external_id: string | null;
  /** AES-256-GCM sealed JSON of the connection fields. */
  provider_secret: string | null;
  auto_registered: number;
  created_at: number;
  updated_at: number;
}

export interface AuditLogTable {
  id: string;
  org_id: string;
  seq: number;
  at: number;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  changes: string;
  reason: string | null;
  prev_hash: string;
  hash: string;
}

/** Orgs whose audit rows may be deleted (org deletion); the append-only triggers consult it. */
export interface AuditPurgesTable {
  org_id: string;
  at: number;
}

export interface NotificationsTable {
  id: string;
  org_id: string;
  user_id: string;
  type: string;
  title: string;
  body: string;
  entity_type: string | null;
  entity_id: string | null;
  created_at: number;
  read_at: number | null;
}

export interface NotificationPrefsTable {
  org_id: string;
  /** '' holds the org-wide default. */
  user_id: string;
  prefs: string;
  updated_at: number;
}

export interface EmailOutboxTable {
  id: string;
  org_id: string | null;
  to_addr: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  /** queued → sent | failed; `kept` when no SMTP is configured (the console shows the outbox). */
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface McpEndpointsTable {
  id: string;
  org_id: string;
  name: string;
  agent: string;
  upstream_url: string;
  /** JSON array of the header names (shown); their values are in the sealed column only. */
  upstream_header_names: string;
  /** The headers as JSON, sealed (platform/secret-box.ts). */
  upstream_headers_secret: string;
  /** JSON array: 'resources', 'prompts'. */
  govern: string;
  description: string;
  created_at: number;
}

export interface WebhooksTable {
  id: string;
  org_id: string;
  url: string;
  events: string;
  format: string;
  secret: string;
  description: string;
  active: number;
  created_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  org_id: string;
  webhook_id: string;
  event: string;
  payload: string;
  status: string;
  attempts: number;
  response_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
  next_attempt_at: number | null;
}

export interface JobsTable {
  id: string;
  queue: string;
  payload: string;
  status: string;
  attempts: number;
  max_attempts: number;
  run_at: number;
  locked_until: number | null;
  last_error: string | null;
  singleton_key: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface SchedulesTable {
  name: string;
  cron: string;
  timezone: string;
  queue: string;
  payload: string;
  next_run_at: number;
  last_run_at: number | null;
}

export interface OrgFeatureFlagsTable {
  org_id: string;
  flag: string;
  enabled: number;
  updated_at: number;
}

export interface HubMetaTable {
  key: string;
  value: string;
}

export interface RunsTable {
  org_id: string;
  id: string;
  agent_id: string;
  parent_run_id: string | null;
  status: string;
  started_at: number;
  ended_at: number | null;
  environment: string;
  external_ref: string | null;
  input: string | null;
  output: string | null;
  error: string | null;
  metadata: string;
  tags: string;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  cost_nano: Generated<number>;
  /** Cost of the run-level `usage` (REST), when the run reports usage without llm_call events. */
  usage_cost_nano: number | null;
  cost_unknown: Generated<number>;
  counted: string | null;
  /** Bumped by every write; enrichment catches up to it (rollups, search). */
  version: Generated<number>;
  dirty: Generated<number>;
  search_rowid: number | null;
  created_at: number;
  updated_at: number;
}

export interface EventsTable {
  org_id: string;
  id: string;
  run_id: string;
  agent_id: string;
  type: string;
  ts: number;
  parent_id: string | null;
  duration_ms: number | null;
  payload: string;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_nano: number | null;
  cost_source: string | null;
  enriched: number;
  received_at: number;
}

export interface RollupsHourlyTable {
  org_id: string;
  agent_id: string;
  hour: number;
  model: string;
  runs: number;
  completed: number;
  /** Every failed run; `blocked` and `paused` are the part of them stopped on purpose (017). */
  failed: number;
  blocked: number;
  paused: number;
  latency_sum_ms: number;
  latency_count: number;
  latency_hist: string;
  llm_calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_nano: number;
  unpriced_calls: number;
}

/** An org's own model prices; integer pico-USD per token (= micro-USD per 1M tokens). */
export interface PriceOverridesTable {
  id: string;
  org_id: string;
  provider: string | null;
  model: string;
  input: number;
  cached_input: number | null;
  cache_write: number | null;
  output: number;
  reasoning: number | null;
  effective_from: number;
  created_by: string | null;
  created_at: number;
}

export interface PoliciesTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  status: string;
  priority: number;
  rule: string;
  version: number;
  hit_count: Generated<number>;
  last_hit_at: number | null;
  /** Where it came from: null (a person), or `pack:<id>@<version>`. */
  source: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface PolicyVersionsTable {
  org_id: string;
  policy_id: string;
  version: number;
  snapshot: string;
  change: string;
  changed_by: string | null;
  changed_at: number;
}

export interface AlertRulesTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  /** JSON: {type, value?} */
  scope: string;
  signal: string;
  window_minutes: number;
  threshold: number;
  /** JSON array of channels */
  channels: string;
  /** JSON: {roles} or {team_id} */
  recipients: string;
  cooldown_minutes: number;
  enabled: number;
  state: string;
  /** Bumped by every transition; the conditional update on it makes a transition happen once. */
  state_seq: number;
  state_since: number | null;
  last_value: number | null;
  last_evaluated_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface AlertEventsTable {
  id: string;
  org_id: string;
  rule_id: string;
  seq: number | null;
  kind: string;
  value: number | null;
  threshold: number;
  title: string;
  created_at: number;
}

/** One row per org that changed its privacy settings (absent: full capture, no rules). */
export interface PrivacySettingsTable {
  org_id: string;
  capture: string;
  /** JSON: DetectorSettings. */
  detectors: string;
  /** JSON: RedactionRule[]. */
  rules: string;
  updated_at: number;
}

/** An agent's own capture level (absent: the org's). */
export interface AgentPrivacyTable {
  org_id: string;
  agent_id: string;
  capture: string;
  updated_at: number;
}

/** 018: a re-redaction of stored data (privacy module), with its progress. */
export interface PrivacyRedactionsTable {
  org_id: string;
  id: string;
  /** queued | running | completed | failed */
  status: string;
  /** `requested` (POST /v1/privacy/redact-stored) or `tightened` (a settings change). */
  reason: string;
  /** runs | events | decisions | approvals | archives | done */
  phase: string;
  /** JSON: where the phase stopped (the last key done). */
  cursor: string | null;
  /** JSON: rows and files scanned and changed, per phase. */
  counts: string;
  /** JSON: the Actor who asked. */
  requested_by: string;
  requested_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
}

export interface AlertCursorsTable {
  org_id: string;
  name: string;
  at: number;
  last_id: string;
}

export interface PlanUsageNoticesTable {
  org_id: string;
  /** Calendar month in UTC, `2026-12`. */
  month: string;
  threshold: number;
  events: number;
  notified_at: number;
}

export interface DecisionsTable {
  id: string;
  org_id: string;
  agent_id: string;
  run_id: string | null;
  action_type: string;
  action: string;
  context: string;
  decision: string;
  reasons: string;
  monitors: string;
  approval_id: string | null;
  idempotency_key: string | null;
  latency_us: number;
  created_at: number;
  /** The approval's stored status, kept current by the approvals module (migration 020); null: none. */
  approval_status: string | null;
  /** The approval's `expires_at`, so a still-`pending` one past it reads as expired. */
  approval_expires_at: number | null;
}

export interface ApprovalsTable {
  id: string;
  org_id: string;
  policy_id: string | null;
  agent_id: string;
  run_id: string | null;
  decision_id: string;
  action: string;
  action_hash: string;
  status: string;
  approvers: string;
  message: string | null;
  requested_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  comment: string | null;
  used_at: number | null;
  /** 006-approval-extras: JSON Approvers added at escalate_at; escalated_at once that happened. */
  escalate_to: string | null;
  escalate_at: number | null;
  escalated_at: number | null;
  /** The agent's callback URL (POSTed once the approval is decided or expired). */
  callback_url: string | null;
  /** 011-security: the API key whose evaluation asked for it (null: asked by a person, or older rows). */
  requested_by_key_id?: string | null;
  /** 011-security: the decision's actor; `decided_by` keeps its display name. */
  decided_by_type?: string | null;
  decided_by_id?: string | null;
}

/** Emergency controls (004-controls). A budget pause and a manual pause are separate rows. */
export interface AgentPausesTable {
  org_id: string;
  agent_id: string;
  /** 'block' | 'failsafe' */
  mode: string;
  reason: string | null;
  /** 'manual' | 'budget' */
  source: string;
  /** Actor JSON */
  paused_by: string;
  paused_at: number;
}
export interface KillSwitchesTable {
  org_id: string;
  engaged: number;
  reason: string | null;
  changed_by: string;
  changed_at: number;
}
/** A category is an agent type or tag. */
export interface CategoryPausesTable {
  org_id: string;
  category: string;
  reason: string | null;
  paused_by: string;
  paused_at: number;
}

export interface BudgetsTable {
  id: string;
  org_id: string;
  name: string;
  scope: string;
  scope_id: string | null;
  amount_nano: number;
  period: string;
  thresholds: string;
  on_exceed: string;
  throttle_per_minute: number;
  enforced_period: number | null;
  created_at: number;
  updated_at: number;
}

export interface BudgetPeriodsTable {
  org_id: string;
  budget_id: string;
  period_start: number;
  spent_nano: number;
  reached: string;
}

export interface BudgetCrossingsTable {
  id: string;
  org_id: string;
  budget_id: string;
  period_start: number;
  threshold: number;
  spent_nano: number;
  created_at: number;
  notified_at: number | null;
}

/** Which version of a policy pack an org applied, with what parameters. */
export interface PolicyPackApplicationsTable {
  org_id: string;
  pack_id: string;
  version: number;
  /** JSON */
  params: string;
  applied_by: string | null;
  applied_at: number;
  updated_at: number;
}
/** One thing a pack created (policy, budget, notification setting) and the hash of its content then. */
export interface PolicyPackItemsTable {
  org_id: string;
  pack_id: string;
  /** 'policy' | 'budget' | 'notification' */
  kind: string;
  item_key: string;
  entity_id: string | null;
  content_hash: string;
  /** JSON: notification values before the pack set them */
  previous: string | null;
  created_at: number;
}
export interface OrgExportsTable {
  id: string;
  org_id: string;
  /** 'pending' | 'running' | 'completed' | 'failed' */
  status: string;
  requested_by: string | null;
  file_name: string | null;
  size_bytes: number | null;
  sha256: string | null;
  /** JSON: [{name, rows}] */
  files: string;
  error: string | null;
  created_at: number;
  completed_at: number | null;
}

/** Reports (008-reports). JSON columns: recipients, webhook_ids, formats, summary, deliveries. */
export interface ReportsTable {
  id: string;
  org_id: string;
  name: string;
  template: string;
  schedule: string | null;
  cron: string | null;
  timezone: string;
  range_days: number | null;
  recipients: string;
  webhook_ids: string;
  formats: string;
  enabled: number;
  last_run_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}
export interface ReportRunsTable {
  id: string;
  org_id: string;
  report_id: string;
  template: string;
  /** 'manual' | 'schedule' */
  trigger: string;
  scheduled_for: number | null;
  period_from: number;
  period_to: number;
  status: string;
  error: string | null;
  summary: string;
  deliveries: string;
  html: string;
  /** base64 */
  pdf: string | null;
  created_by: string | null;
  created_at: number;
}

export interface Database {
  reports: ReportsTable;
  report_runs: ReportRunsTable;
  policy_pack_applications: PolicyPackApplicationsTable;
  policy_pack_items: PolicyPackItemsTable;
  org_exports: OrgExportsTable;
  budgets: BudgetsTable;
  budget_periods: BudgetPeriodsTable;
  budget_crossings: BudgetCrossingsTable;
  agent_pauses: AgentPausesTable;
  kill_switches: KillSwitchesTable;
  category_pauses: CategoryPausesTable;
  policies: PoliciesTable;
  policy_versions: PolicyVersionsTable;
  decisions: DecisionsTable;
  alert_rules: AlertRulesTable;
  alert_events: AlertEventsTable;
  plan_usage_notices: PlanUsageNoticesTable;
  alert_cursors: AlertCursorsTable;
  privacy_settings: PrivacySettingsTable;
  agent_privacy: AgentPrivacyTable;
  privacy_redactions: PrivacyRedactionsTable;
  approvals: ApprovalsTable;
  price_overrides: PriceOverridesTable;
  runs: RunsTable;
  events: EventsTable;
  rollups_hourly: RollupsHourlyTable;
  orgs: OrgsTable;
  user_prefs: UserPrefsTable;
  members: MembersTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  invitations: InvitationsTable;
  api_keys: ApiKeysTable;
  agents: AgentsTable;
  audit_log: AuditLogTable;
  audit_purges: AuditPurgesTable;
  notifications: NotificationsTable;
  notification_prefs: NotificationPrefsTable;
  email_outbox: EmailOutboxTable;
  mcp_endpoints: McpEndpointsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  jobs: JobsTable;
  schedules: SchedulesTable;
  org_feature_flags: OrgFeatureFlagsTable;
  hub_meta: HubMetaTable;
  // Better Auth's tables, read-only for the hub (users' names and emails).
  auth_user: {
    id: string;
    name: string;
    email: string;
    emailVerified: number | boolean;
    twoFactorEnabled: number | boolean | null;
    createdAt: unknown;
  };
}
