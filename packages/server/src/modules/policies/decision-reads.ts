/**
 * Reads of recorded decisions for other modules (alerts, stats, runs), so they never name the
 * `decisions` table themselves. Apart from decisions.store.ts, which holds the evaluate path's writes.
 * Every read is scoped to one org by `orgScope` and bounded by an index on (org_id, created_at) or
 * (org_id, run_id).
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

/** BLOCK decisions since `from`, of the given agents (`null`: every agent; an empty list counts none). */
export async function blockedSince(exec: Exec, orgId: OrgId, agentIds: readonly string[] | null, from: number) {
  if (agentIds?.length === 0) return 0;
  let q = orgScope(exec, orgId)
    .selectFrom('decisions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_at', '>=', from)
    .where('decision', '=', 'BLOCK');
  if (agentIds) q = q.where('agent_id', 'in', agentIds);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

/**
 * The next `limit` decisions after the cursor `(at, id)` that blocked or matched a log-only rule, in
 * (created_at, id) order: what the policy-violation notices announce.
 */
export function violationsAfter(exec: Exec, orgId: OrgId, from: { at: number; id: string }, limit: number) {
  return orgScope(exec, orgId)
    .selectFrom('decisions')
    .select(['id', 'agent_id', 'action_type', 'decision', 'reasons', 'monitors', 'created_at'])
    .where((eb) =>
      eb.or([eb('created_at', '>', from.at), eb.and([eb('created_at', '=', from.at), eb('id', '>', from.id)])]),
    )
    .where((eb) => eb.or([eb('decision', '=', 'BLOCK'), eb('monitors', '!=', '[]')]))
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** A run's decisions in time order (the replay timeline), at most `limit`. */
export function decisionsOfRun(exec: Exec, orgId: OrgId, runId: string, limit: number) {
  return orgScope(exec, orgId)
    .selectFrom('decisions')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('created_at')
    .limit(limit)
    .execute();
}
