/**
 * @module costs
 * Cost analytics (`GET /v1/costs`) and budgets (`/v1/budgets`). On the wire money is USD; the hub keeps
 * it as integer nano-USD inside, so totals never drift.
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';

const When = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  message: 'an ISO-8601 timestamp (2026-01-31T12:00:00Z) or a date (2026-01-31)',
});

export const CostGroupBys = ['agent', 'team', 'model', 'day', 'week', 'month'] as const;
export type CostGroupBy = (typeof CostGroupBys)[number];

/**
 * `GET /v1/costs?group_by=agent&from=&to=&format=csv`. Days, weeks (from Monday) and months are the
 * org's calendar, in its time zone. Default range: the last 30 days.
 * @example /v1/costs?group_by=model&from=2026-11-01&to=2026-12-01
 */
export const CostsQuery = z.object({
  group_by: z.enum(CostGroupBys).default('agent'),
  from: When.optional(),
  to: When.optional(),
  /** Only this agent (id), or this team's agents. */
  agent_id: z.string().max(100).optional(),
  team_id: z.string().max(100).optional(),
  format: z.enum(['json', 'csv']).optional(),
});
export type CostsQuery = z.infer<typeof CostsQuery>;

export const CostRowSchema = z.object({
  /** The agent, team or model id, or the day/week/month (YYYY-MM-DD of its first day). */
  key: z.string(),
  name: z.string(),
  cost_usd: z.number(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  llm_calls: z.number().int(),
  /** Runs started in the range (for model rows: runs are not split by model, so 0). */
  runs: z.number().int(),
  /** LLM calls the price table did not know: their cost is missing from cost_usd, never counted as $0. */
  unpriced_calls: z.number().int(),
  share: z.number().describe('cost_usd / total_usd, 0..1'),
});
export type CostRow = z.infer<typeof CostRowSchema>;

export const CostsResponse = z.object({
  group_by: z.enum(CostGroupBys),
  from: IsoDate,
  to: IsoDate,
  timezone: z.string(),
  data: z.array(CostRowSchema),
  total_usd: z.number(),
  unpriced_calls: z.number().int(),
});
export type CostsResponse = z.infer<typeof CostsResponse>;

export const BudgetScopes = ['agent', 'team', 'org'] as const;
export const BudgetPeriods = ['day', 'week', 'month'] as const;
export const BudgetActions = ['notify', 'throttle', 'pause'] as const;
export type BudgetScope = (typeof BudgetScopes)[number];
export type BudgetPeriod = (typeof BudgetPeriods)[number];
export type BudgetAction = (typeof BudgetActions)[number];

/** USD with at most 6 decimals, so it is exact in nano-USD. */
const Usd = z
  .number({ message: 'an amount in USD, such as 25 or 0.5' })
  .positive('must be more than 0')
  .max(1e9)
  .refine((v) => Math.abs(v * 1e6 - Math.round(v * 1e6)) < 1e-6, { message: 'at most 6 decimals' });

const Thresholds = z
  .array(z.number().int('a whole percentage such as 80').min(1).max(1000))
  .max(10)
  .refine((t) => new Set(t).size === t.length, { message: 'each threshold once' });

/**
 * `POST /v1/budgets`. `scope_id` names the agent or team (absent for `org`). Thresholds are percentages
 * of the amount; each notifies once per period. `on_exceed` acts when spend reaches the amount:
 * `notify` only, `throttle` (the agent's evaluate and ingest calls drop to `throttle_per_minute` until
 * the period resets or the budget is raised) or `pause` (the emergency pause with source "budget",
 * released at the next period unless a person paused the agent too).
 * @example { "scope": "agent", "scope_id": "agt_…", "amount_usd": 1, "period": "day", "thresholds": [50, 80, 100], "on_exceed": "pause" }
 */
export const CreateBudgetBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    scope: z.enum(BudgetScopes),
    scope_id: z.string().min(1).max(100).nullable().optional(),
    amount_usd: Usd,
    period: z.enum(BudgetPeriods),
    thresholds: Thresholds.default([50, 80, 100]),
    on_exceed: z.enum(BudgetActions).default('notify'),
    throttle_per_minute: z.number().int().min(0).max(10_000).default(6),
  })
  .superRefine((b, ctx) => {
    if (b.scope !== 'org' && !b.scope_id)
      ctx.addIssue({ code: 'custom', path: ['scope_id'], message: `the ${b.scope} this budget is for` });
  });
export type CreateBudgetBody = z.infer<typeof CreateBudgetBody>;

/** `PATCH /v1/budgets/{id}`: the scope is fixed; raising the amount releases a throttle or pause now. */
export const UpdateBudgetBody = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  amount_usd: Usd.optional(),
  period: z.enum(BudgetPeriods).optional(),
  thresholds: Thresholds.optional(),
  on_exceed: z.enum(BudgetActions).optional(),
  throttle_per_minute: z.number().int().min(0).max(10_000).optional(),
});
export type UpdateBudgetBody = z.infer<typeof UpdateBudgetBody>;

export const BudgetSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(BudgetScopes),
  scope_id: z.string().nullable(),
  /** The agent's or team's name, or the org's. */
  scope_name: z.string().nullable(),
  amount_usd: z.number(),
  period: z.enum(BudgetPeriods),
  thresholds: z.array(z.number()),
  on_exceed: z.enum(BudgetActions),
  throttle_per_minute: z.number().int(),
  /** Spend in the current period. */
  spent_usd: z.number(),
  /** spent_usd / amount_usd × 100, rounded to 0.1. */
  percent: z.number(),
  period_start: IsoDate,
  period_end: IsoDate,
  timezone: z.string(),
  /** Thresholds already reached (and notified) this period. */
  thresholds_reached: z.array(z.number()),
  /** What the budget does right now: nothing, or throttling/pausing its agents. */
  state: z.enum(['ok', 'exceeded', 'throttling', 'pausing']),
  created_at: IsoDate,
  updated_at: IsoDate,
});
export type Budget = z.infer<typeof BudgetSchema>;
