/**
 * Reads of approvals for other modules (alerts, stats, runs), so they never name the `approvals` table
 * themselves. Every read is scoped to one org by `orgScope`.
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

/**
 * Approvals still pending (not expired) that were asked for at or before `askedBefore`, of the given
 * agents (`null`: every agent; an empty list counts none).
 */
export async function countWaiting(
  exec: Exec,
  orgId: OrgId,
  agentIds: readonly string[] | null,
  askedBefore: number,
  now: number,
) {
  if (agentIds?.length === 0) return 0;
  let q = orgScope(exec, orgId)
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending')
    .where('requested_at', '<=', askedBefore)
    .where('expires_at', '>', now);
  if (agentIds) q = q.where('agent_id', 'in', agentIds);
  return Number((await q.executeTakeFirst())?.n ?? 0);
}

/** A run's approvals in the order they were asked for (the replay timeline), at most `limit`. */
export function approvalsOfRun(exec: Exec, orgId: OrgId, runId: string, limit: number) {
  return orgScope(exec, orgId)
    .selectFrom('approvals')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('requested_at')
    .limit(limit)
    .execute();
}
