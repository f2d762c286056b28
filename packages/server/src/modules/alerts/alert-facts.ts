/**
 * The facts alert rules watch, read by the evaluation job only (never on a request's path): rollup
 * totals through the stats door, and a few indexed counts through the doors of the modules that own the
 * tables (agents, policies' decisions, approvals, ingestion's runs). Every query is bounded by an index on
 * (org_id, …, time), so a pass costs the same whatever the total volume of events.
 */
import type { AlertScope } from '@agentops-hub/contracts';
import type { Exec } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createAgentStore } from '../agents/index.ts';
import { countWaiting } from '../approvals/index.ts';
import { lastRunStarts } from '../ingestion/index.ts';
import { blockedSince } from '../policies/index.ts';

/** Agent ids a scope covers: null means every agent of the org (no filter). Read through the agents door. */
export async function agentsInScope(db: Exec, orgId: OrgId, scope: AlertScope): Promise<string[] | null> {
  if (scope.type === 'org') return null;
  const agents = createAgentStore(db).forOrg(orgId);
  if (scope.type === 'agent') return agents.idsMatching({ idOrName: scope.value });
  if (scope.type === 'team') return agents.idsMatching({ teamId: scope.value });
  return agents.idsMatching({ tag: scope.value });
}

/** BLOCK decisions since `from` (indexed on org_id, created_at), through the policies door. */
export const blockedActions = (db: Exec, orgId: OrgId, agentIds: string[] | null, from: number) =>
  blockedSince(db, orgId, agentIds, from);

/** Approvals still pending (not expired) that were asked for at or before `askedBefore`. */
export const approvalsWaiting = (db: Exec, orgId: OrgId, agentIds: string[] | null, askedBefore: number, now: number) =>
  countWaiting(db, orgId, agentIds, askedBefore, now);

/**
 * How many agents in scope have not reported a run since `since`. An agent's last report is its newest
 * run's start (one index seek per agent, through the ingestion door); an agent that never reported
 * counts from its registration, so one registered after `since` is not looked up.
 */
export async function silentAgents(db: Exec, orgId: OrgId, agentIds: string[] | null, since: number) {
  if (agentIds?.length === 0) return { count: 0, ids: [] as string[] };
  const old = (await createAgentStore(db).forOrg(orgId).registeredAt(agentIds))
    .filter((a) => Number(a.created_at) <= since)
    .map((a) => a.id);
  const last = await lastRunStarts(db, orgId, old);
  const silent = old.filter((id) => (last.get(id) ?? -1) < since);
  return { count: silent.length, ids: silent };
}
