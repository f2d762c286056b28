/**
 * Finds every table that holds an org's rows by asking the database itself (every table with an
 * `org_id` column), so a table added by a later migration is exported and erased without anyone
 * remembering to list it here. PostgreSQL partitions are skipped: their partitioned parent covers them.
 *
 * `deletionOrder` sorts those tables so that a table is emptied before the tables it references
 * (children first), whatever their foreign keys say about cascading.
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';

export async function orgScopedTables(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  if (dialect === 'sqlite') {
    const r = await sql<{ name: string }>`
      SELECT m.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) p
      WHERE m.type = 'table' AND p.name = 'org_id' ORDER BY m.name`.execute(db);
    return r.rows.map((x) => x.name);
  }
  const r = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attname = 'org_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname = current_schema()
    ORDER BY c.relname`.execute(db);
  return r.rows.map((x) => x.name);
}

/** Every user table of the hub's schema (for tests that walk the whole database). */
export async function allTables(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  if (dialect === 'sqlite') {
    const r = await sql<{ name: string }>`
      SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`.execute(db);
    return r.rows.map((x) => x.name);
  }
  const r = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = current_schema() ORDER BY c.relname`.execute(
    db,
  );
  return r.rows.map((x) => x.name);
}

/** Foreign keys among `tables`: child → the tables it references. */
async function references(db: Kysely<Database>, dialect: Dialect, tables: string[]) {
  const refs = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  if (dialect === 'sqlite') {
    for (const t of tables) {
      const r = await sql<{ table: string }>`SELECT "table" FROM pragma_foreign_key_list(${t})`.execute(db);
      for (const x of r.rows) if (x.table !== t && refs.has(x.table)) refs.get(t)!.add(x.table);
    }
    return refs;
  }
  const r = await sql<{ child: string; parent: string }>`
    SELECT cc.relname AS child, pc.relname AS parent FROM pg_constraint k
      JOIN pg_class cc ON cc.oid = k.conrelid JOIN pg_class pc ON pc.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = cc.relnamespace
    WHERE k.contype = 'f' AND n.nspname = current_schema()`.execute(db);
  for (const x of r.rows)
    if (x.child !== x.parent && refs.has(x.child) && refs.has(x.parent)) refs.get(x.child)!.add(x.parent);
  return refs;
}

/** `tables` ordered children first: no table is emptied while another still points at it. */
export async function deletionOrder(db: Kysely<Database>, dialect: Dialect, tables: string[]): Promise<string[]> {
  const refs = await references(db, dialect, tables);
  const referencedBy = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  for (const [child, parents] of refs) for (const p of parents) referencedBy.get(p)!.add(child);
  const out: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (t: string) => {
    if (done.has(t) || visiting.has(t)) return; // a cycle: cascades resolve it
    visiting.add(t);
    for (const child of [...referencedBy.get(t)!].sort()) visit(child);
    visiting.delete(t);
    done.add(t);
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return out;
}
