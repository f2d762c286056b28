/**
 * System path (cross-org on purpose): one enrichment pass prices the calls of many orgs, so the ledger
 * reads the budgets of all of them at once and writes each org's rows under the org the call was stored
 * for. Per-org writes go through `orgScope`; the reads that span orgs say so where they are.
 *
 * The budget ledger: adds each newly priced LLM call to the budgets that cover it (its agent, its
 * agent's team, its org), in the calendar period of the call's timestamp in the org's time zone, and
 * records every threshold the addition reaches.
 *
 * Why exact: it runs inside the enrichment transaction, and enrichment prices each event once (the
 * `enriched = 0` guard) with one enricher at a time (a PostgreSQL advisory lock; SQLite has a single
 * writer). The spend is an atomic `spent = spent + delta … returning`, and a threshold is "reached"
 * in the same row, so parallel ingestion can neither double-count nor miss a crossing, and each
 * threshold is recorded once per period. Crossings go to the `budget_crossings` outbox in the same
 * transaction; the budget enforcer notifies and acts on them after commit.
 */
import type { Transaction } from 'kysely';
import { newId } from '../../db/ids.ts';
import { orgScope } from '../../db/org-scope.ts';
import type { BudgetsTable, Database } from '../../db/schema.ts';
import { trustedOrgId } from '../../platform/caller.ts';
import { orgTimezones, sqliteOrgTimezone } from '../../platform/orgs/org-timezones.system.ts';
import { agentTeams, sqliteAgentTeam } from '../agents/index.ts';
import type { SpentCall } from '../ingestion/index.ts';
import { type CalendarUnit, periodOf } from './calendar.ts';
import { effectiveThresholds, newlyReached } from './thresholds.ts';

type BudgetRule = Pick<BudgetsTable, 'id' | 'scope' | 'scope_id' | 'amount_nano' | 'period' | 'thresholds'>;

/** What the ledger needs to know, read inside the transaction (sync for SQLite's prepared statements). */
interface Lookups {
  budgetsOf(org: string): BudgetRule[];
  timezoneOf(org: string): string;
  teamOf(org: string, agent: string): string | null;
}

interface Delta {
  org: string;
  budget: BudgetRule;
  start: number;
  nano: number;
}

function deltasOf(calls: SpentCall[], lookups: Lookups): Map<string, Delta> {
  const out = new Map<string, Delta>();
  const memo = new Map<string, BudgetRule[]>();
  for (const c of calls) {
    if (c.cost <= 0) continue;
    let budgets = memo.get(c.org);
    if (!budgets) {
      budgets = lookups.budgetsOf(c.org);
      memo.set(c.org, budgets);
    }
    if (!budgets.length) continue;
    const tz = lookups.timezoneOf(c.org);
    let team: string | null | undefined;
    for (const b of budgets) {
      if (b.scope === 'agent' && b.scope_id !== c.agent) continue;
      if (b.scope === 'team') {
        if (team === undefined) team = lookups.teamOf(c.org, c.agent);
        if (!team || b.scope_id !== team) continue;
      }
      const start = periodOf(c.ts, b.period as CalendarUnit, tz).start;
      const key = `${b.id}\u0000${start}`;
      const d = out.get(key) ?? { org: c.org, budget: b, start, nano: 0 };
      d.nano += c.cost;
      out.set(key, d);
    }
  }
  return out;
}

interface Applied {
  spent: number;
  reached: number[];
}

/** Crossings are recorded only for the period running now: a late event for last week reaches silently. */
function crossingsOf(d: Delta, row: Applied, now: number, tzOf: (org: string) => string) {
  const hits = newlyReached(
    Number(d.budget.amount_nano),
    row.spent,
    effectiveThresholds(d.budget.thresholds),
    row.reached,
  );
  const current = periodOf(now, d.budget.period as CalendarUnit, tzOf(d.org)).start === d.start;
  return { hits, current };
}

