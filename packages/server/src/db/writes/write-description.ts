/**
 * One definition per write. A hot write (the ingestion batch, the enrichment pass, the hourly rollups)
 * is described once: its table, the columns it writes, its key within the org, and what happens to each
 * column when the row already exists. Both dialects' SQL is generated from the description:
 * - `sqlite.ts` prepares raw better-sqlite3 statements (the fast path: run inside one transaction they
 *   are several times the statements per second of the query builder);
 * - `postgres.ts` builds the same statements with Kysely through `orgScope`.
 * `mergeRows` applies the same merge rules in memory, for two reports of one row in one batch.
 *
 * Every described table belongs to an org: the generators put `org_id` in front of every key and take
 * the org as an `OrgId`, so no write names `org_id` by hand (test/org-scope-grep.test.ts).
 */
import type { OrgTable } from '../org-scope.ts';
import type { Database } from '../schema.ts';

/** A column of an org table other than `org_id` (the generators add that one). */
export type Column<T extends OrgTable> = Exclude<keyof Database[T] & string, 'org_id'>;

/** A constant the description writes itself (`dirty = 1`, `status != 'failed'`). */
export type Literal = number | string;

/**
 * What an upsert does to a stored column when the row exists. Columns without a rule keep their
 * stored value (written on insert only: `id`, `created_at`).
 */
export type Merge =
  /** The new value. */
  | 'replace'
  /** The new value unless it is null: a later report that leaves a field out keeps the stored one. */
  | 'coalesce'
  /** The new value unless it is `'{}'`: a report without metadata keeps the stored metadata. */
  | 'unless-empty-object'
  /** Stored + 1 (row versions). */
  | 'increment'
  /** A constant (`dirty = 1`: enrichment looks at the row again). */
  | { literal: Literal };

export interface UpsertDescription<T extends OrgTable, C extends Column<T> = Column<T>> {
  table: T;
  /** The row's key within its org (the unique index is `org_id` followed by these). */
  key: readonly Column<T>[];
  /** PostgreSQL partitions the table by this column, so its unique key ends with it (db/partitions.ts). */
  partitionedBy?: Column<T>;
  /** Columns taken from the row, in order. */
  columns: readonly C[];
  /** Constants written on insert (columns not in `columns`). */
  inserted?: Partial<Record<Column<T>, Literal>>;
  /** On a conflict: `'nothing'` keeps the stored row; otherwise the rule per column. */
  onConflict: 'nothing' | Partial<Record<Column<T>, Merge>>;
}

/** How an update sets a column; `value` and friends take the call's value of that column. */
export type Assign =
  /** The value. */
  | 'value'
  /** The stored value if set, else the value (an end time is set once). */
  | 'stored-or-value'
  /** Stored + value (token and cost totals). */
  | 'add'
  /** The larger of stored and value (a 0/1 flag that, once set, stays). */
  | 'max'
  /** Stored + 1. */
  | 'increment'
  | { literal: Literal };

/** A condition besides the key: against a constant, or (no `literal`) against the call's value. */
export interface Guard<T extends OrgTable> {
  column: Column<T>;
  op: '=' | '!=';
  literal?: Literal;
}

export interface UpdateDescription<T extends OrgTable> {
  table: T;
  key: readonly Column<T>[];
  set: Partial<Record<Column<T>, Assign>>;
  /** Rows the update leaves alone fail one of these (`status != 'failed'`, `enriched = 0`). */
  guards?: readonly Guard<T>[];
}

/** Columns whose assignment reads a value from the call, in order. */
export const assignedValues = <T extends OrgTable>(d: UpdateDescription<T>) =>
  (Object.entries(d.set) as [Column<T>, Assign][]).filter(([, a]) => typeof a === 'string' && a !== 'increment');

/** Guards compared with a value from the call, in order. */
export const guardValues = <T extends OrgTable>(d: UpdateDescription<T>) =>
  (d.guards ?? []).filter((g) => g.literal === undefined).map((g) => g.column);

/** A constant as SQL (descriptions are code, never input; quotes are doubled all the same). */
export const literalSql = (v: Literal) => (typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

/**
 * A merge rule as SQL. The expression is the same in both dialects (`excluded.` is the proposed row
 * in SQLite and PostgreSQL alike), so it is written once, here.
 */
export function mergeSql(table: string, column: string, rule: Merge): string {
  if (typeof rule === 'object') return literalSql(rule.literal);
  switch (rule) {
    case 'replace':
      return `excluded.${column}`;
    case 'coalesce':
      return `coalesce(excluded.${column}, ${table}.${column})`;
    case 'unless-empty-object':
      return `case when excluded.${column} = '{}' then ${table}.${column} else excluded.${column} end`;
    case 'increment':
      return `${table}.${column} + 1`;
  }
}

/**
 * Two reports of one row in one batch, merged as the database would merge them (`later` arriving on
 * top of `earlier`), so a batch writes one row per key and the result does not depend on batching.
 */
export function mergeRows<T extends OrgTable, R extends Partial<Record<Column<T>, unknown>>>(
  d: UpsertDescription<T>,
  earlier: R,
  later: R,
): R {
  if (d.onConflict === 'nothing') return earlier;
  const out: Record<string, unknown> = { ...earlier };
  for (const [column, rule] of Object.entries(d.onConflict) as [keyof R & string, Merge][]) {
    if (!(column in later) && !(column in earlier)) continue;
    const a = earlier[column];
    const b = later[column];
    if (rule === 'replace') out[column] = b;
    else if (rule === 'coalesce') out[column] = b ?? a;
    else if (rule === 'unless-empty-object') out[column] = b === '{}' ? a : b;
  }
  return out as R;
}
