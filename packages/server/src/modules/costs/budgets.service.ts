/**
 * Budgets per agent, team or org: an amount per calendar period in the org's time zone, thresholds that
 * notify once per period, and what happens when spend reaches the amount (notify, throttle, pause).
 * Spend is counted by the budget ledger inside enrichment (exact); this service is the CRUD, the
 * permission rules and the wire shape. Acting on crossings is the enforcer's job (budget-enforcer.ts).
 *
 * @example
 * const b = await budgets.create(caller, { scope: 'agent', scope_id: agent.id, amount_usd: 1, period: 'day',
 *   thresholds: [50, 80, 100], on_exceed: 'pause' });
 * // → { id: 'bud_…', spent_usd: 0, period_start: '2026-11-25T00:00:00.000Z', state: 'ok', … }
 */
import type { Budget, BudgetPeriod, CreateBudgetBody, UpdateBudgetBody } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { forbidden, invalid, notFound } from '../../platform/errors.ts';
import { assertBelowOrgCap } from '../../platform/org-caps.ts';
import { grantLevel } from '../../platform/rbac.ts';
import type { BudgetRow, BudgetStore } from './budgets.store.ts';
import { type CalendarUnit, periodOf } from './calendar.ts';
import { usd } from './costs.service.ts';
import { effectiveThresholds, newlyReached } from './thresholds.ts';

const NANO = 1e9;
export const PERIOD_WORD: Record<string, string> = { day: 'daily', week: 'weekly', month: 'monthly' };
export const money = (nano: number) => `$${(nano / NANO).toFixed(2)}`;

export interface BudgetEvents {
  /** A budget was created, changed or deleted: re-check crossings and enforcement now. */
  changed(orgId: OrgId): void;
  /** A budget was deleted: whatever it enforced is released. */
  removed(orgId: OrgId, row: BudgetRow): void;
}

