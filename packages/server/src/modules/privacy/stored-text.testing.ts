/**
 * For the privacy tests: every byte the hub stored, as text, to search for original values. On SQLite
 * the database file and its WAL as they are on disk (free pages included); on PostgreSQL every table
 * dumped as text (`x::text`, live rows). Also the org's cold archives, unzipped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import type { TestHub } from '../../testing/test-hub.ts';

export async function storedText(t: TestHub): Promise<string> {
  if (t.hub.ctx.db.dialect === 'sqlite') {
    const dir = t.database.dataDir;
    return readdirSync(dir)
      .filter((f) => f.startsWith('hub.db'))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('\n');
  }
  const db = t.hub.ctx.db.db;
  const tables = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname = current_schema()`.execute(db);
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const r = await sql<{ t: string | null }>`SELECT string_agg(x::text, E'\n') AS t FROM ${sql.table(name)} x`.execute(
      db,
    );
    parts.push(r.rows[0]?.t ?? '');
  }
  return parts.join('\n');
}

/** The org's cold archives, unzipped and joined ('' when it has none). */
export function archivedText(t: TestHub, orgId: string): string {
  const dir = join(t.database.dataDir, 'archives', orgId);
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .filter((f) => f.endsWith('.gz'))
    .map((f) => gunzipSync(readFileSync(join(dir, f))).toString())
    .join('\n');
}
