/**
 * The one rewrite of approvals another module makes: the privacy module's re-redaction of the action
 * approvers are shown (the hash that binds the approval is of the full action, and stays). The approvals
 * module owns the table, so the page's read and its updates are here; the new content is the caller's.
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

/**
 * Reads up to `limit` approvals after `afterId` (keyset on id) and stores `rewrite`'s action for those it
 * changes (`null`: unchanged). Only `action` is set: a decision on the approval racing the page keeps its
 * own columns.
 */
export async function rewriteApprovalActions(
  exec: Exec,
  orgId: OrgId,
  afterId: string,
  limit: number,
  rewrite: (row: { agent_id: string; action: string }) => string | null,
) {
  const scope = orgScope(exec, orgId);
  const rows = await scope
    .selectFrom('approvals')
    .select(['id', 'agent_id', 'action'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  let changed = 0;
  for (const row of rows) {
    const action = rewrite(row);
    if (action === null) continue;
    await scope.updateTable('approvals').set({ action }).where('id', '=', row.id).execute();
    changed++;
  }
  return { scanned: rows.length, changed, lastId: rows[rows.length - 1]?.id ?? null };
}
