/**
 * The enrichment job's cross-org reads: the events not yet priced and the runs not yet counted, of every
 * org at once (one pass serves all tenants). This is a reviewed system path: the org ids of the rows it
 * reads are minted here (`trustedOrgId`), and every write that follows goes through the row's own org
 * scope (ingestion.writes.ts).
 */
import type { Dialect } from '../../db/database.ts';
import type { Exec } from '../../db/org-scope.ts';
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';

export interface PendingEvent {
  org_id: OrgId;
  id: string;
  run_id: string;
  agent_id: string;
  type: string;
  ts: number;
  payload: string;
}

export interface DirtyRun {
  org_id: OrgId;
  id: string;
  agent_id: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  counted: string | null;
  version: number;
}

/** Events of any org not yet enriched, oldest received first. */
export async function pendingEvents(db: Exec, limit: number): Promise<PendingEvent[]> {
  const rows = await db
    .selectFrom('events')
    .select(['org_id', 'id', 'run_id', 'agent_id', 'type', 'ts', 'payload'])
    .where('enriched', '=', 0)
    .orderBy('received_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, org_id: trustedOrgId(r.org_id), ts: Number(r.ts) }));
}

const DIRTY_COLUMNS = ['org_id', 'id', 'agent_id', 'status', 'started_at', 'ended_at', 'counted', 'version'] as const;
const asDirtyRun = (r: Omit<DirtyRun, 'org_id'> & { org_id: string }): DirtyRun => ({
  ...r,
  org_id: trustedOrgId(r.org_id),
  started_at: Number(r.started_at),
  ended_at: r.ended_at === null ? null : Number(r.ended_at),
  version: Number(r.version),
});

/**
 * Runs of any org whose rollup contribution is stale; on PostgreSQL locked for this pass (a run another
 * enricher holds is skipped, not waited for).
 */
export async function lockDirtyRuns(trx: Exec, dialect: Dialect, limit: number): Promise<DirtyRun[]> {
  let q = trx
    .selectFrom('runs')
    .select([...DIRTY_COLUMNS])
    .where('dirty', '=', 1)
    .orderBy('updated_at')
    .limit(limit);
  if (dialect === 'postgres') q = q.forUpdate().skipLocked();
  return (await q.execute()).map(asDirtyRun);
}

/** SQLite: the same read as a prepared statement, for the synchronous pass. */
export function prepareDirtyRuns(sqlite: import('better-sqlite3').Database) {
  const stmt = sqlite.prepare(
    `select ${DIRTY_COLUMNS.join(', ')} from runs where dirty = 1 order by updated_at limit ?`,
  );
  return (limit: number) => (stmt.all(limit) as Parameters<typeof asDirtyRun>[0][]).map(asDirtyRun);
}
