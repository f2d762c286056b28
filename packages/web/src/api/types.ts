/** The wire shapes the console reads, as documented in the hub's API (snake_case, ISO timestamps). */

export interface Me {
  user?: { id: string; email: string; name: string; email_verified: boolean; two_factor_enabled: boolean };
  org: { id: string; name: string; role?: string } | null;
  orgs?: { id: string; name: string; role: string }[];
  scopes?: string[];
  team_ids: string[];
  permissions: string[];
}

export interface Agent {
  id: string;
  name: string;
  description: string;
  type: string | null;
  team_id: string | null;
  tags: string[];
  environment: 'prod' | 'staging' | 'test';
  status: 'active' | 'paused';
  created_at: string;
}

export type RunStatus = 'running' | 'completed' | 'failed';

export interface Run {
  id: string;
  agent_id: string;
  agent_name: string;
  status: RunStatus;
  started_at: string;
  ended_at: string | null;
  latency_ms: number | null;
  environment: string;
  external_ref: string | null;
  input: unknown;
  output: unknown;
  error: unknown;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  metadata: Record<string, unknown>;
  tags?: string[];
}

export interface RunEvent {
  id: string;
  run_id: string;
  type: string;
  timestamp: string;
  duration_ms: number | null;
  payload: Record<string, unknown>;
  model?: string;
  input_tokens?: number;
  output_tokens?: number;
  cost_usd?: number;
}

export interface Reason {
  policy_id: string;
  name: string;
  effect: string;
}

export interface Decision {
  id: string;
  at: string;
  decision: 'ALLOW' | 'BLOCK' | 'REQUIRE_APPROVAL';
  action: Record<string, unknown>;
  reasons: Reason[];
  approval_id: string | null;
}

export interface Approval {
  id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  policy_id: string | null;
  agent_id: string;
  run_id: string | null;
  action: Record<string, unknown> & { type?: string };
  message?: string | null;
  requested_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  comment: string | null;
}

export interface RunDetail extends Run {
  events: RunEvent[];
  decisions: Decision[];
  approvals: Approval[];
}

export interface Policy {
  id: string;
  name: string;
  description: string;
  status: 'active' | 'inactive';
  priority: number;
  rule: PolicyRule;
  version: number;
  hit_count: number;
  last_hit_at: string | null;
  updated_at: string;
}

export interface PolicyRule {
  when: Condition;
  then: 'block' | 'require_approval' | 'log_only' | 'allow';
  approvers?: { roles?: string[]; team_id?: string };
  approval_timeout_s?: number;
}

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; op: string; value?: unknown };

export interface PolicyVersion {
  version: number;
  change: string;
  changed_by: string;
  changed_at: string;
  policy: Policy;
}

export interface Actor {
  type: string;
  id: string;
  name?: string | null;
}

export interface Controls {
  kill_switch: { engaged: boolean; reason: string | null; at: string | null; by: Actor | null };
  paused_agents: {
    agent_id: string;
    name: string;
    mode: string;
    reason: string | null;
    at: string;
    by: Actor | null;
  }[];
  paused_categories: { category: string; reason: string | null; at: string; by: Actor | null }[];
}

export interface Overview {
  from: string;
  to: string;
  runs: number;
  completed: number;
  failed: number;
  running: number;
  success_rate: number | null;
  cost_usd: number;
  top_agents: { id: string; name: string; runs: number; failed: number; cost_usd: number }[];
}

export interface Budget {
  id: string;
  scope: 'agent' | 'team' | 'org';
  scope_id: string | null;
  amount_usd: number;
  period: 'day' | 'week' | 'month';
  thresholds: number[];
  on_exceed: 'notify' | 'throttle' | 'pause';
  spent_usd: number;
  period_start: string;
  name?: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  /** The agents the key may act as; null: any agent of the org. */
  agent_ids: string[] | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface Member {
  id: string;
  user_id: string;
  email: string;
  name: string;
  role: string;
  created_at: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: string;
  status: string;
  expires_at: string;
  created_at: string;
  accept_url?: string;
}
