/**
 * Reads of ingestion's tables for other modules (costs, policies, alerts), so they never name `events`, `runs` or
 * `rollups_hourly` themselves. Every read is scoped to one org by `orgScope`; pass the caller's
 * transaction as `exec` to read inside it.
 */
import { sql } from 'kysely';
import type { Exec } from '../../db/org-scope.ts';
import { orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

/**
 * Exact spend (nano-USD) of priced LLM calls in [start, end), from the events themselves: of the given
 * agents, or of the whole org when `agentIds` is absent (an empty list spends nothing).
 */
export async function llmSpend(
  exec: Exec,
  orgId: OrgId,
  start: number,
  end: number,
  agentIds?: readonly string[],
): Promise<number> {
  if (agentIds && !agentIds.length) return 0;
  let q = orgScope(exec, orgId)
    .selectFrom('events')
    .select((eb) => eb.fn.sum<number>('cost_nano').as('nano'))
    .where('type', '=', 'llm_call')
    .where('enriched', '=', 1)
    .where('ts', '>=', start)
    .where('ts', '<', end);
  if (agentIds) q = q.where('agent_id', 'in', agentIds);
  return Number((await q.executeTakeFirst())?.nano ?? 0);
}

/** A recorded tool call or external action, as the policy simulator replays it. */
export interface RecordedAction {
  id: string;
  agent_id: string;
  type: 'external_action' | 'tool_called';
  payload: string;
  ts: number;
}

/** One page of tool calls and external actions in [from, to) after `cursor`, in (ts, id) order. */
export async function recordedActions(
  exec: Exec,
  orgId: OrgId,
  from: number,
  to: number,
  cursor: { at: number; id: string } | null,
  n: number,
): Promise<RecordedAction[]> {
  let q = orgScope(exec, orgId)
    .selectFrom('events')
    .select(['id', 'agent_id', 'type', 'payload', 'ts'])
    .where('type', 'in', ['external_action', 'tool_called'])
    .where('ts', '>=', from)
    .where('ts', '<', to);
  if (cursor)
    q = q.where((eb) =>
      eb.or([eb('ts', '>', cursor.at), eb.and([eb('ts', '=', cursor.at), eb('id', '>', cursor.id)])]),
    );
  const rows = await q.orderBy('ts').orderBy('id').limit(n).execute();
  return rows.map((e) => ({ ...e, type: e.type as RecordedAction['type'], ts: Number(e.ts) }));
}

/** Sums of hourly rollup rows; numbers as the database returns them (the caller makes them numbers). */
export interface RollupSumRow {
  k: string;
  cost: unknown;
  input: unknown;
  output: unknown;
  calls: unknown;
  runs: unknown;
  unpriced: unknown;
}

/**
 * The org's hourly rollups in [start, end), summed per agent, model or hour. `models` reads the
 * per-model rows (each hour has them besides its all-models row, model ''); `agentIds` keeps those
 * agents only (an empty list matches nothing).
 */
export async function rollupSums(
  exec: Exec,
  orgId: OrgId,
  f: { by: 'agent' | 'model' | 'hour'; start: number; end: number; models: boolean; agentIds?: readonly string[] },
): Promise<RollupSumRow[]> {
  if (f.agentIds && !f.agentIds.length) return [];
  let q = orgScope(exec, orgId)
    .selectFrom('rollups_hourly')
    .select((eb) => [
      eb.fn.sum<number>('cost_nano').as('cost'),
      eb.fn.sum<number>('input_tokens').as('input'),
      eb.fn.sum<number>('output_tokens').as('output'),
      eb.fn.sum<number>('llm_calls').as('calls'),
      eb.fn.sum<number>('runs').as('runs'),
      eb.fn.sum<number>('unpriced_calls').as('unpriced'),
    ])
    .where('model', f.models ? '!=' : '=', '')
    .where('hour', '>=', f.start)
    .where('hour', '<', f.end);
  if (f.agentIds) q = q.where('agent_id', 'in', f.agentIds);
  const column = f.by === 'agent' ? 'agent_id' : f.by === 'model' ? 'model' : 'hour';
  const rows = await q.select(`${column} as k`).groupBy(column).execute();
  return rows.map((r) => ({ ...r, k: String(r.k) }));
}

/**
 * Each given agent's newest run start (absent: it never reported), for the silent-agent alert. One index
 * seek per agent on runs(org_id, agent_id, started_at): cheaper than a grouped max over all their runs.
 */
export async function lastRunStarts(exec: Exec, orgId: OrgId, agentIds: readonly string[]) {
  const scope = orgScope(exec, orgId);
  const out = new Map<string, number>();
  for (const id of agentIds) {
    const last = await scope
      .selectFrom('runs')
      .select('started_at')
      .where('agent_id', '=', id)
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (last) out.set(id, Number(last.started_at));
  }
  return out;
}

/** An agent's newest runs, newest first (its stats page's latest runs). */
export function latestRunsOfAgent(exec: Exec, orgId: OrgId, agentId: string, limit: number) {
  return orgScope(exec, orgId)
    .selectFrom('runs')
    .selectAll()
    .where('agent_id', '=', agentId)
    .orderBy('started_at', 'desc')
    .limit(limit)
    .execute();
}

/**
 * A run's events in timeline order (by `ts`, then arrival), at most `limit`. Not by id after that: ids
 * are the client's and say nothing of order, and events of one batch with the same `ts` come back in the
 * order they were written.
 */
const timeline = (exec: Exec, orgId: OrgId, runId: string, limit: number) =>
  orgScope(exec, orgId)
    .selectFrom('events')
    .where('run_id', '=', runId)
    .orderBy('ts')
    .orderBy('received_at')
    .limit(limit);

/**
 * A run's first events in timeline order, at most `limit` of them and at most `maxChars` of payload
 * together, and whether some were left out: the replay. The run detail answers in one body, and a run
 * may hold 10,000 events of 64 KiB each: read whole, one request would make the process hold gigabytes.
 * The sizes are read first (one narrow column), then only the events that fit.
 */
export async function eventsOfRunWithin(exec: Exec, orgId: OrgId, runId: string, limit: number, maxChars: number) {
  const sizes = await timeline(exec, orgId, runId, limit).select(sql<number>`length(payload)`.as('n')).execute();
  let total = 0;
  let fit = 0;
  for (const s of sizes) {
    total += Number(s.n);
    if (total > maxChars) break;
    fit++;
  }
  const rows = fit > 0 ? await timeline(exec, orgId, runId, fit).selectAll().execute() : [];
  return { rows, truncated: fit < sizes.length };
}
