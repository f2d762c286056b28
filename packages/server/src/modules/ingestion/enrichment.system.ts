/**
 * The enrichment job's cross-org reads: the events not yet priced and the runs not yet counted, of every
 * org at once (one pass serves all tenants). This is a reviewed system path: the org ids of the rows it
 * reads are minted here (`trustedOrgId`), and every write that follows goes through the row's own org
 * scope (ingestion.writes.ts).
 */
import type { Dialect } from '../../db/database.ts';
import type { Exec } from '../../db/org-scope.ts';
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';
import { partitionOf } from '../../platform/jobs/partition-leases.ts';

/** Which orgs a pass reads: every org, or those of the partitions this process leases (PostgreSQL). */
export type PartitionFilter = 'all' | readonly number[];

export interface PendingEvent {
  org_id: OrgId;
  id: string;
  run_id: string;
  agent_id: string;
  type: string;
  ts: number;
  payload: string;
  received_at: number;
  /** The org's partition, when read for some partitions (cluster mode, PostgreSQL). */
  part?: number;
}

export interface DirtyRun {
  org_id: OrgId;
  id: string;
  agent_id: string;
  status: string;
  /** JSON as stored; enrichment tells a blocked or paused run from a failed one by it. */
  error: string | null;
  started_at: number;
  ended_at: number | null;
  counted: string | null;
  version: number;
  updated_at: number;
}

/** Events not yet enriched (of every org, or of the given partitions), oldest received first. */
export async function pendingEvents(db: Exec, limit: number, parts: PartitionFilter = 'all'): Promise<PendingEvent[]> {
  if (parts !== 'all' && parts.length === 0) return [];
  const q = db
    .selectFrom('events')
    .select(['org_id', 'id', 'run_id', 'agent_id', 'type', 'ts', 'payload', 'received_at'])
    .where('enriched', '=', 0);
  if (parts === 'all') {
    const rows = await q.orderBy('received_at').limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      org_id: trustedOrgId(r.org_id),
      ts: Number(r.ts),
      received_at: Number(r.received_at),
    }));
  }
  const rows = await q
    .select(partitionOf('org_id').as('part'))
    .where(partitionOf('org_id'), 'in', [...parts])
    .orderBy('received_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    ...r,
    part: Number(r.part),
    org_id: trustedOrgId(r.org_id),
    ts: Number(r.ts),
    received_at: Number(r.received_at),
  }));
}

/** The newest `received_at` among events not yet enriched (any org), or null when caught up. */
export async function newestPending(db: Exec): Promise<number | null> {
  const r = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('received_at').as('m'))
    .where('enriched', '=', 0)
    .executeTakeFirst();
  return r?.m == null ? null : Number(r.m);
}

/** Whether any event received at or before `at` is still not enriched (any org). */
export async function pendingUpTo(db: Exec, at: number): Promise<boolean> {
  const r = await db
    .selectFrom('events')
    .select('id')
    .where('enriched', '=', 0)
    .where('received_at', '<=', at)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

/** Age in ms of the oldest event not yet enriched in the given partitions (0 when caught up). */
export async function oldestPendingAge(db: Exec, parts: PartitionFilter, now: number): Promise<number> {
  if (parts !== 'all' && parts.length === 0) return 0;
  let q = db
    .selectFrom('events')
    .select((eb) => eb.fn.min('received_at').as('m'))
    .where('enriched', '=', 0);
  if (parts !== 'all') q = q.where(partitionOf('org_id'), 'in', [...parts]);
  const r = await q.executeTakeFirst();
  return r?.m == null ? 0 : Math.max(0, now - Number(r.m));
}

const DIRTY_COLUMNS = [
  'org_id',
  'id',
  'agent_id',
  'status',
  'error',
  'started_at',
  'ended_at',
  'counted',
  'version',
  'updated_at',
] as const;
const asDirtyRun = (r: Omit<DirtyRun, 'org_id'> & { org_id: string }): DirtyRun => ({
  ...r,
  org_id: trustedOrgId(r.org_id),
  started_at: Number(r.started_at),
  ended_at: r.ended_at === null ? null : Number(r.ended_at),
  version: Number(r.version),
  updated_at: Number(r.updated_at),
});

/**
 * Runs of any org whose rollup contribution is stale; on PostgreSQL locked for this pass (a run another
 * enricher holds is skipped, not waited for).
 */
export async function lockDirtyRuns(
  trx: Exec,
  dialect: Dialect,
  limit: number,
  parts: PartitionFilter = 'all',
): Promise<DirtyRun[]> {
  if (parts !== 'all' && parts.length === 0) return [];
  let q = trx
    .selectFrom('runs')
    .select([...DIRTY_COLUMNS])
    .where('dirty', '=', 1);
  if (parts !== 'all') q = q.where(partitionOf('org_id'), 'in', [...parts]);
  q = q.orderBy('updated_at').limit(limit);
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
