/**
 * @module responses
 * Types of answers the hub's read endpoints give that have no Zod schema of their own (stats, a run's
 * replay, policy versions, plans, packs as listed…), and type names for schemas that had none. Types
 * only: the console (`packages/web`) imports them with `import type`, so a change here that the console
 * does not follow is a compile error there. When one of these gets a schema, its type becomes
 * `z.infer<typeof …Schema>` and the name stays.
 *
 * @example
 * import type { RunDetail } from '@agentops-hub/contracts';
 * const run = (await (await fetch(`${hub}/v1/runs/${id}`, { headers })).json()) as RunDetail;
 */
import type { z } from 'zod';
import type { CreatedApiKeySchema } from './api-keys.ts';
import type { Approval } from './approvals.ts';
import type { PackChange, PackRecommendationSchema } from './governance.ts';
import type { Run } from './ingestion.ts';
import type { InvitationSchema, MemberSchema, TeamSchema } from './orgs.ts';
import type {
  AuditEntrySchema,
  NotificationPreferencesSchema,
  NotificationSchema,
  WebhookDeliverySchema,
  WebhookSchema,
} from './platform.ts';
import type { Decision, Policy } from './policies.ts';

type DecisionReason = Decision['reasons'][number];

export type Member = z.infer<typeof MemberSchema>;
export type Invitation = z.infer<typeof InvitationSchema> & {
  /** Only in the creation answer, and only when the hub cannot send email. */
  accept_url?: string;
};
export type Team = z.infer<typeof TeamSchema>;
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type HubNotification = z.infer<typeof NotificationSchema>;
export type NotificationPreferences = z.infer<typeof NotificationPreferencesSchema>;
export type Webhook = z.infer<typeof WebhookSchema>;
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;
export type PackRecommendation = z.infer<typeof PackRecommendationSchema>;

/** `{data, next_cursor}`: one page of a list (`pageOf(item)`). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** One event of a run as `GET /v1/runs/{id}` returns it; `llm_call` events carry their usage. */
export interface RunEvent {
  id: string;
  run_id: string;
  agent_id?: string;
  type: string;
  timestamp: string;
  parent_id?: string | null;
  duration_ms: number | null;
  payload: Record<string, unknown>;
  model?: string | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  cost_usd?: number | null;
  cost_source?: string | null;
}

/** A policy decision made during a run (the replay shows them between its events). */
export interface RunDecision {
  id: string;
  at: string;
  decision: Decision['decision'];
  action: Record<string, unknown>;
  reasons: DecisionReason[];
  monitors?: DecisionReason[];
  approval_id: string | null;
  latency_us?: number;
}

/** `GET /v1/runs/{id}`: the run, its events in order, and the decisions and approvals made for it. */
export interface RunDetail extends Run {
  cost_pending?: boolean;
  child_run_ids?: string[];
  /** The run has more events than the detail answers (its first 10,000, and at most 32 MiB of payload). */
  events_truncated?: boolean;
  events: RunEvent[];
  decisions: RunDecision[];
  approvals: Approval[];
}

/**
 * `GET /v1/stats/overview?from&to`: the org's runs, outcomes and cost in a range. The outcomes
 * (`RunOutcomes`) are disjoint: runs = completed + failed + blocked + paused + running.
 */
export interface StatsOverview {
  from: string;
  to: string;
  runs: number;
  completed: number;
  /** Runs that failed on their own (not stopped by a policy or an emergency control). */
  failed: number;
  /** Runs ended by a policy refusal (`PolicyBlockedError`, `ToolBlockedError`). */
  blocked: number;
  /** Runs ended by a pause or the kill switch (`AgentPausedError`). */
  paused: number;
  running: number;
  /** completed / (completed + failed): blocked and paused runs were stopped on purpose and count neither way; 0 when nothing finished. */
  success_rate: number | null;
  cost_usd: number;
  input_tokens?: number;
  output_tokens?: number;
  unpriced_llm_calls?: number;
  top_agents: {
    id: string;
    name: string;
    runs: number;
    failed: number;
    blocked: number;
    paused: number;
    cost_usd: number;
  }[];
}

