/**
 * The one rewrite of recorded decisions another module makes: the privacy module's re-redaction, which
 * must reach every stored copy of content. The policies module owns the table, so the page's read and
 * its updates are here; what the content becomes is the caller's `rewrite`.
 */
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

export interface DecisionContent {
  agent_id: string;
  action: string;
  context: string;
}

/**
 * Reads up to `limit` decisions after `afterId` (keyset on id) and stores `rewrite`'s content for those
 * it changes (`null`: unchanged). Decision rows are written once and never updated, so no compare-and-set
 * is needed.
 */
export async function rewriteDecisionContent(
  exec: Exec,
  orgId: OrgId,
  afterId: string,
  limit: number,
  rewrite: (row: DecisionContent) => { action: string; context: string } | null,
) {
  const scope = orgScope(exec, orgId);
  const rows = await scope
    .selectFrom('decisions')
    .select(['id', 'agent_id', 'action', 'context'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  let changed = 0;
  for (const row of rows) {
    const next = rewrite(row);
    if (!next) continue;
    await scope.updateTable('decisions').set(next).where('id', '=', row.id).execute();
    changed++;
  }
  return { scanned: rows.length, changed, lastId: rows[rows.length - 1]?.id ?? null };
}
