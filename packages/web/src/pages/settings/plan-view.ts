/**
 * What the plan page says, worked out from the hub's two answers: `GET /v1/org/plan` (the org's plan,
 * limits and this month's usage) and `GET /v1/plans` (every feature and the cheapest plan that has it).
 * Kept apart from the page so it is tested without rendering.
 *
 * The usage levels follow the hub's notices (docs/plans.md): owners and admins are told at 80% and at
 * 100%; past 100% nothing is dropped, events are accepted and flagged.
 */
import type { OrgPlan, PlanCatalog, PlanFeature, PlanUsage } from '@agentops-hub/contracts';
import { num } from '../../lib/format';

export type UsageLevel = 'ok' | 'warning' | 'over';

export interface UsageView {
  level: UsageLevel;
  /** Mantine color of the bar and badge. */
  color: 'blue' | 'orange' | 'red';
  /** Short state for the badge. */
  badge: string;
  /** "12,345 of 100,000 events in December 2026 (12%)". */
  amount: string;
  /** What the level means for the org. */
  sentence: string;
  /** Bar fill, 0..100. */
  fill: number;
}

/** A share as a whole percentage, floored (79.9% is not yet 80%), with "<1%" for a first few events. */
export function usagePercent(percent: number): string {
  if (percent > 0 && percent < 1) return '<1%';
  return `${Math.floor(percent)}%`;
}

function monthName(month: string): string {
  const [y, m] = month.split('-').map(Number);
  if (!y || !m) return month;
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString('en-US', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** The month's events against the plan, at the levels the hub notifies. */
export function usageView(u: PlanUsage): UsageView {
  const level: UsageLevel = u.over_limit || u.percent >= 100 ? 'over' : u.percent >= 80 ? 'warning' : 'ok';
  const amount = `${num(u.events)} of ${num(u.events_per_month)} events in ${monthName(u.month)} (${usagePercent(u.percent)})`;
  const fill = Math.min(100, Math.max(0, u.percent));
  if (level === 'over')
    return {
      level,
      color: 'red',
      badge: 'Limit reached',
      amount,
      fill,
      sentence:
        'The monthly limit is reached. Nothing is dropped: events are still accepted and flagged as over the limit. Owners and admins were told. Upgrade the plan to stay within it.',
    };
  if (level === 'warning')
    return {
      level,
      color: 'orange',
      badge: '80% used',
      amount,
      fill,
      sentence:
        'Over 80% of the monthly events are used; owners and admins were told. At the limit nothing is dropped: events are accepted and flagged.',
    };
  return {
    level,
    color: 'blue',
    badge: 'Within the plan',
    amount,
    fill,
    sentence: 'Runs and model calls count; tool calls and logs do not. Owners and admins are told at 80% and at 100%.',
  };
}

export interface FeatureLine {
  feature: PlanFeature;
  label: string;
  /** The cheapest plan that has it. */
  plan: string;
}

/** Every feature of the plan table, split into what the org's plan includes and what it does not. */
export function featureLists(
  catalog: Pick<PlanCatalog, 'features'>,
  plan: Pick<OrgPlan, 'limits'>,
): { included: FeatureLine[]; missing: FeatureLine[] } {
  const has = new Set<string>(plan.limits.features);
  return {
    included: catalog.features.filter((f) => has.has(f.feature)),
    missing: catalog.features.filter((f) => !has.has(f.feature)),
  };
}
