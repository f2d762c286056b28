// @vitest-environment happy-dom
/**
 * The home page's figures from the hub's overview: blocked and paused runs apart from failed ones and
 * left out of the success rate, and the org's adherence with the counts behind the score.
 */
import type { Adherence, StatsOverview } from '@agentops-hub/contracts';
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { AdherenceStat, adherenceHint, outcomeHint, shownSuccessRate, statusCounts } from './HomeFigures';

afterEach(cleanup);

const adherence = (a: Partial<Adherence>): Adherence => ({
  score: null,
  evaluated: 0,
  adherent: 0,
  blocked: 0,
  rejected: 0,
  overridden: 0,
  pending: 0,
  ...a,
});

const overview = (o: Partial<StatsOverview>): StatsOverview => ({
  from: '2026-01-01T00:00:00.000Z',
  to: '2026-01-08T00:00:00.000Z',
  runs: 0,
  completed: 0,
  failed: 0,
  blocked: 0,
  paused: 0,
  running: 0,
  success_rate: 0,
  cost_usd: 0,
  top_agents: [],
  ...o,
});

describe('runs by status', () => {
  it('takes each status from the overview, blocked and paused apart from failed', () => {
    const o = overview({ runs: 10, completed: 4, failed: 2, blocked: 3, paused: 1, running: 0 });
    expect(statusCounts(o)).toEqual({ completed: 4, failed: 2, blocked: 3, paused: 1, running: 0 });
    expect(statusCounts(undefined)).toEqual({ completed: 0, failed: 0, blocked: 0, paused: 0, running: 0 });
  });
  it('says which failures the rate counts and which stopped runs it leaves out', () => {
    expect(outcomeHint({ failed: 2, blocked: 3, paused: 1 })).toBe('2 failed · 3 blocked, 1 paused, not counted');
    expect(outcomeHint({ failed: 1200, blocked: 0, paused: 0 })).toBe('1,200 failed');
    expect(outcomeHint({ failed: 0, blocked: 0, paused: 4 })).toBe('0 failed · 4 paused, not counted');
  });
  it('has no success rate while only stopped or running runs exist (the hub answers 0 then)', () => {
    expect(shownSuccessRate(overview({ blocked: 2, running: 1, success_rate: 0 }))).toBeNull();
    expect(shownSuccessRate(overview({ completed: 3, failed: 1, success_rate: 0.75 }))).toBe(0.75);
  });
});

describe('AdherenceStat', () => {
  it('shows the score with how many checked actions stayed inside the rules', () => {
    render(
      createElement(
        MantineProvider,
        null,
        createElement(AdherenceStat, {
          adherence: adherence({ score: 0.9, evaluated: 10, adherent: 9, blocked: 1, pending: 2 }),
        }),
      ),
    );
    expect(screen.getByText('Policy adherence')).toBeTruthy();
    expect(screen.getByText('90%')).toBeTruthy();
    expect(screen.getByText('9 of 10 checked actions within the rules · 2 waiting')).toBeTruthy();
  });
  it('says so when nothing was checked, rather than showing 0%', () => {
    expect(adherenceHint(adherence({}))).toBe('No action checked by a policy yet');
    expect(adherenceHint(adherence({ pending: 1 }))).toBe('1 waiting for a person');
    render(createElement(MantineProvider, null, createElement(AdherenceStat, { adherence: adherence({}) })));
    expect(screen.getByText('—')).toBeTruthy();
  });
  it('shows a dash while the count is on its way', () => {
    render(createElement(MantineProvider, null, createElement(AdherenceStat, { adherence: undefined })));
    expect(screen.getByText('Counting checked actions…')).toBeTruthy();
  });
});
