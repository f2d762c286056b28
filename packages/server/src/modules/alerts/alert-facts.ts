/**
 * The facts alert rules watch, read by the evaluation job only (never on a request's path): rollup
 * totals through the stats door, and a few indexed counts from other modules' tables (decisions,
 * approvals, runs, agents). Reading those tables here is deliberate: the policies, approvals and ingestion
 * hot paths stay untouched, and every query is bounded by an index on (org_id, …, time), so a pass costs
 * the same whatever the total volume of events.
 */
import type { AlertScope } from '@agentops-hub/contracts';
import { sql } from 'kysely';
import { likePattern } from '../../db/like.ts';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

/** Agent ids a scope covers: null means every agent of the org (no filter). */
export async function agentsInScope(db: Exec, orgId: OrgId, scope: AlertScope): Promise<string[] | null> {
  if (scope.type === 'org') return null;
  const q = orgScope(db, orgId).selectFrom('agents').select(['id', 'tags']);
  if (scope.type === 'agent') {
    const rows = await q.where((eb) => eb.or([eb('id', '=', scope.value), eb('name', '=', scope.value)])).execute();
    return rows.map((r) => r.id);
  }
  if (scope.type === 'team') return (await q.where('team_id', '=', scope.value).execute()).map((r) => r.id);
  // Tags are a JSON array in text: match the quoted element, then confirm on the parsed list.
  const rows = await q.where(sql<boolean>`tags like ${likePattern(JSON.stringify(scope.value))} escape '\\'`).execute();
  return rows.filter((r) => (JSON.parse(r.tags) as string[]).includes(scope.value)).map((r) => r.id);
}

/** BLOCK decisions since `from` (indexed on org_id, created_at). */
export async function blockedActions(db: Exec, orgId: OrgId, agentIds: string[] | null, from: number) {
  if (agentIds?.length === 0) return 0;
  let q = orgScope(db, orgId)
    .selectFrom('decisions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_at', '>=', from)
    .where('decision', '=', 'BLOCK');
  if (agentIds) q = q.where('agent_id', 'in', agentIds);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

/** Approvals still pending (not expired) that were asked for at or before `askedBefore`. */
export async function approvalsWaiting(
  db: Exec,
  orgId: OrgId,
  agentIds: string[] | null,
  askedBefore: number,
  now: number,
) {
  if (agentIds?.length === 0) return 0;
  let q = orgScope(db, orgId)
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending')
    .where('requested_at', '<=', askedBefore)
    .where('expires_at', '>', now);
  if (agentIds) q = q.where('agent_id', 'in', agentIds);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

/**
 * How many agents in scope have not reported a run since `since`. An agent's last report is its newest
 * run's start (one index seek per agent on runs(org_id, agent_id, started_at)); an agent that never
 * reported counts from its registration.
 */
export async function silentAgents(db: Exec, orgId: OrgId, agentIds: string[] | null, since: number) {
  const scope = orgScope(db, orgId);
  let agents = scope.selectFrom('agents').select(['id', 'created_at']);
  if (agentIds) {
    if (agentIds.length === 0) return { count: 0, ids: [] as string[] };
    agents = agents.where('id', 'in', agentIds);
  }
  const silent: string[] = [];
  for (const a of await agents.execute()) {
    if (Number(a.created_at) > since) continue;
    const last = await scope
      .selectFrom('runs')
      .select('started_at')
      .where('agent_id', '=', a.id)
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last || Number(last.started_at) < since) silent.push(a.id);
  }
  return { count: silent.length, ids: silent };
}
