/**
 * The runs filter by outcome, in SQL: the same rule as contracts' `runOutcome`, which the DTO, the console
 * and the rollups use (change them together). A blocked or paused run is stored as `failed` with the
 * error the SDK ended it with (`{"name":"PolicyBlockedError",…}`), so those outcomes are `failed` runs
 * whose error's `name` says so. The `status` condition comes first: the `(org_id, status, started_at)`
 * index narrows the scan to the org's failed runs before any error is looked at.
 *
 * `error` is always JSON (written with JSON.stringify); a scalar or array has no `name` (NULL).
 */
import type { RunOutcome } from '@agentops-hub/contracts';
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';

/** The error's `name`, '' when it has none. Case-sensitive on both databases, as `runOutcome` is. */
function errorNameHas(dialect: Dialect, word: 'Blocked' | 'Paused') {
  return dialect === 'postgres'
    ? sql<SqlBool>`strpos(coalesce(error::jsonb ->> 'name', ''), ${word}) > 0`
    : sql<SqlBool>`instr(coalesce(json_extract(error, '$.name'), ''), ${word}) > 0`;
}

/**
 * A condition for `runs` that keeps the runs with this outcome.
 * @example q.where(outcomeIs('postgres', 'blocked'))
 */
export function outcomeIs(dialect: Dialect, outcome: RunOutcome) {
  return (eb: ExpressionBuilder<Database, 'runs'>): Expression<SqlBool> => {
    if (outcome === 'running' || outcome === 'completed') return eb('status', '=', outcome);
    const failed = eb('status', '=', 'failed');
    const blocked = errorNameHas(dialect, 'Blocked');
    const paused = errorNameHas(dialect, 'Paused');
    // Blocked wins when a name says both, as in runOutcome.
    if (outcome === 'blocked') return eb.and([failed, blocked]);
    if (outcome === 'paused') return eb.and([failed, eb.not(blocked), paused]);
    return eb.and([failed, eb.not(blocked), eb.not(paused)]);
  };
}
