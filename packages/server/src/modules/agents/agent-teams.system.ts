/**
 * System path (cross-org on purpose): the teams of many orgs' agents at once, for the budget ledger,
 * which runs inside one enrichment pass over the calls of many orgs (a team budget covers its agents).
 * The (org, agent) pairs come from stored rows (the events the pass priced), never from a request, and
 * each agent is looked up within its own org. A team id is all these return.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** `org\u0000agent` → the agent's team (null: none), for the given orgs and agent ids (PostgreSQL path). */
export async function agentTeams(
  exec: Kysely<Database> | Transaction<Database>,
  orgIds: readonly string[],
  agentIds: readonly string[],
) {
  if (!orgIds.length || !agentIds.length) return new Map<string, string | null>();
  const rows = await exec
    .selectFrom('agents')
    .select(['org_id', 'id', 'team_id'])
    .where('org_id', 'in', orgIds)
    .where('id', 'in', agentIds)
    .execute();
  return new Map(rows.map((r) => [`${r.org_id}\u0000${r.id}`, r.team_id]));
}

const prepared = new WeakMap<object, import('better-sqlite3').Statement>();

/** SQLite: a synchronous lookup on the better-sqlite3 handle (the ledger runs inside its transaction). */
export function sqliteAgentTeam(
  sqlite: import('better-sqlite3').Database,
): (orgId: string, agentId: string) => string | null {
  let stmt = prepared.get(sqlite);
  if (!stmt) {
    stmt = sqlite.prepare('select team_id from agents where org_id = ? and id = ?');
    prepared.set(sqlite, stmt);
  }
  const s = stmt;
  return (orgId, agentId) => (s.get(orgId, agentId) as { team_id: string | null } | undefined)?.team_id ?? null;
}
