/**
 * PostgreSQL: one enrichment write description (ingestion.writes.ts) applied to many rows of one org in
 * one statement, `UPDATE … FROM jsonb_to_recordset(…)`, with the same assignment and guard rules as
 * `updateRow` (db/writes/postgres.ts). A statement built and sent per row was most of a pass's cost
 * (about 85 µs of hub CPU per priced event with one process and 240 µs with three on 2 CPUs, where
 * each process warms up the query builder on a third of the rows), plus a PostgreSQL round trip each.
 *
 * It stays inside the org's scope (`orgScope`): a pass makes one statement per org it touched.
 */
import { type RawBuilder, sql } from 'kysely';
import { type Exec, type OrgTable, orgScope } from '../../db/org-scope.ts';
import { type Assign, type Column, literalSql, type UpdateDescription } from '../../db/writes/write-description.ts';
import type { OrgId } from '../../platform/caller.ts';

/** SQL types of the columns a batched update reads from its rows (jsonb_to_recordset needs them). */
const TYPES: Record<string, string> = {
  id: 'text',
  ts: 'bigint',
  model: 'text',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  cost_nano: 'bigint',
  cost_source: 'text',
  cost_unknown: 'integer',
  counted: 'text',
  version: 'bigint',
};

function assign(table: string, c: string, a: Assign): RawBuilder<unknown> {
  // The target's own column is named with its table: `v` has columns of the same names.
  const stored = sql.ref(`${table}.${c}`);
  const given = sql.ref(`v.${c}`);
  if (typeof a === 'object') return sql.raw(literalSql(a.literal));
  switch (a) {
    case 'value':
      return sql`${given}`;
    case 'stored-or-value':
      return sql`coalesce(${stored}, ${given})`;
    case 'add':
      return sql`${stored} + ${given}`;
    case 'max':
      return sql`greatest(${stored}, ${given})`;
    case 'increment':
      return sql`${stored} + 1`;
  }
}

/**
 * Updates the org's rows keyed by `d.key` (plus `alsoKey`, e.g. the partition column `ts` of events, so
 * PostgreSQL prunes partitions) with the values in `rows`; returns the keys (`d.key[0]`) of the rows
 * updated: a row whose guard failed (already enriched by someone else, a newer version) is not among them.
 */
export async function updateRowsPg<T extends OrgTable>(
  exec: Exec,
  orgId: OrgId,
  d: UpdateDescription<T>,
  rows: readonly Partial<Record<Column<T>, unknown>>[],
  alsoKey: readonly Column<T>[] = [],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const table = d.table as string;
  const sets = Object.entries(d.set) as [string, Assign][];
  const keys = [...d.key, ...alsoKey] as string[];
  const columns = [
    ...new Set([
      ...keys,
      ...sets.filter(([, a]) => typeof a === 'string' && a !== 'increment').map(([c]) => c),
      ...(d.guards ?? []).filter((g) => g.literal === undefined).map((g) => g.column as string),
    ]),
  ];
  const defs = sql.raw(columns.map((c) => `${c} ${TYPES[c] ?? 'text'}`).join(', '));
  const json = JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c as Column<T>] ?? null]))));
  let q = orgScope(exec, orgId)
    .updateTable(d.table)
    .from(sql`(select * from jsonb_to_recordset(${json}::jsonb) as t(${defs}))`.as('v') as never)
    .set(Object.fromEntries(sets.map(([c, a]) => [c, assign(table, c, a)])) as never);
  for (const k of keys) q = q.where(sql<boolean>`${sql.ref(`${table}.${k}`)} = ${sql.ref(`v.${k}`)}`);
  for (const g of d.guards ?? [])
    q = q.where(
      sql<boolean>`${sql.ref(`${table}.${g.column as string}`)} ${sql.raw(g.op)} ${
        g.literal === undefined ? sql.ref(`v.${g.column as string}`) : sql.raw(literalSql(g.literal))
      }`,
    );
  const done = await q.returning(sql<string>`${sql.ref(`${table}.${d.key[0] as string}`)}`.as('k') as never).execute();
  return new Set((done as unknown as { k: string }[]).map((r) => r.k));
}