export function createBudgetService(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  store: BudgetStore;
  audit: Pick<AuditStore, 'append'>;
  clock: () => number;
  events: BudgetEvents;
  /** Waits (bounded) for calls already ingested to be counted, so `spent_usd` includes them. */
  settle?: () => Promise<void>;
}) {
  const { db, store, audit, clock } = deps;

  /** Team leads manage budgets of their teams and their teams' agents; others need budgets:manage. */
  async function assertMayManage(caller: Caller, scope: string, scopeId: string | null) {
    const level = grantLevel(caller.permissions, 'budgets:manage');
    if (level === 'all') return;
    if (level === 'team') {
      if (scope === 'team' && scopeId && caller.teamIds.includes(scopeId)) return;
      if (scope === 'agent' && scopeId) {
        const teamId = await store.forOrg(caller.orgId).agentTeam(scopeId);
        if (teamId && caller.teamIds.includes(teamId)) return;
      }
      throw forbidden('Team leads manage budgets of their own teams and their agents only');
    }
    throw forbidden('Managing budgets needs the budgets:manage permission');
  }

  /** The wire shape: the row with the current period's spend, in the org's time zone. */
  async function toDtos(orgId: OrgId, rows: BudgetRow[]): Promise<Budget[]> {
    if (!rows.length) return [];
    const s = store.forOrg(orgId);
    const org = await s.org();
    const now = clock();
    const periods = rows.map((r) => periodOf(now, r.period as CalendarUnit, org.timezone));
    const [spend, names] = await Promise.all([
      s.periods(rows.map((r, i) => ({ id: r.id, start: periods[i]!.start }))),
      s.scopeNames(rows, org.name),
    ]);
    const out: Budget[] = [];
    for (const [i, r] of rows.entries()) {
      const p = periods[i]!;
      const cur = spend.get(`${r.id}\u0000${p.start}`) ?? { spent: 0, reached: [] };
      const amount = Number(r.amount_nano);
      const exceeded = cur.spent >= amount;
      out.push({
        id: r.id,
        name: r.name,
        scope: r.scope as Budget['scope'],
        scope_id: r.scope_id,
        scope_name: names.get(`${r.scope}\u0000${r.scope_id ?? ''}`) ?? null,
        amount_usd: usd(amount),
        period: r.period as BudgetPeriod,
        thresholds: JSON.parse(r.thresholds) as number[],
        on_exceed: r.on_exceed as Budget['on_exceed'],
        throttle_per_minute: Number(r.throttle_per_minute),
        spent_usd: usd(cur.spent),
        percent: amount > 0 ? Math.round((cur.spent / amount) * 1000) / 10 : 0,
        period_start: new Date(p.start).toISOString(),
        period_end: new Date(p.end).toISOString(),
        timezone: org.timezone,
        thresholds_reached: [...cur.reached].sort((a, b) => a - b),
        // From the spend itself: the enforcer catches up with it within moments.
        state:
          exceeded && r.on_exceed !== 'notify'
            ? r.on_exceed === 'pause'
              ? 'pausing'
              : 'throttling'
            : exceeded
              ? 'exceeded'
              : 'ok',
        created_at: new Date(Number(r.created_at)).toISOString(),
        updated_at: new Date(Number(r.updated_at)).toISOString(),
      });
    }
    return out;
  }

  async function getRow(orgId: OrgId, id: string) {
    const row = await store.forOrg(orgId).get(id);
    if (!row) throw notFound('Budget');
    return row;
  }

  const toNano = (amountUsd: number) => Math.round(amountUsd * NANO);
  const describe = (r: BudgetRow) => ({
    name: r.name,
    scope: r.scope,
    scope_id: r.scope_id,
    amount_usd: usd(Number(r.amount_nano)),
    period: r.period,
    thresholds: JSON.parse(r.thresholds),
    on_exceed: r.on_exceed,
    throttle_per_minute: Number(r.throttle_per_minute),
  });

  return {
    async list(caller: Pick<Caller, 'orgId'>) {
      await deps.settle?.();
      return toDtos(caller.orgId, await store.forOrg(caller.orgId).list());
    },

    async get(caller: Pick<Caller, 'orgId'>, id: string) {
      await deps.settle?.();
      return (await toDtos(caller.orgId, [await getRow(caller.orgId, id)]))[0]!;
    },

    /** Budgets of an org as the wire shape (reports, the console's dashboard). */
    forOrg: (orgId: OrgId) =>
      store
        .forOrg(orgId)
        .list()
        .then((rows) => toDtos(orgId, rows)),

    async create(caller: Caller, body: CreateBudgetBody) {
      const scopeId = body.scope === 'org' ? null : (body.scope_id ?? null);
      await assertMayManage(caller, body.scope, scopeId);
      const s0 = store.forOrg(caller.orgId);
      const scopeName = await s0.scopeName(body.scope, scopeId);
      if (!scopeName) throw invalid('scope_id', `no ${body.scope} with this id in your org`);
      const now = clock();
      const row: Omit<BudgetRow, 'org_id'> = {
        id: newId('bud', now),
        name: body.name ?? `${scopeName} ${PERIOD_WORD[body.period]} budget`,
        scope: body.scope,
        scope_id: scopeId,
        amount_nano: toNano(body.amount_usd),
        period: body.period,
        thresholds: JSON.stringify([...body.thresholds].sort((a, b) => a - b)),
        on_exceed: body.on_exceed,
        throttle_per_minute: body.throttle_per_minute,
        enforced_period: null,
        created_at: now,
        updated_at: now,
      };
      await db.transaction().execute(async (trx) => {
        // Held against enrichment, so no priced call is both in the seed and added by the ledger.
        await store.lockEnrichment(trx, deps.dialect);
        const s = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('budgets', s.count);
        const { timezone } = await s.org();
        const p = periodOf(now, body.period as CalendarUnit, timezone);
        await s.insert(row);
        const spent = await s.spentFromEvents(row.scope, row.scope_id, p.start, p.end);
        // A new budget starts from what its period already spent; reaching a threshold at once notifies.
        const hits = newlyReached(Number(row.amount_nano), spent, effectiveThresholds(row.thresholds), []);
        await s.setPeriod(row.id, p.start, spent, hits);
        for (const t of hits)
          await trx
            .insertInto('budget_crossings')
            .values({
              id: newId('bcx', now),
              org_id: caller.orgId,
              budget_id: row.id,
              period_start: p.start,
              threshold: t,
              spent_nano: spent,
              created_at: now,
              notified_at: null,
            })
            .execute();
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'budget.created',
            entityType: 'budget',
            entityId: row.id,
            changes: describe({ ...row, org_id: caller.orgId }),
          },
          now,
        );
      });
      deps.events.changed(caller.orgId);
      return (await toDtos(caller.orgId, [await getRow(caller.orgId, row.id)]))[0]!;
    },

    async update(caller: Caller, id: string, body: UpdateBudgetBody) {
      const before = await getRow(caller.orgId, id);
      await assertMayManage(caller, before.scope, before.scope_id);
      const now = clock();
      const patch: Partial<BudgetRow> = { updated_at: now };
      if (body.name !== undefined) patch.name = body.name;
      if (body.amount_usd !== undefined) patch.amount_nano = toNano(body.amount_usd);
      if (body.period !== undefined) patch.period = body.period;
      if (body.thresholds !== undefined) patch.thresholds = JSON.stringify([...body.thresholds].sort((a, b) => a - b));
      if (body.on_exceed !== undefined) patch.on_exceed = body.on_exceed;
      if (body.throttle_per_minute !== undefined) patch.throttle_per_minute = body.throttle_per_minute;
      const after = { ...before, ...patch } as BudgetRow;
      await db.transaction().execute(async (trx) => {
        await store.lockEnrichment(trx, deps.dialect);
        const s = store.forOrg(caller.orgId, trx);
        await s.update(id, patch);
        const { timezone } = await s.org();
        const p = periodOf(now, after.period as CalendarUnit, timezone);
        if (after.period !== before.period) {
          // A new period kind: count its current period from the events, like a new budget.
          const spent = await s.spentFromEvents(after.scope, after.scope_id, p.start, p.end);
          await s.setPeriod(
            id,
            p.start,
            spent,
            newlyReached(Number(after.amount_nano), spent, effectiveThresholds(after.thresholds), []),
          );
        } else {
          // A raised amount: thresholds no longer reached may notify again when reached anew.
          const cur = (await s.periods([{ id, start: p.start }])).get(`${id}\u0000${p.start}`);
          if (cur) {
            const still = cur.reached.filter((t) => cur.spent * 100 >= t * Number(after.amount_nano));
            if (still.length !== cur.reached.length) await s.setReached(id, p.start, still);
          }
        }
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'budget.updated',
            entityType: 'budget',
            entityId: id,
            changes: { before: describe(before), after: describe(after) },
          },
          now,
        );
      });
      deps.events.changed(caller.orgId);
      return (await toDtos(caller.orgId, [await getRow(caller.orgId, id)]))[0]!;
    },

    async remove(caller: Caller, id: string) {
      const before = await getRow(caller.orgId, id);
      await assertMayManage(caller, before.scope, before.scope_id);
      const now = clock();
      await db.transaction().execute(async (trx) => {
        await store.forOrg(caller.orgId, trx).remove(id);
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'budget.deleted',
            entityType: 'budget',
            entityId: id,
            changes: describe(before),
          },
          now,
        );
      });
      deps.events.removed(caller.orgId, before);
      return before;
    },
  };
}

export type BudgetService = ReturnType<typeof createBudgetService>;
