/**
 * SQLite: a write description as a raw better-sqlite3 prepared statement. The statement is prepared once
 * and run inside the caller's transaction while it holds Kysely's single connection (so nothing
 * interleaves); that is why ingestion and enrichment are fast on SQLite. The SQL is generated, never
 * written by hand: `org_id` comes first in every key and every value list, from the `OrgId` argument.
 */
import type { OrgId } from '../../platform/caller.ts';
import type { OrgTable } from '../org-scope.ts';
import {
  type Assign,
  assignedValues,
  type Column,
  guardValues,
  literalSql,
  type Merge,
  mergeSql,
  type UpdateDescription,
  type UpsertDescription,
} from './write-description.ts';

type Sqlite = import('better-sqlite3').Database;
type Values<C extends string> = { readonly [K in C]?: unknown };

const ORG = 'org_id';
/** The filter of a key: the org column first (from the `OrgId` argument), then the key within the org. */
const keyFilter = (key: readonly string[]) => [ORG, ...key].map((c) => `${c} = ?`).join(' and ');

export function upsertSql<T extends OrgTable>(d: UpsertDescription<T>): string {
  const inserted = Object.entries(d.inserted ?? {}) as [string, number | string][];
  const columns = [ORG, ...d.columns, ...inserted.map(([c]) => c)];
  const values = ['?', ...d.columns.map(() => '?'), ...inserted.map(([, v]) => literalSql(v))];
  const conflict = [ORG, ...d.key].join(', ');
  const onConflict =
    d.onConflict === 'nothing'
      ? 'do nothing'
      : `do update set ${Object.entries(d.onConflict)
          .map(([c, rule]) => `${c} = ${mergeSql(d.table, c, rule as Merge)}`)
          .join(', ')}`;
  return `insert into ${d.table} (${columns.join(', ')}) values (${values.join(', ')}) on conflict (${conflict}) ${onConflict}`;
}

const assignSql = (c: string, a: Assign) => {
  if (typeof a === 'object') return `${c} = ${literalSql(a.literal)}`;
  const to = { value: '?', 'stored-or-value': `coalesce(${c}, ?)`, add: `${c} + ?`, max: `max(${c}, ?)` };
  return `${c} = ${a === 'increment' ? `${c} + 1` : to[a]}`;
};

export function updateSql<T extends OrgTable>(d: UpdateDescription<T>): string {
  const set = Object.entries(d.set).map(([c, a]) => assignSql(c, a as Assign));
  const guards = (d.guards ?? []).map(
    (g) => `${g.column} ${g.op} ${g.literal === undefined ? '?' : literalSql(g.literal)}`,
  );
  return `update ${d.table} set ${set.join(', ')} where ${[keyFilter(d.key), ...guards].join(' and ')}`;
}

/** `upsert(orgId, row)`: inserts the row, or merges it into the stored one by the description's rules. */
export function prepareUpsert<T extends OrgTable, C extends Column<T>>(sqlite: Sqlite, d: UpsertDescription<T, C>) {
  const stmt = sqlite.prepare(upsertSql(d));
  const columns = d.columns;
  const n = columns.length;
  // One argument array per statement, refilled on every call: better-sqlite3 binds synchronously, and
  // an array per row was measurable garbage on the ingest path (bench/ingest.ts, batch_eps).
  const args: unknown[] = Array.from({ length: n + 1 }, () => null);
  return (orgId: OrgId, row: Values<C>) => {
    args[0] = orgId;
    for (let i = 0; i < n; i++) args[i + 1] = row[columns[i]!] ?? null;
    return stmt.run(args);
  };
}

/**
 * `update(orgId, values)`: `values` holds the key, the assigned columns and the guards compared with a
 * value; returns better-sqlite3's result (`changes` is 0 when a guard or the key did not match).
 */
export function prepareUpdate<T extends OrgTable>(sqlite: Sqlite, d: UpdateDescription<T>) {
  const stmt = sqlite.prepare(updateSql(d));
  // Parameter order follows the SQL: assignments, then org and key, then guards.
  const order = [...assignedValues(d).map(([c]) => c), ORG, ...d.key, ...guardValues(d)];
  const args: unknown[] = Array.from({ length: order.length }, () => null);
  return (orgId: OrgId, values: Values<Column<T>>) => {
    for (let i = 0; i < order.length; i++) {
      const c = order[i]!;
      args[i] = c === ORG ? orgId : ((values as Record<string, unknown>)[c] ?? null);
    }
    return stmt.run(args);
  };
}

/** `get(orgId, key)`: the row with this key in the org (reads inside a write transaction). */
export function prepareSelect<T extends OrgTable, K extends Column<T>, R>(
  sqlite: Sqlite,
  table: T,
  key: readonly K[],
  columns: readonly Column<T>[] | '*',
) {
  const list = columns === '*' ? '*' : columns.join(', ');
  const stmt = sqlite.prepare(`select ${list} from ${table} where ${keyFilter(key)}`);
  return (orgId: OrgId, values: Values<K>) => stmt.get([orgId, ...key.map((c) => values[c] ?? null)]) as R | undefined;
}
