/**
 * System path (cross-org on purpose): the time zones of many orgs at once, for the budget ledger, which
 * runs inside one enrichment pass over the calls of many orgs. The org ids come from stored rows (the
 * events the pass priced), never from a request. A time zone is all these return.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** id → time zone of the given orgs (PostgreSQL path, inside the caller's transaction). */
export async function orgTimezones(exec: Kysely<Database> | Transaction<Database>, orgIds: readonly string[]) {
  if (!orgIds.length) return new Map<string, string>();
  const rows = await exec.selectFrom('orgs').select(['id', 'timezone']).where('id', 'in', orgIds).execute();
  return new Map(rows.map((r) => [r.id, r.timezone]));
}

const prepared = new WeakMap<object, import('better-sqlite3').Statement>();

/** SQLite: a synchronous lookup on the better-sqlite3 handle (the ledger runs inside its transaction). */
export function sqliteOrgTimezone(sqlite: import('better-sqlite3').Database): (orgId: string) => string | undefined {
  let stmt = prepared.get(sqlite);
  if (!stmt) {
    stmt = sqlite.prepare('select timezone from orgs where id = ?');
    prepared.set(sqlite, stmt);
  }
  const s = stmt;
  return (orgId) => (s.get(orgId) as { timezone: string } | undefined)?.timezone;
}
