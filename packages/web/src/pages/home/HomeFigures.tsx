/**
 * The home page's figures, as the hub serves them (`GET /v1/stats/overview`, read from the hourly
 * rollups): runs by status with blocked and paused apart from failed, the success rate that leaves the
 * stopped runs out; and the org's policy adherence with the counts behind it (`GET /v1/stats/adherence`).
 */
import type { Adherence, StatsOverview } from '@agentops-hub/contracts';
import { Card, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { AnchorLink } from '../../components/links';
import { num, percent } from '../../lib/format';
import type { RunDisplayStatus } from '../../lib/status';

/** Runs per status, as the overview counts them (they add up to its `runs`). */
export function statusCounts(o: StatsOverview | undefined): Record<RunDisplayStatus, number> {
  return {
    completed: o?.completed ?? 0,
    failed: o?.failed ?? 0,
    blocked: o?.blocked ?? 0,
    paused: o?.paused ?? 0,
    running: o?.running ?? 0,
  };
}

/** The success rate, or null before any run finished on its own (the hub says 0 then). */
export function shownSuccessRate(o: StatsOverview): number | null {
  return o.completed + o.failed > 0 ? o.success_rate : null;
}

/**
 * What sits under the success rate: the failures it counts, and the stopped runs it leaves out.
 * @example outcomeHint({ failed: 3, blocked: 2, paused: 0 }) // "3 failed · 2 blocked, not counted"
 */
export function outcomeHint(c: Pick<Record<RunDisplayStatus, number>, 'failed' | 'blocked' | 'paused'>): string {
  const stopped = [c.blocked ? `${num(c.blocked)} blocked` : '', c.paused ? `${num(c.paused)} paused` : '']
    .filter(Boolean)
    .join(', ');
  return `${num(c.failed)} failed${stopped ? ` · ${stopped}, not counted` : ''}`;
}

/**
 * What sits under the adherence score: how many evaluated actions stayed inside the rules.
 * @example adherenceHint({ evaluated: 10, adherent: 9, pending: 0, … }) // "9 of 10 checked actions within the rules"
 */
export function adherenceHint(a: Adherence): string {
  if (a.evaluated === 0)
    return a.pending ? `${num(a.pending)} waiting for a person` : 'No action checked by a policy yet';
  const waiting = a.pending ? ` · ${num(a.pending)} waiting` : '';
  return `${num(a.adherent)} of ${num(a.evaluated)} checked actions within the rules${waiting}`;
}

/** One figure: its name, its value, and a line of context under it. */
export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: ReactNode }) {
  return (
    <Card withBorder padding="md">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700}>
        {value}
      </Text>
      {hint && (
        <Text size="sm" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

/** The success rate with the failures it counts and the blocked and paused runs it leaves out. */
export function SuccessStat({ overview }: { overview: StatsOverview }) {
  return (
    <Stat
      label="Success rate"
      value={percent(shownSuccessRate(overview))}
      hint={
        <AnchorLink to="/runs" search={{ status: 'failed' }} size="sm" c="dimmed">
          {outcomeHint(statusCounts(overview))}
        </AnchorLink>
      }
    />
  );
}

/** The org's policy adherence over the range: the score, and the counts behind it (while it loads, a dash). */
export function AdherenceStat({ adherence }: { adherence: Adherence | undefined }) {
  return (
    <Stat
      label="Policy adherence"
      value={percent(adherence?.score)}
      hint={adherence ? adherenceHint(adherence) : 'Counting checked actions…'}
    />
  );
}