export function createBudgetLedger(deps: { clock: () => number }) {
  return {
    /** SQLite: synchronous, inside the enrichment pass's better-sqlite3 transaction. */
    recordSqlite(sqlite: import('better-sqlite3').Database, calls: SpentCall[]): number {
      if (!calls.length) return 0;
      const stmt = statements(sqlite);
      // The org's time zone and the agent's team come from their owners (orgs, agents), synchronously.
      const timezone = sqliteOrgTimezone(sqlite);
      const tz = new Map<string, string>();
      const tzOf = (org: string) => {
        let z = tz.get(org);
        if (!z) {
          z = timezone(org) ?? 'UTC';
          tz.set(org, z);
        }
        return z;
      };
      const deltas = deltasOf(calls, {
        budgetsOf: (org) => stmt.budgets.all(org) as BudgetRule[],
        timezoneOf: tzOf,
        teamOf: sqliteAgentTeam(sqlite),
      });
      const now = deps.clock();
      let crossings = 0;
      for (const d of deltas.values()) {
        const r = stmt.add.get(d.org, d.budget.id, d.start, d.nano) as { spent_nano: number; reached: string };
        const applied = { spent: Number(r.spent_nano), reached: JSON.parse(r.reached) as number[] };
        const { hits, current } = crossingsOf(d, applied, now, tzOf);
        if (!hits.length) continue;
        stmt.setReached.run(JSON.stringify([...applied.reached, ...hits]), d.org, d.budget.id, d.start);
        if (!current) continue;
        for (const t of hits) {
          stmt.cross.run(newId('bcx', now), d.org, d.budget.id, d.start, t, applied.spent, now);
          crossings++;
        }
      }
      return crossings;
    },

    /** PostgreSQL: the same, with the enrichment transaction (which holds the enrichment lock). */
    async recordPg(trx: Transaction<Database>, calls: SpentCall[]): Promise<number> {
      const orgs = [...new Set(calls.filter((c) => c.cost > 0).map((c) => c.org))];
      if (!orgs.length) return 0;
      // Cross-org: the budgets of every org in this pass, in one query.
      const budgets = await trx
        .selectFrom('budgets')
        .select(['id', 'org_id', 'scope', 'scope_id', 'amount_nano', 'period', 'thresholds'])
        .where('org_id', 'in', orgs)
        .execute();
      if (!budgets.length) return 0;
      const withBudgets = [...new Set(budgets.map((b) => b.org_id))];
      // Cross-org, through their owners: the orgs' time zones and the teams of the pass's agents.
      const tzMap = await orgTimezones(trx, withBudgets);
      const teamMap = await agentTeams(trx, withBudgets, [...new Set(calls.map((c) => c.agent))]);
      const tzOf = (org: string) => tzMap.get(org) ?? 'UTC';
      const deltas = deltasOf(calls, {
        budgetsOf: (org) => budgets.filter((b) => b.org_id === org),
        timezoneOf: tzOf,
        teamOf: (org, agent) => teamMap.get(`${org}\u0000${agent}`) ?? null,
      });
      const now = deps.clock();
      let crossings = 0;
      for (const d of deltas.values()) {
        // The delta's org is the one its events were stored for (enrichment read it from their rows).
        const scope = orgScope(trx, trustedOrgId(d.org));
        const r = await scope
          .insertInto('budget_periods', {
            budget_id: d.budget.id,
            period_start: d.start,
            spent_nano: d.nano,
            reached: '[]',
          })
          .onConflict((oc) =>
            oc.columns(['budget_id', 'period_start']).doUpdateSet((eb) => ({
              spent_nano: eb('budget_periods.spent_nano', '+', eb.ref('excluded.spent_nano')),
            })),
          )
          .returning(['spent_nano', 'reached'])
          .executeTakeFirstOrThrow();
        const applied = { spent: Number(r.spent_nano), reached: JSON.parse(r.reached) as number[] };
        const { hits, current } = crossingsOf(d, applied, now, tzOf);
        if (!hits.length) continue;
        await scope
          .updateTable('budget_periods')
          .set({ reached: JSON.stringify([...applied.reached, ...hits]) })
          .where('budget_id', '=', d.budget.id)
          .where('period_start', '=', d.start)
          .execute();
        if (!current) continue;
        await scope
          .insertInto(
            'budget_crossings',
            hits.map((t) => ({
              id: newId('bcx', now),
              budget_id: d.budget.id,
              period_start: d.start,
              threshold: t,
              spent_nano: applied.spent,
              created_at: now,
              notified_at: null,
            })),
          )
          .execute();
        crossings += hits.length;
      }
      return crossings;
    },
  };
}

export type BudgetLedger = ReturnType<typeof createBudgetLedger>;

/** Prepared once per SQLite handle. */
const prepared = new WeakMap<object, ReturnType<typeof prepare>>();
function statements(sqlite: import('better-sqlite3').Database) {
  let s = prepared.get(sqlite);
  if (!s) {
    s = prepare(sqlite);
    prepared.set(sqlite, s);
  }
  return s;
}
function prepare(sqlite: import('better-sqlite3').Database) {
  return {
    budgets: sqlite.prepare(
      'select id, scope, scope_id, amount_nano, period, thresholds from budgets where org_id = ?',
    ),
    add: sqlite.prepare(`insert into budget_periods (org_id, budget_id, period_start, spent_nano, reached)
      values (?, ?, ?, ?, '[]')
      on conflict (budget_id, period_start) do update set spent_nano = budget_periods.spent_nano + excluded.spent_nano
      returning spent_nano, reached`),
    setReached: sqlite.prepare(
      'update budget_periods set reached = ? where org_id = ? and budget_id = ? and period_start = ?',
    ),
    cross: sqlite.prepare(`insert into budget_crossings
      (id, org_id, budget_id, period_start, threshold, spent_nano, created_at, notified_at)
      values (?, ?, ?, ?, ?, ?, ?, null)`),
  };
}