/** One bucket (hour or day) of `GET /v1/stats/agents/{id}`. */
export interface AgentStatsPoint {
  at: string;
  runs: number;
  completed: number;
  failed: number;
  blocked: number;
  paused: number;
  /** failed / (completed + failed): blocked and paused runs are not failures. */
  failure_rate: number | null;
  latency_avg_ms: number | null;
  latency_p95_ms: number | null;
  cost_usd: number;
}

/**
 * Adherence: of the actions an agent asked the policy engine about, the share that went through without
 * a block, a rejection or an override (docs/policies.md, section Adherence). `score` is
 * `adherent / evaluated` (0..1), null when nothing was evaluated; a pending approval counts neither way.
 */
export interface Adherence {
  score: number | null;
  evaluated: number;
  adherent: number;
  blocked: number;
  rejected: number;
  overridden: number;
  pending: number;
}

/**
 * `GET /v1/stats/adherence?from&to`: the org's adherence over a range, every agent together. Read from
 * the recorded decisions (indexed by org and time), so it is apart from the rollup-only overview.
 */
export type OrgAdherence = Adherence & { from: string; to: string };

/** `GET /v1/stats/agents/{id}`: one agent's activity in a range, per bucket, with its latest runs. */
export interface AgentStats {
  agent: { id: string; name: string };
  from: string;
  to: string;
  bucket: 'hour' | 'day';
  runs: number;
  completed: number;
  failed: number;
  blocked: number;
  paused: number;
  failure_rate: number | null;
  latency_avg_ms: number | null;
  latency_p95_ms: number | null;
  cost_usd: number;
  series: AgentStatsPoint[];
  /** Over the range; the counts come with the score, so 1 of 1 and 900 of 900 do not look alike. */
  adherence: Adherence;
  /** Each with its own adherence, null for a run that asked nothing. */
  latest_runs: (Run & { adherence: Adherence | null })[];
}

/** `GET /v1/policies` and `GET /v1/policies/{id}`: the policy and when it last matched an action. */
export type PolicyWithHits = Policy & { hit_count: number; last_hit_at: string | null };

/** `GET /v1/policies/{id}/versions`: each saved version; `changed_by` is the user or API key id. */
export interface PolicyVersion {
  version: number;
  change: string;
  changed_by: string;
  changed_at: string;
  policy: Policy;
}

/** `POST /v1/policies/simulate`: what a rule would have decided over recorded actions. */
export interface PolicySimulation {
  actions: number;
  matched: number;
  would_decide: Record<string, number>;
  changed_from_recorded: number;
  samples: {
    id: string;
    agent: string;
    at: string;
    action: Record<string, unknown>;
    would_decide: string;
    was: string;
  }[];
  truncated: boolean;
}

/** `POST /v1/api-keys`: the key, shown this once (the hub keeps only its hash). */
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;

/** `GET /v1/audit/verify`: whether the hash chain is intact. */
export interface AuditVerify {
  ok: boolean;
  entries: number;
  head_hash: string | null;
  /** Present when the chain is broken. */
  broken_at?: unknown;
  [k: string]: unknown;
}

/** `GET /v1/email-outbox`: mail the hub sent or is retrying. */
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

/** A pack's parameter as listed (the pack file's `params`, with its name). */
export interface PackParamView {
  name: string;
  type: 'number' | 'integer' | 'string' | 'boolean' | 'string_list';
  default: number | string | boolean | string[];
  description: string;
  min?: number;
  max?: number;
  enum?: string[];
}

/** `GET /v1/policy-packs[/{id}]`: a pack as the org sees it, with what is applied. */
export interface PolicyPackView {
  id: string;
  name: string;
  version: number;
  description: string;
  starter: boolean;
  baseline: boolean;
  industries: string[];
  agent_types: string[];
  agent_tags: string[];
  params: PackParamView[];
  policies: { key: string; name: string; summary: string; effect: string; priority?: number; rule: unknown }[];
  budgets: { key: string; name: string; summary: string; amount_usd: unknown; period: unknown }[];
  notifications: { summary: string } | null | undefined;
  applied: { version: number; params: Record<string, unknown>; applied_at: string; upgrade_available: boolean } | null;
}

/** `POST /v1/policy-packs/{id}/preview`: what applying the pack would change. */
export interface PackPreview {
  pack_id: string;
  version: number;
  applied_version: number | null;
  params: Record<string, unknown>;
  changes: PackChange[];
}
