/**
 * The runs module's reads of ingestion's `runs` table: the explorer's list (filters, cursor paging), the
 * exact reference match its search adds, one run and its children. The runs module decides what the
 * filters are (an outcome is its rule, handed in as a condition); the queries on the table are here.
 * Every query is scoped to one org by `orgScope`.
 */
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { likePattern } from '../../db/like.ts';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export interface RunListFilter {
  agentId?: string;
  /** A condition on `runs`, such as the runs module's outcome filter. */
  where?: (eb: ExpressionBuilder<Database, 'runs'>) => Expression<SqlBool>;
  environment?: string;
  /** started_at in [from, to), epoch ms. */
  from?: number;
  to?: number;
  tag?: string;
  /** Only these runs (a text search's hits). */
  ids?: readonly string[];
  /** Keyset: runs before this (started_at, id), newest first. */
  before?: { startedAt: number; id: string };
}

/** Up to `limit` runs matching `f`, newest first (by started_at, then id). */
export function listRuns(exec: Exec, orgId: OrgId, f: RunListFilter, limit: number) {
  let q = orgScope(exec, orgId).selectFrom('runs').selectAll();
  if (f.agentId) q = q.where('agent_id', '=', f.agentId);
  if (f.where) q = q.where(f.where);
  if (f.environment) q = q.where('environment', '=', f.environment);
  if (f.from !== undefined) q = q.where('started_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('started_at', '<', f.to);
  if (f.tag) q = q.where(sql<boolean>`tags like ${likePattern(JSON.stringify(f.tag))} escape '\\'`);
  if (f.ids) q = q.where('id', 'in', f.ids);
  const c = f.before;
  if (c)
    q = q.where((eb) =>
      eb.or([eb('started_at', '<', c.startedAt), eb.and([eb('started_at', '=', c.startedAt), eb('id', '<', c.id)])]),
    );
  return q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Ids of the runs whose external reference is exactly `ref` (references are often typed whole). */
export async function runIdsByRef(exec: Exec, orgId: OrgId, ref: string) {
  return (await orgScope(exec, orgId).selectFrom('runs').select('id').where('external_ref', '=', ref).execute()).map(
    (r) => r.id,
  );
}

/** One run by id. */
export function runById(exec: Exec, orgId: OrgId, id: string) {
  return orgScope(exec, orgId).selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Ids of the runs whose parent is `id`. */
export async function childRunIds(exec: Exec, orgId: OrgId, id: string) {
  return (await orgScope(exec, orgId).selectFrom('runs').select('id').where('parent_run_id', '=', id).execute()).map(
    (r) => r.id,
  );
}
