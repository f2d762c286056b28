// @vitest-environment happy-dom
/**
 * The plan page's logic: the month's usage at the hub's notice levels (under 80%, 80%, 100% and past it,
 * where nothing is dropped), percentages that never round up into the next level, and every feature of
 * the plan table placed as included or not with the plan that brings it; then the usage meter and the
 * feature lists rendered.
 */
import type { OrgPlan, PlanCatalog, PlanUsage } from '@agentops-hub/contracts';
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import { createElement, type ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { PlanFeatures, UsageMeter } from './PlanPage';
import { featureLists, usagePercent, usageView } from './plan-view';

const usage = (events: number, limit = 1000): PlanUsage => ({
  month: '2026-12',
  events,
  events_per_month: limit,
  percent: (events / limit) * 100,
  over_limit: events >= limit,
});

const CATALOG: Pick<PlanCatalog, 'features'> = {
  features: [
    { feature: 'policies', label: 'Policies', plan: 'starter' },
    { feature: 'approvals', label: 'Human approvals', plan: 'growth' },
    { feature: 'budgets', label: 'Budgets', plan: 'growth' },
    { feature: 'insights', label: 'Report insights', plan: 'scale' },
  ],
};
const STARTER: Pick<OrgPlan, 'limits'> = {
  limits: { agents: 5, events_per_month: 1000, retention_days: 14, members: 3, features: ['policies'] },
};

const show = (node: ReactNode) => render(createElement(MantineProvider, null, node));
afterEach(cleanup);

describe('usageView', () => {
  it('is within the plan below 80%, even at 79.9%', () => {
    expect(usageView(usage(0))).toMatchObject({ level: 'ok', color: 'blue', badge: 'Within the plan' });
    const v = usageView(usage(799.9));
    expect(v.level).toBe('ok');
    expect(v.amount).toContain('(79%)');
  });
  it('warns from 80% and says owners and admins were told', () => {
    const v = usageView(usage(800));
    expect(v).toMatchObject({ level: 'warning', color: 'orange', badge: '80% used', fill: 80 });
    expect(v.amount).toBe('800 of 1,000 events in December 2026 (80%)');
    expect(v.sentence).toContain('owners and admins were told');
    expect(usageView(usage(999)).level).toBe('warning');
  });
  it('at and past the limit says nothing is dropped, and the bar stops full', () => {
    const at = usageView(usage(1000));
    expect(at).toMatchObject({ level: 'over', color: 'red', badge: 'Limit reached', fill: 100 });
    expect(at.sentence).toContain('Nothing is dropped');
    const past = usageView(usage(1100));
    expect(past.fill).toBe(100);
    expect(past.amount).toContain('1,100 of 1,000 events');
    expect(past.amount).toContain('(110%)');
  });
  it('trusts the hub flag: over_limit is over even if the percentage rounds below 100', () => {
    expect(usageView({ ...usage(999), over_limit: true }).level).toBe('over');
  });
});

describe('usagePercent', () => {
  it('floors, and shows a first few events as <1% rather than 0%', () => {
    expect(usagePercent(0)).toBe('0%');
    expect(usagePercent(0.01)).toBe('<1%');
    expect(usagePercent(99.99)).toBe('99%');
    expect(usagePercent(250)).toBe('250%');
  });
});

describe('featureLists', () => {
  it('places every feature of the table as included or not, with the plan that brings it', () => {
    const { included, missing } = featureLists(CATALOG, STARTER);
    expect(included.map((f) => f.feature)).toEqual(['policies']);
    expect(missing.map((f) => [f.feature, f.plan])).toEqual([
      ['approvals', 'growth'],
      ['budgets', 'growth'],
      ['insights', 'scale'],
    ]);
    const all = featureLists(CATALOG, {
      limits: { ...STARTER.limits, features: ['policies', 'approvals', 'budgets', 'insights'] },
    });
    expect(all.missing).toEqual([]);
  });
});

describe('plan page parts', () => {
  it('the usage meter shows the amount, the level and its meaning', () => {
    show(createElement(UsageMeter, { usage: usage(900) }));
    const meter = screen.getByTestId('plan-usage');
    expect(meter.getAttribute('data-level')).toBe('warning');
    expect(screen.getByText('80% used')).toBeTruthy();
    expect(screen.getByText('900 of 1,000 events in December 2026 (90%)')).toBeTruthy();
    expect(screen.getByRole('progressbar').getAttribute('aria-label')).toContain('900 of 1,000 events');
  });
  it('the feature lists name what the plan lacks and the plan that has it', () => {
    show(createElement(PlanFeatures, { plan: STARTER, catalog: CATALOG }));
    const included = screen.getByRole('list', { name: 'Included in your plan' });
    expect(included.textContent).toBe('Policies');
    const missing = screen.getByRole('list', { name: 'Not in your plan' });
    expect(missing.textContent).toContain('Human approvals (comes with the growth plan)');
    expect(missing.textContent).toContain('Report insights (comes with the scale plan)');
  });
});
