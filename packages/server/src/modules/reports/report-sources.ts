/**
 * What a report reads, as one narrow port over other modules' services (stats, costs, budgets, runs,
 * approvals, the audit log's policy decisions, agents, the org). Reports never read another module's
 * tables: `createReportSources` adapts the services, and tests can hand in the same shape.
 */
import type { OrgId } from '../../platform/caller.ts';
import type { PlanService } from '../../platform/plans.ts';
import type { Adherence } from '../stats/index.ts';

export type CostGroup = 'agent' | 'team' | 'model' | 'day';

export interface CostRowLike {
  key: string;
  name: string;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  runs: number;
}

export interface BudgetLike {
  name: string;
  scope: string;
  scope_name?: string | null;
  amount_usd: number;
  spent_usd: number;
  period: string;
  percent?: number;
  state?: string;
}

export interface AgentFigures {
  runs: number;
  completed: number;
  failed: number;
  failure_rate: number;
  latency_p95_ms: number | null;
  cost_usd: number;
  /** The stats module's adherence over the same range (docs/policies.md). */
  adherence: Adherence;
}

export interface DecisionRecord {
  at: number;
  /** 'block' | 'require_approval' | 'allow' (an allow with log_only monitors) */
  decision: string;
  agent: string;
  action_type: string;
  policies: string[];
}

export interface ApprovalRecord {
  id: string;
  status: string;
  agent_id: string;
  action_type: string;
  requested_at: number;
  decided_at: number | null;
}

export interface FailedRun {
  id: string;
  agent_name: string;
  started_at: string;
  error: unknown;
}

export interface ReportSources {
  org(orgId: OrgId): Promise<{ name: string; timezone: string }>;
  overview(
    orgId: OrgId,
    from: number,
    to: number,
  ): Promise<{ runs: number; completed: number; failed: number; success_rate: number; cost_usd: number }>;
  agentFigures(orgId: OrgId, agentId: string, from: number, to: number): Promise<AgentFigures>;
  costs(
    orgId: OrgId,
    groupBy: CostGroup,
    from: number,
    to: number,
  ): Promise<{ data: CostRowLike[]; total_usd: number }>;
  /** null when the hub has no budgets service. */
  budgets(orgId: OrgId): Promise<BudgetLike[] | null>;
  agentNames(orgId: OrgId): Promise<Map<string, string>>;
  failedRuns(orgId: OrgId, from: number, to: number, limit: number): Promise<FailedRun[]>;
  /** Pending approvals, and the most recent ones of any status. */
  approvals(orgId: OrgId): Promise<{ pending: ApprovalRecord[]; recent: ApprovalRecord[] }>;
  /** Recorded BLOCK / REQUIRE_APPROVAL decisions and log-only matches in [from, to). */
  decisions(orgId: OrgId, from: number, to: number): Promise<DecisionRecord[]>;
  /** Why insights may not run for the org (its plan, then its `insights` flag), or null when they may. */
  insightsRefusal(orgId: OrgId): Promise<string | null>;
}

const iso = (t: number) => new Date(t).toISOString();
const DECISIONS_MAX = 5000;

/** The services a report reads, each reduced to the calls it makes. */
export interface ReportSourceServices {
  orgs: { get(orgId: OrgId): Promise<{ name: string; timezone: string }> };
  stats: {
    overview(
      orgId: OrgId,
      from?: string,
      to?: string,
    ): Promise<{ runs: number; completed: number; failed: number; success_rate: number; cost_usd: number }>;
    agent(orgId: OrgId, idOrName: string, from?: string, to?: string, bucket?: 'hour' | 'day'): Promise<AgentFigures>;
  };
  costs: {
    query(
      orgId: OrgId,
      q: { group_by: CostGroup; from: string; to: string },
    ): Promise<{ data: CostRowLike[]; total_usd: number }>;
  };
  budgets?: { list(orgId: OrgId): Promise<BudgetLike[]> };
  agents: { list(orgId: OrgId, filter: object, limit: number): Promise<{ data: { id: string; name: string }[] }> };
  runs: {
    list(
      orgId: OrgId,
      f: { status?: string; from?: string; to?: string },
      limit: number,
    ): Promise<{ data: { id: string; agent_name: string; started_at: string; error: unknown }[] }>;
  };
  approvals: {
    list(
      orgId: OrgId,
      status: string | undefined,
      limit: number,
    ): Promise<{
      data: {
        id: string;
        status: string;
        agent_id: string;
        action: unknown;
        requested_at: string;
        decided_at: string | null;
      }[];
    }>;
  };
  audit: {
    list(
      orgId: OrgId,
      f: { from?: number; to?: number; entityType?: string },
      limit: number,
    ): Promise<{ action: string; at: number; changes: string }[]>;
  };
  plans: Pick<PlanService, 'unavailable'>;
}

function toApprovalRecord(a: {
  id: string;
  status: string;
  agent_id: string;
  action: unknown;
  requested_at: string;
  decided_at: string | null;
}): ApprovalRecord {
  const action = (a.action ?? {}) as { type?: unknown };
  return {
    id: a.id,
    status: a.status,
    agent_id: a.agent_id,
    action_type: typeof action.type === 'string' ? action.type : 'action',
    requested_at: Date.parse(a.requested_at),
    decided_at: a.decided_at ? Date.parse(a.decided_at) : null,
  };
}

export function createReportSources(s: ReportSourceServices): ReportSources {
  return {
    org: (orgId) => s.orgs.get(orgId),
    overview: (orgId, from, to) => s.stats.overview(orgId, iso(from), iso(to)),
    agentFigures: (orgId, agentId, from, to) => s.stats.agent(orgId, agentId, iso(from), iso(to), 'day'),
    costs: (orgId, groupBy, from, to) => s.costs.query(orgId, { group_by: groupBy, from: iso(from), to: iso(to) }),
    budgets: async (orgId) => (s.budgets ? s.budgets.list(orgId) : null),
    agentNames: async (orgId) => new Map((await s.agents.list(orgId, {}, 1000)).data.map((a) => [a.id, a.name])),
    failedRuns: async (orgId, from, to, limit) =>
      (await s.runs.list(orgId, { status: 'failed', from: iso(from), to: iso(to) }, limit)).data,
    approvals: async (orgId) => {
      const [pending, recent] = await Promise.all([
        s.approvals.list(orgId, 'pending', 200),
        s.approvals.list(orgId, undefined, 200),
      ]);
      return { pending: pending.data.map(toApprovalRecord), recent: recent.data.map(toApprovalRecord) };
    },
    insightsRefusal: async (orgId) => (await s.plans.unavailable(orgId, 'insights', 'insights'))?.message ?? null,
    decisions: async (orgId, from, to) => {
      // Blocks and approval requests are audited with the agent, the action and the matched policies.
      const rows = await s.audit.list(orgId, { from, to, entityType: 'decision' }, DECISIONS_MAX);
      return rows.map((r) => {
        const c = JSON.parse(r.changes ?? 'null') as {
          agent?: string;
          action?: { type?: string };
          reasons?: { name?: string }[];
          monitors?: { name?: string }[];
        } | null;
        const named = [...(c?.reasons ?? []), ...(c?.monitors ?? [])].map((x) => x.name).filter(Boolean) as string[];
        return {
          at: Number(r.at),
          decision: r.action.replace(/^policy\.decision\./, ''),
          agent: c?.agent ?? 'unknown agent',
          action_type: c?.action?.type ?? 'action',
          policies: [...new Set(named)],
        };
      });
    },
  };
}
