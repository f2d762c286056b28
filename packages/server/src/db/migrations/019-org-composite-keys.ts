/**
 * A child row that names a parent is tied to it within its own org: the tie carries `org_id`, so a row
 * of org A can never name a team, webhook, budget… of org B, whatever a service forgets to check.
 *
 * PostgreSQL: a unique `(org_id, id)` on each parent and a composite foreign key
 * `(org_id, parent_id) → parent(org_id, id)` on each child, replacing the single-column key where there
 * was one (same `ON DELETE CASCADE`). Safe on existing data: each key is added `NOT VALID` (checked for
 * new and changed rows at once, without scanning the table under a lock) and then validated only when no
 * existing row breaks it; rows written before this migration that break it (none the API could write)
 * are left in place and the key stays `NOT VALID` rather than the migration failing or deleting data.
 *
 * SQLite: adding a foreign key means rebuilding the table (copying every row), so instead each child gets
 * two triggers that refuse an insert or an update whose `(org_id, parent_id)` names no parent of that
 * org. They cost one primary-key lookup per written row, as a foreign key would, and do not depend on
 * `PRAGMA foreign_keys`. The parents' `id` is already their primary key, so no index is added there.
 *
 * Tied here (parent rows always exist before their children, and go with them):
 * team_members → teams and → members, webhook_deliveries → webhooks, budget_periods and
 * budget_crossings → budgets, alert_events → alert_rules, report_runs → reports; and on PostgreSQL only,
 * approvals → decisions, checked at commit (`DEFERRABLE INITIALLY DEFERRED`) because evaluate writes the
 * approval before its decision in one transaction; SQLite has no deferred trigger, so there the approvals
 * module's own scoped writes are the guard.
 *
 * Left out, on purpose (docs/ARCHITECTURE.md "Composite keys"):
 * - events.run_id, decisions.run_id, approvals.run_id, runs.parent_run_id → runs: a run id is the
 *   client's own and may arrive after the events and decisions that name it (the OTLP and Langfuse paths
 *   write events for runs another batch creates), and retention deletes old runs while younger events
 *   of them stay; a key would refuse data the API accepts today.
 * - runs/events/rollups_hourly/decisions/approvals.agent_id → agents: deleting an agent keeps its history.
 * - policy_versions.policy_id → policies: deleting a policy writes a last `deleted` version after the row
 *   is gone ("the history outlives the policy").
 * - agents.team_id, invitations.team_id → teams and approvals.policy_id → policies: nullable ties whose
 *   parent may be deleted while the child stays; a composite `SET NULL` would also null `org_id`.
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.ts';

interface Tie {
  child: string;
  column: string;
  parent: string;
  /** PostgreSQL's name for the single-column key the composite one replaces (column `.references()`). */
  replaces?: string;
  /** Checked at commit on PostgreSQL, and not at all on SQLite (no deferred triggers there). */
  deferred?: boolean;
}

export const TIES: readonly Tie[] = [
  { child: 'team_members', column: 'team_id', parent: 'teams', replaces: 'team_members_team_id_fkey' },
  { child: 'team_members', column: 'member_id', parent: 'members', replaces: 'team_members_member_id_fkey' },
  {
    child: 'webhook_deliveries',
    column: 'webhook_id',
    parent: 'webhooks',
    replaces: 'webhook_deliveries_webhook_id_fkey',
  },
  { child: 'budget_periods', column: 'budget_id', parent: 'budgets', replaces: 'budget_periods_budget_id_fkey' },
  {
    child: 'budget_crossings',
    column: 'budget_id',
    parent: 'budgets',
    replaces: 'budget_crossings_budget_id_fkey',
  },
  { child: 'alert_events', column: 'rule_id', parent: 'alert_rules', replaces: 'alert_events_rule_id_fkey' },
  { child: 'report_runs', column: 'report_id', parent: 'reports', replaces: 'report_runs_report_id_fkey' },
  { child: 'approvals', column: 'decision_id', parent: 'decisions', deferred: true },
];

const fkName = (t: Tie) => `${t.child}_${t.column}_org_fk`;

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await postgres(db);
  else await sqlite(db);
}

async function postgres(db: Kysely<any>): Promise<void> {
  for (const parent of new Set(TIES.map((t) => t.parent))) {
    await sql`create unique index if not exists ${sql.id(`${parent}_org_id_uq`)} on ${sql.table(parent)} (org_id, id)`.execute(
      db,
    );
  }
  for (const t of TIES) {
    const name = sql.id(fkName(t));
    const child = sql.table(t.child);
    const column = sql.id(t.column);
    const timing = t.deferred ? sql`deferrable initially deferred` : sql``;
    await sql`alter table ${child} add constraint ${name} foreign key (org_id, ${column})
      references ${sql.table(t.parent)} (org_id, id) on delete cascade ${timing} not valid`.execute(db);
    if (t.replaces) await sql`alter table ${child} drop constraint if exists ${sql.id(t.replaces)}`.execute(db);
    // Validate only what holds: a row from before this migration that breaks the tie leaves the key
    // NOT VALID (still enforced for every new or changed row) instead of failing the upgrade.
    const broken = await sql<{ n: string }>`select count(*) as n from ${child} c where not exists (
      select 1 from ${sql.table(t.parent)} p where p.org_id = c.org_id and p.id = c.${column})`.execute(db);
    if (Number(broken.rows[0]?.n ?? 0) === 0) await sql`alter table ${child} validate constraint ${name}`.execute(db);
  }
}

async function sqlite(db: Kysely<any>): Promise<void> {
  for (const t of TIES) {
    if (t.deferred) continue;
    const message = sql.lit(
      `FOREIGN KEY constraint failed: ${t.child}.${t.column} names no ${t.parent} row of its org`,
    );
    const refused = sql`when not exists (select 1 from ${sql.table(t.parent)} p
        where p.id = new.${sql.id(t.column)} and p.org_id = new.org_id)
      begin select raise(abort, ${message}); end`;
    await sql`create trigger if not exists ${sql.id(`${fkName(t)}_insert`)} before insert on ${sql.table(t.child)}
      ${refused}`.execute(db);
    await sql`create trigger if not exists ${sql.id(`${fkName(t)}_update`)}
      before update of org_id, ${sql.id(t.column)} on ${sql.table(t.child)} ${refused}`.execute(db);
  }
}
