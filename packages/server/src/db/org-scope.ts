/**
 * The one way a store reaches a tenant's rows. `orgScope(exec, orgId)` hands out query builders that
 * already carry `org_id = orgId` (selects, updates, deletes) or set it (inserts), so no store writes an
 * `org_id` filter by hand and a query cannot forget it. `test/org-scope-grep.test.ts` fails on a
 * hand-written `org_id` filter outside this file.
 *
 * The `OrgId` brand comes from authentication (or a reviewed `*.system.ts` path), so a scope cannot be
 * built from an id a client sent.
 */
import {
  type DeleteQueryBuilder,
  type DeleteResult,
  type Insertable,
  type Kysely,
  type SelectQueryBuilder,
  sql,
  type UpdateQueryBuilder,
  type UpdateResult,
} from 'kysely';
import type { OrgId } from '../platform/caller.ts';
import type { Database } from './schema.ts';

/** A connection or a transaction (a `Transaction` is a `Kysely`). */
export type Exec = Kysely<Database>;

/** The tables whose rows belong to one org (they have an `org_id` column). */
export type OrgTable = {
  [K in keyof Database]: Database[K] extends { org_id: unknown } ? K : never;
}[keyof Database];

/** A row to insert, without `org_id`: the scope sets it. */
export type OrgInsert<T extends OrgTable> = Omit<Insertable<Database[T]>, 'org_id'>;

// The builders are cast because Kysely cannot resolve its overloads for a generic table; every caller
// names a concrete table that `OrgTable` proves has an `org_id` column, so the result is exact.
const orgColumn = (table: string) => sql.ref<string>(`${table}.org_id`);
const sameOrgAs = (table: string, orgId: OrgId) => sql<boolean>`${orgColumn(table)} = ${orgId}`;

/** An org table under an alias, `'runs as r'`, for queries that join it to itself or read shorter. */
export type AliasedOrgTable = `${OrgTable} as ${string}`;

/** What `exec.selectFrom(table)` returns before anything is selected (Kysely's own `{}` output). */
type Selecting<TE extends OrgTable | AliasedOrgTable> = TE extends `${infer T extends OrgTable} as ${infer A}`
  ? // biome-ignore lint/complexity/noBannedTypes: Kysely's empty selection is typed `{}`.
    SelectQueryBuilder<Database & { [K in A]: Database[T] }, A, {}>
  : TE extends OrgTable
    ? // biome-ignore lint/complexity/noBannedTypes: Kysely's empty selection is typed `{}`.
      SelectQueryBuilder<Database, TE, {}>
    : never;

/** The name a query refers to the table by: its alias when it has one. */
const nameIn = (table: string) => table.split(' as ')[1]?.trim() ?? table;

export function orgScope(exec: Exec, orgId: OrgId) {
  return {
    orgId,
    exec,
    selectFrom<TE extends OrgTable | AliasedOrgTable>(table: TE): Selecting<TE> {
      const q = exec.selectFrom(table as OrgTable) as unknown as SelectQueryBuilder<Database, OrgTable, object>;
      return q.where(sameOrgAs(nameIn(table), orgId)) as unknown as Selecting<TE>;
    },
    updateTable<T extends OrgTable>(table: T): UpdateQueryBuilder<Database, T, T, UpdateResult> {
      const q = exec.updateTable(table as OrgTable) as unknown as UpdateQueryBuilder<Database, T, T, UpdateResult>;
      return q.where(sameOrgAs(table, orgId));
    },
    deleteFrom<T extends OrgTable>(table: T): DeleteQueryBuilder<Database, T, DeleteResult> {
      const q = exec.deleteFrom(table as OrgTable) as unknown as DeleteQueryBuilder<Database, T, DeleteResult>;
      return q.where(sameOrgAs(table, orgId));
    },
    insertInto<T extends OrgTable>(table: T, rows: OrgInsert<T> | readonly OrgInsert<T>[]) {
      const list = (Array.isArray(rows) ? rows : [rows]) as OrgInsert<T>[];
      const values = list.map((r) => ({ ...r, org_id: orgId }) as unknown as Insertable<Database[T]>);
      return exec.insertInto(table).values(values);
    },
    /**
     * How many rows of `table` the org has, or of those `filter` keeps: the caps on what an org may
     * create (platform/org-caps.ts). `count('api_keys', (q) => q.where('revoked_at', 'is', null))`.
     */
    async count<T extends OrgTable>(
      table: T,
      // biome-ignore lint/complexity/noBannedTypes: Kysely's empty selection is typed `{}`.
      filter: (q: SelectQueryBuilder<Database, T, {}>) => SelectQueryBuilder<Database, T, {}> = (q) => q,
    ): Promise<number> {
      // biome-ignore lint/complexity/noBannedTypes: Kysely's empty selection is typed `{}`.
      const q = exec.selectFrom(table as OrgTable) as unknown as SelectQueryBuilder<Database, T, {}>;
      const scoped = filter(q.where(sameOrgAs(table, orgId)));
      const r = await (scoped as unknown as SelectQueryBuilder<Database, OrgTable, object>)
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    /** The same scope inside a transaction. */
    in(trx: Exec) {
      return orgScope(trx, orgId);
    },
    /**
     * A join condition keeping joined rows in the same org, for joins whose key is not already unique
     * per org: `.innerJoin('agents', (j) => j.onRef('agents.id', '=', 'runs.agent_id').on(scope.sameOrg('agents', 'runs')))`.
     * Name each side as the query does: the table, or its alias (`sameOrg('a', 'r')`).
     */
    sameOrg(left: OrgTable | (string & {}), right: OrgTable | (string & {})) {
      return sql<boolean>`${orgColumn(left)} = ${orgColumn(right)}`;
    },
  };
}

export type OrgScope = ReturnType<typeof orgScope>;
