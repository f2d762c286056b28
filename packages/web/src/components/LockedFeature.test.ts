// @vitest-environment happy-dom
/**
 * The locked panel and the one place that recognises a plan's 402: only `plan_feature_unavailable`
 * becomes a locked feature (other 402s and 4xx stay errors), and the panel shows the hub's sentence as
 * it came, labelled by the feature, with a link to the plan page. The browser journey against a real hub
 * is e2e/plans.spec.ts.
 */
import { MantineProvider } from '@mantine/core';
import { createMemoryHistory, createRootRoute, createRouter, RouterProvider } from '@tanstack/react-router';
import { cleanup, render, screen } from '@testing-library/react';
import { createElement, type ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, planLockOf } from '../api/client';
import { LockedFeature } from './LockedFeature';

const SENTENCE = 'Budgets is not included in your starter plan; it comes with the growth plan. Upgrade to use it.';

/** Renders `node` inside Mantine and a router (the panel's link is a router link). */
function show(node: ReactNode) {
  const router = createRouter({
    routeTree: createRootRoute({ component: () => node }),
    history: createMemoryHistory({ initialEntries: ['/budgets'] }),
  });
  return render(createElement(MantineProvider, null, createElement(RouterProvider, { router })));
}

afterEach(cleanup);

describe('planLockOf', () => {
  it("gives the hub's sentence for a 402 plan_feature_unavailable", () => {
    expect(planLockOf(new ApiError(402, 'plan_feature_unavailable', SENTENCE))).toBe(SENTENCE);
  });
  it('leaves every other error to the error state', () => {
    expect(planLockOf(new ApiError(402, 'plan_limit_reached', 'Your starter plan allows 5 agents'))).toBeUndefined();
    expect(planLockOf(new ApiError(403, 'forbidden', 'Policy simulation is switched off'))).toBeUndefined();
    expect(planLockOf(new ApiError(0, 'network', 'The hub did not answer.'))).toBeUndefined();
    expect(planLockOf(new Error(SENTENCE))).toBeUndefined();
    expect(planLockOf(null)).toBeUndefined();
  });
});

describe('LockedFeature', () => {
  it('shows the sentence in a region named after the feature, with the way to the plan page', async () => {
    show(createElement(LockedFeature, { feature: 'Budgets', sentence: SENTENCE }));
    const region = await screen.findByRole('region', { name: 'Budgets is locked' });
    expect(region.textContent).toContain('Not included in your plan');
    expect(region.textContent).toContain(SENTENCE);
    const link = screen.getByRole('link', { name: 'See what your plan includes' });
    expect(link.getAttribute('href')).toBe('/settings/plan');
    // A locked feature is not an error: nothing announces itself as an alert.
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
