/**
 * PostgreSQL: a write description as Kysely queries through `orgScope` (so the org is set and filtered
 * the one way every store uses). Rows are inserted many per statement (a round trip per row would be
 * the cost on a network database); the merge rules are the same SQL as SQLite's (`mergeSql`).
 */
import { type RawBuilder, sql } from 'kysely';
import type { OrgId } from '../../platform/caller.ts';
import { type Exec, type OrgTable, orgScope } from '../org-scope.ts';
import {
  type Assign,
  type Column,
  literalSql,
  type Merge,
  mergeSql,
  type UpdateDescription,
  type UpsertDescription,
} from './write-description.ts';

type Values<C extends string> = { readonly [K in C]?: unknown };

/** Rows per statement: well under PostgreSQL's 65,535 parameters for the widest described table. */
const CHUNK = 400;

/** Inserts (or merges) `rows` of one org, `CHUNK` per statement. */
export async function upsertRows<T extends OrgTable, C extends Column<T>>(
  exec: Exec,
  orgId: OrgId,
  d: UpsertDescription<T, C>,
  rows: readonly Values<C>[],
) {
  const scope = orgScope(exec, orgId);
  // The partition column joins the unique key (events: (org_id, id, ts), see db/partitions.ts).
  const conflict = ['org_id', ...d.key, ...(d.partitionedBy ? [d.partitionedBy] : [])];
  const set = d.onConflict === 'nothing' ? null : (Object.entries(d.onConflict) as [string, Merge][]);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = rows.slice(i, i + CHUNK).map((r) => {
      const v: Record<string, unknown> = { ...d.inserted };
      for (const c of d.columns) v[c] = r[c] ?? null;
      return v;
    });
    await scope
      .insertInto(d.table, values as never)
      .onConflict((oc) => {
        const on = oc.columns(conflict as never);
        if (!set) return on.doNothing();
        return on.doUpdateSet(
          Object.fromEntries(set.map(([c, rule]) => [c, sql.raw(mergeSql(d.table, c, rule))])) as never,
        );
      })
      .execute();
  }
}

function assign(c: string, a: Assign, v: unknown): RawBuilder<unknown> {
  const stored = sql.ref(c);
  if (typeof a === 'object') return sql.raw(literalSql(a.literal));
  switch (a) {
    case 'value':
      return sql`${v}`;
    case 'stored-or-value':
      return sql`coalesce(${stored}, ${v})`;
    case 'add':
      return sql`${stored} + ${v}`;
    case 'max':
      return sql`greatest(${stored}, ${v})`;
    case 'increment':
      return sql`${stored} + 1`;
  }
}

/** Updates the org's row with the key in `values`; `numUpdatedRows` is 0 when a guard did not match. */
export async function updateRow<T extends OrgTable>(
  exec: Exec,
  orgId: OrgId,
  d: UpdateDescription<T>,
  values: Values<Column<T>>,
) {
  const v = values as Record<string, unknown>;
  const set = Object.fromEntries(Object.entries(d.set).map(([c, a]) => [c, assign(c, a as Assign, v[c] ?? null)]));
  let q = orgScope(exec, orgId)
    .updateTable(d.table as OrgTable)
    .set(set as never);
  for (const c of d.key) q = q.where(sql<boolean>`${sql.ref(c)} = ${v[c] ?? null}`);
  for (const g of d.guards ?? [])
    q = q.where(
      sql<boolean>`${sql.ref(g.column)} ${sql.raw(g.op)} ${g.literal === undefined ? (v[g.column] ?? null) : g.literal}`,
    );
  return q.executeTakeFirst();
}
