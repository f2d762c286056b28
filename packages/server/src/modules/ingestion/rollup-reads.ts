/**
 * Reads of the hourly rollups for the stats module (dashboards, alert windows, plan usage), so it never
 * names `rollups_hourly` itself. Each reads the all-models rows (model '': an agent-hour's runs and LLM
 * totals), scoped to one org by `orgScope`; numbers come back as the database returns them (the caller
 * makes them numbers) and outcome arithmetic stays with the caller.
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

/** Per agent, sums of runs by outcome, cost, tokens and unpriced calls over the hours in [start, end). */
export function outcomeSumsByAgent(exec: Exec, orgId: OrgId, start: number, end: number) {
  return orgScope(exec, orgId)
    .selectFrom('rollups_hourly')
    .select((eb) => [
      'agent_id',
      eb.fn.sum<number>('runs').as('runs'),
      eb.fn.sum<number>('completed').as('completed'),
      eb.fn.sum<number>('failed').as('failed'),
      eb.fn.sum<number>('blocked').as('blocked'),
      eb.fn.sum<number>('paused').as('paused'),
      eb.fn.sum<number>('cost_nano').as('cost_nano'),
      eb.fn.sum<number>('input_tokens').as('input_tokens'),
      eb.fn.sum<number>('output_tokens').as('output_tokens'),
      eb.fn.sum<number>('unpriced_calls').as('unpriced_calls'),
    ])
    .where('model', '=', '')
    .where('hour', '>=', start)
    .where('hour', '<', end)
    .groupBy('agent_id')
    .execute();
}

/** One agent's rollup rows over the hours in [start, end), in hour order (its stats page's series). */
export function agentHours(exec: Exec, orgId: OrgId, agentId: string, start: number, end: number) {
  return orgScope(exec, orgId)
    .selectFrom('rollups_hourly')
    .selectAll()
    .where('agent_id', '=', agentId)
    .where('model', '=', '')
    .where('hour', '>=', start)
    .where('hour', '<', end)
    .orderBy('hour')
    .execute();
}

/** The rows of `agentIds` (every agent when null) for hours in [fromHour, to]. */
function windowRows(exec: Exec, orgId: OrgId, agentIds: readonly string[] | null, fromHour: number, to: number) {
  const q = orgScope(exec, orgId)
    .selectFrom('rollups_hourly')
    .where('model', '=', '')
    .where('hour', '>=', fromHour)
    .where('hour', '<=', to);
  return agentIds ? q.where('agent_id', 'in', agentIds) : q;
}

/** Sums of runs by outcome and cost over a window (one aggregate in the database). */
export function windowSums(exec: Exec, orgId: OrgId, agentIds: readonly string[] | null, fromHour: number, to: number) {
  return windowRows(exec, orgId, agentIds, fromHour, to)
    .select((eb) => [
      eb.fn.sum<number>('runs').as('runs'),
      eb.fn.sum<number>('completed').as('completed'),
      eb.fn.sum<number>('failed').as('failed'),
      eb.fn.sum<number>('blocked').as('blocked'),
      eb.fn.sum<number>('paused').as('paused'),
      eb.fn.sum<number>('cost_nano').as('cost_nano'),
    ])
    .executeTakeFirst();
}

/** The latency sketches (JSON) of the window's rows that have latencies, for the caller to merge. */
export function windowLatencies(
  exec: Exec,
  orgId: OrgId,
  agentIds: readonly string[] | null,
  fromHour: number,
  to: number,
) {
  return windowRows(exec, orgId, agentIds, fromHour, to)
    .select('latency_hist')
    .where('latency_count', '>', 0)
    .execute();
}

/** Runs and LLM calls recorded since `start` (the month's events, as plans count them). */
export function eventsSince(exec: Exec, orgId: OrgId, start: number) {
  return orgScope(exec, orgId)
    .selectFrom('rollups_hourly')
    .select((eb) => [eb.fn.sum<number>('runs').as('runs'), eb.fn.sum<number>('llm_calls').as('calls')])
    .where('model', '=', '')
    .where('hour', '>=', start)
    .executeTakeFirst();
}
