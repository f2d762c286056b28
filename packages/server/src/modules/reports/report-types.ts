/** What one report shows: gathered by report-data.ts, read by the insights and drawn by the HTML and PDF renderers. */
import type { ReportTemplate } from '@agentops-hub/contracts';
import type { Adherence } from '../stats/index.ts';
import type { BudgetLike, CostRowLike, FailedRun } from './report-sources.ts';

export interface AgentRow {
  id: string;
  name: string;
  runs: number;
  completed: number;
  failed: number;
  failure_rate: number;
  cost_usd: number;
  p95_ms: number | null;
  prev_runs: number;
  prev_failed: number;
  prev_failure_rate: number;
  prev_cost_usd: number;
  /** Policy adherence in the period and the one before (report-adherence.ts); null without stats. */
  adherence: Adherence | null;
  prev_adherence: Adherence | null;
}

export interface ReportData {
  template: ReportTemplate;
  title: string;
  reportName: string;
  orgName: string;
  timezone: string;
  period: { from: number; to: number };
  previous: { from: number; to: number };
  generatedAt: number;
  totals: {
    runs: number;
    completed: number;
    failed: number;
    success_rate: number;
    cost_usd: number;
    prev_runs: number;
    prev_failed: number;
    prev_success_rate: number;
    prev_cost_usd: number;
    cost_change_pct: number | null;
  };
  costPerDay: { day: string; label: string; cost_usd: number }[];
  agents: AgentRow[];
  costsBy: { agent: CostRowLike[]; team: CostRowLike[]; model: CostRowLike[] } | null;
  violations: {
    blocks: number;
    prev_blocks: number;
    approvals_required: number;
    monitored: number;
    byPolicy: { name: string; count: number }[];
    byAgent: { name: string; count: number }[];
    recent: { at: number; agent: string; action_type: string; decision: string; policies: string[] }[];
  };
  incidents: FailedRun[];
  approvals: {
    pending: { id: string; agent: string; action_type: string; requested_at: number; waiting_ms: number }[];
    requested: number;
    approved: number;
    rejected: number;
    expired: number;
  };
  /** null when the hub has no budgets service. */
  budgets: BudgetLike[] | null;
  insights: string[];
  /**
   * Why the report has no insights, in the words of the 402 or 403 a route would answer (the org's plan
   * lacks them, or its `insights` flag is off); null when insights were computed.
   */
  insightsOff: string | null;
}
