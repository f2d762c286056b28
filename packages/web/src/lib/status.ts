/**
 * One status vocabulary for runs, used by badges, charts, filters and success rates: completed, failed,
 * blocked, paused, running. The hub stores a run as running, completed or failed; a run the SDKs ended
 * because a policy refused its action (`PolicyBlockedError`, `ToolBlockedError`) or because its agent
 * was stopped (`AgentPausedError`, the kill switch) is stored as failed with that error's name, and
 * reads here as blocked or paused: it did what it was told, it did not break.
 */

export const RUN_STATUSES = ['completed', 'failed', 'blocked', 'paused', 'running'] as const;
export type RunDisplayStatus = (typeof RUN_STATUSES)[number];

/** Mantine colors, one per status, shared by badges and chart series. */
export const STATUS_COLOR: Record<RunDisplayStatus, string> = {
  completed: 'teal',
  failed: 'red',
  blocked: 'orange',
  paused: 'gray',
  running: 'blue',
};

export const STATUS_LABEL: Record<RunDisplayStatus, string> = {
  completed: 'Completed',
  failed: 'Failed',
  blocked: 'Blocked',
  paused: 'Paused',
  running: 'Running',
};

/** The name of the error a run ended with, when it has one (`{name, message}` from the SDKs). */
function errorName(error: unknown): string {
  if (error && typeof error === 'object' && 'name' in error) return String((error as { name: unknown }).name);
  return '';
}

/**
 * How a run reads: its stored status, refined by the error it ended with. The hub says it itself
 * (`outcome`, the same rule as here) and that wins: it is right even when the error is hidden from the
 * reader (no `view_content`), and it is what the runs filter and the stats count.
 * @example runStatus({ status: 'failed', error: { name: 'PolicyBlockedError', message: '…' } }) // 'blocked'
 */
export function runStatus(run: { status: string; error?: unknown; outcome?: RunDisplayStatus }): RunDisplayStatus {
  if (run.outcome) return run.outcome;
  if (run.status === 'running' || run.status === 'completed') return run.status;
  const name = errorName(run.error);
  if (/Blocked/.test(name)) return 'blocked';
  if (/Paused/.test(name)) return 'paused';
  return 'failed';
}

/**
 * Success rate of finished runs: completed against completed and failed. Blocked and paused runs were
 * stopped on purpose; they count neither way.
 * @example successRate({ completed: 9, failed: 1, blocked: 5 }) // 0.9
 */
export function successRate(c: Partial<Record<RunDisplayStatus, number>>): number | null {
  const done = (c.completed ?? 0) + (c.failed ?? 0);
  return done === 0 ? null : (c.completed ?? 0) / done;
}

/** Agent status as people should read it: while the kill switch is engaged, every agent is paused. */
export function agentStatus(agent: { status: string }, killSwitchEngaged: boolean | undefined): 'active' | 'paused' {
  return killSwitchEngaged || agent.status === 'paused' ? 'paused' : 'active';
}
