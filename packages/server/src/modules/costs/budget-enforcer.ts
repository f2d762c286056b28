/**
 * What budgets do once spend moves: notify each reached threshold once (in-app, email, webhook
 * `budget.threshold`), and at 100% throttle or pause the budget's agents; release them when the period
 * rolls over or the budget is raised or deleted, unless a person paused the agent too (a budget pause is
 * its own source in the emergency controls, so releasing it leaves a person's pause in place).
 *
 * Crossings come from the `budget_crossings` outbox the ledger fills inside enrichment; each is claimed
 * by one process (`notified_at`), notified and audited in that claim's transaction: exactly once even
 * with several hub processes. `reconcile()` (after every change, and every minute) makes the pauses and
 * throttles match the budgets, so a crash between the two steps heals itself.
 *
 * The guard answers on the hot paths from a per-org snapshot (refreshed every 2 s, and at once after
 * this process counted spend or changed a budget): `check()` BLOCKs an evaluation whose
 * `estimated_cost_usd` would take a pause budget past its amount, or any evaluation once a pause budget
 * is spent; `admit()` lets a throttled agent through at its trickle rate and refuses the rest with 429.
 */

import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import { type OrgId, SYSTEM_ACTOR } from '../../platform/caller.ts';
import { AppError } from '../../platform/errors.ts';
import type { Log } from '../../platform/jobs/job-runner.ts';
import { chain, type MaybePromise } from '../../platform/maybe-promise.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import type { ControlService } from '../controls/index.ts';
import { money, PERIOD_WORD } from './budgets.service.ts';
import type { BudgetStore } from './budgets.store.ts';
import { type SweptBudget, type SweptCrossing, sweepOrgs } from './budgets.system.ts';
import { type CalendarUnit, periodOf } from './calendar.ts';

const SNAPSHOT_TTL_MS = 2000;
const MINUTE_MS = 60_000;

interface GuardBudget {
  id: string;
  name: string;
  scope: string;
  scope_id: string | null;
  amount: number;
  period: CalendarUnit;
  on_exceed: string;
  perMinute: number;
  start: number;
  end: number;
  spent: number;
}

interface Snapshot {
  at: number;
  timezone: string;
  budgets: GuardBudget[];
}

/** The enforcer acting for an org it found in a sweep (budgets.system.ts). */
const system = (orgId: OrgId) => ({
  orgId,
  actor: SYSTEM_ACTOR,
  permissions: new Set<never>(),
  teamIds: [],
});

export function createBudgetEnforcer(deps: {
  db: Kysely<Database>;
  store: BudgetStore;
  audit: Pick<AuditStore, 'append'>;
  notifications: Pick<NotificationService, 'notify'>;
  controls: Pick<ControlService, 'pauseAgent' | 'resumeAgent' | 'get'>;
  clock: () => number;
  log: Log;
}) {
  const { db, store, audit, notifications, controls, clock, log } = deps;
  const snapshots = new Map<string, Snapshot>();
  const loading = new Map<string, Promise<Snapshot>>();
  const windows = new Map<string, { minute: number; n: number }>();

  const covers = (b: { scope: string; scope_id: string | null }, agent: { id: string; team_id?: string | null }) =>
    b.scope === 'org' ||
    (b.scope === 'agent' && b.scope_id === agent.id) ||
    (b.scope === 'team' && b.scope_id === agent.team_id);

  async function loadSnapshot(orgId: OrgId): Promise<Snapshot> {
    const s = store.forOrg(orgId);
    const rows = (await s.list()).filter((r) => r.on_exceed !== 'notify');
    const { timezone } = rows.length ? await s.org() : { timezone: 'UTC' };
    const now = clock();
    const budgets = rows.map((r) => {
      const p = periodOf(now, r.period as CalendarUnit, timezone);
      return {
        id: r.id,
        name: r.name,
        scope: r.scope,
        scope_id: r.scope_id,
        amount: Number(r.amount_nano),
        period: r.period as CalendarUnit,
        on_exceed: r.on_exceed,
        perMinute: Number(r.throttle_per_minute),
        start: p.start,
        end: p.end,
        spent: 0,
      };
    });
    const spend = await s.periods(budgets.map((b) => ({ id: b.id, start: b.start })));
    for (const b of budgets) b.spent = spend.get(`${b.id}\u0000${b.start}`)?.spent ?? 0;
    return { at: now, timezone, budgets };
  }

  /** The pause budget that holds the agent now (spent, or passed by the estimate), if any. */
  function holdFor(snap: Snapshot, agent: { id: string; team_id?: string | null }, estimateUsd?: number | null) {
    if (!snap.budgets.length) return null;
    const now = clock();
    const estimate = estimateUsd ? Math.round(estimateUsd * 1e9) : 0;
    for (const b of snap.budgets) {
      if (b.on_exceed !== 'pause' || !covers(b, agent)) continue;
      const spent = spentNow(b, now);
      if (spent >= b.amount)
        return {
          budget_id: b.id,
          message: `Budget "${b.name}" is spent: ${money(spent)} of ${money(b.amount)} this ${b.period}`,
        };
      if (estimate && spent + estimate > b.amount)
        return {
          budget_id: b.id,
          message: `Budget "${b.name}" would be exceeded: ${money(spent)} spent + ${money(estimate)} estimated > ${money(b.amount)} this ${b.period}`,
        };
    }
    return null;
  }

  /** Counts the call against a spent throttle budget covering the agent; 429 past its rate. */
  function throttle(snap: Snapshot, orgId: OrgId, agent: { id: string; name: string; team_id?: string | null }) {
    if (!snap.budgets.length) return;
    const now = clock();
    for (const b of snap.budgets) {
      if (b.on_exceed !== 'throttle' || !covers(b, agent)) continue;
      const spent = spentNow(b, now);
      if (spent < b.amount) continue;
      const minute = Math.floor(now / MINUTE_MS);
      const key = `${orgId}\u0000${agent.id}`;
      const w = windows.get(key);
      const cur = w && w.minute === minute ? w : { minute, n: 0 };
      cur.n++;
      windows.set(key, cur);
      if (cur.n > b.perMinute)
        throw new AppError(
          'rate_limited',
          `${agent.name} is throttled by budget "${b.name}" (${money(spent)} of ${money(b.amount)} this ${b.period}): at most ${b.perMinute} calls a minute until the period resets or the budget is raised`,
          { retryAfterS: Math.max(1, Math.ceil(((minute + 1) * MINUTE_MS - now) / 1000)), budget_id: b.id },
        );
      return;
    }
  }

  function snapshot(orgId: OrgId): Snapshot | Promise<Snapshot> {
    const snap = snapshots.get(orgId);
    if (snap && clock() - snap.at < SNAPSHOT_TTL_MS) return snap;
    let p = loading.get(orgId);
    if (!p) {
      p = loadSnapshot(orgId)
        .then((s) => {
          snapshots.set(orgId, s);
          return s;
        })
        .finally(() => loading.delete(orgId));
      loading.set(orgId, p);
    }
    // A stale snapshot still answers while the fresh one loads; none at all waits for it.
    return snap ?? p;
  }

  /** Spend of the period running now (a snapshot from last period reads as 0). */
  const spentNow = (b: GuardBudget, now: number) => (now >= b.start && now < b.end ? b.spent : 0);

  async function notifyCrossing(c: SweptCrossing) {
    const orgId = c.org_id;
    const claimed = await db.transaction().execute(async (trx) => {
      const sys = store.system(trx);
      if (!(await sys.claimCrossing(c.id, clock()))) return false;
      const s = store.forOrg(orgId, trx);
      const b = await s.get(c.budget_id);
      if (!b) return true; // deleted since: nothing to say
      const who = (await s.scopeName(b.scope, b.scope_id)) ?? 'The org';
      const subject = b.scope === 'org' ? `${who} (all agents)` : who;
      const amount = Number(b.amount_nano);
      const title = `${subject} reached ${c.threshold}% of its ${PERIOD_WORD[b.period]} budget (${money(Number(c.spent_nano))} of ${money(amount)})`;
      const acts =
        c.threshold >= 100 && b.on_exceed === 'pause'
          ? ' Its agents are paused until the period resets or the budget is raised.'
          : c.threshold >= 100 && b.on_exceed === 'throttle'
            ? ` Its agents are throttled to ${b.throttle_per_minute} calls a minute until the period resets or the budget is raised.`
            : '';
      await notifications.notify(
        orgId,
        {
          topic: 'budget_thresholds',
          type: 'budget.threshold',
          title,
          body: `Budget "${b.name}": ${money(Number(c.spent_nano))} spent of ${money(amount)} this ${b.period}.${acts}`,
          entityType: 'budget',
          entityId: b.id,
          webhookEvent: 'budget.threshold',
          data: {
            budget_id: b.id,
            budget_name: b.name,
            scope: b.scope,
            scope_id: b.scope_id,
            scope_name: who,
            threshold: c.threshold,
            spent_usd: Number(c.spent_nano) / 1e9,
            amount_usd: amount / 1e9,
            period: b.period,
            period_start: new Date(Number(c.period_start)).toISOString(),
            on_exceed: b.on_exceed,
          },
        },
        { exec: trx },
      );
      await audit.append(
        trx,
        orgId,
        {
          actor: SYSTEM_ACTOR,
          action: 'budget.threshold_reached',
          entityType: 'budget',
          entityId: b.id,
          changes: { threshold: c.threshold, spent_usd: Number(c.spent_nano) / 1e9, amount_usd: amount / 1e9 },
        },
        clock(),
      );
      return true;
    });
    return claimed;
  }

  /** Pauses or un-pauses one budget's agents, or starts/stops its throttle, to match its spend now. */
  async function enforceOne(b: SweptBudget, held: Set<string>) {
    const orgId = b.org_id;
    const s = store.forOrg(orgId);
    const { timezone } = await s.org();
    const now = clock();
    const p = periodOf(now, b.period as CalendarUnit, timezone);
    const spent = (await s.periods([{ id: b.id, start: p.start }])).get(`${b.id}\u0000${p.start}`)?.spent ?? 0;
    const should = b.on_exceed !== 'notify' && spent >= Number(b.amount_nano);
    const is = b.enforced_period !== null && Number(b.enforced_period) === p.start;
    if (should && b.on_exceed === 'pause') {
      const reason = `Budget "${b.name}" is spent: ${money(spent)} of ${money(Number(b.amount_nano))} this ${b.period}`;
      const pausedByBudget = new Set(
        (await controls.get(orgId)).paused_agents.filter((x) => x.source === 'budget').map((x) => x.agent_id),
      );
      for (const a of await s.agentsInScope(b.scope, b.scope_id)) {
        held.add(`${b.org_id}\u0000${a.id}`);
        if (!pausedByBudget.has(a.id)) await controls.pauseAgent(system(b.org_id), a.id, { reason }, 'budget');
      }
    }
    // Enforcing in an earlier period and not now (a new period began): released below.
    if (should === is && (should || b.enforced_period === null)) return;
    await db.transaction().execute(async (trx) => {
      await store.forOrg(orgId, trx).update(b.id, { enforced_period: should ? p.start : null });
      await audit.append(
        trx,
        orgId,
        {
          actor: SYSTEM_ACTOR,
          action: should
            ? b.on_exceed === 'pause'
              ? 'budget.paused_agents'
              : 'budget.throttled_agents'
            : 'budget.released',
          entityType: 'budget',
          entityId: b.id,
          changes: {
            spent_usd: spent / 1e9,
            amount_usd: Number(b.amount_nano) / 1e9,
            period_start: new Date(p.start).toISOString(),
          },
        },
        now,
      );
    });
  }

  /** Releases budget pauses no enforcing budget holds any more (period over, raised, deleted). */
  async function releaseUnheld(orgIds: Set<OrgId>, held: Set<string>) {
    for (const orgId of orgIds) {
      const state = await controls.get(orgId);
      for (const p of state.paused_agents) {
        if (p.source !== 'budget' || held.has(`${orgId}\u0000${p.agent_id}`)) continue;
        await controls.resumeAgent(system(orgId), p.agent_id, 'budget');
      }
    }
  }

  let reconciling: Promise<void> | null = null;
  let again = false;

  async function reconcileNow(onlyOrgs?: Set<string>) {
    const all = await store.system().enforcing();
    const rows = onlyOrgs ? all.filter((b) => onlyOrgs.has(b.org_id)) : all;
    const held = new Set<string>();
    const orgs = sweepOrgs(onlyOrgs ?? []);
    for (const b of rows) {
      orgs.add(b.org_id);
      try {
        await enforceOne(b, held);
      } catch (err) {
        log.warn({ err, budget: b.id }, 'budget enforcement failed; will retry');
      }
    }
    await releaseUnheld(orgs, held);
    for (const o of orgs) snapshots.delete(o);
  }

  async function processCrossings() {
    for (;;) {
      const pending = await store.system().pendingCrossings(100);
      if (!pending.length) return;
      for (const c of pending) await notifyCrossing(c);
    }
  }

  return {
    /** Notifies pending crossings, then makes pauses and throttles match the budgets. */
    async reconcile(orgIds?: Set<string>) {
      if (reconciling) {
        again = true;
        return reconciling;
      }
      reconciling = (async () => {
        try {
          do {
            again = false;
            await processCrossings();
            await reconcileNow(orgIds);
          } while (again);
        } catch (err) {
          log.warn({ err }, 'budget reconcile failed; the next pass retries');
        }
      })().finally(() => {
        reconciling = null;
      });
      return reconciling;
    },

    /** After an enrichment pass: fresher spend for the guard; crossings to act on. */
    afterEnrichment(orgIds: Set<string>, crossings: number) {
      for (const o of orgIds) snapshots.delete(o);
      if (crossings > 0) void this.reconcile(orgIds);
    },

    /** A budget changed (here or in another process). */
    invalidate(orgId: string) {
      snapshots.delete(orgId);
    },

    /**
     * The evaluate guard: a BLOCK reason when a pause budget covering the agent is spent, or when the
     * action's estimated cost would take it past its amount; null otherwise.
     */
    check(
      orgId: OrgId,
      agent: { id: string; team_id?: string | null },
      estimateUsd?: number | null,
    ): MaybePromise<{ budget_id: string; message: string } | null> {
      return chain(snapshot(orgId), (snap) => holdFor(snap, agent, estimateUsd));
    },

    /**
     * The throttle: an agent covered by a spent throttle budget gets `throttle_per_minute` calls a
     * minute (evaluate and ingest together, per process); the rest are refused with 429 and Retry-After.
     */
    admit(orgId: OrgId, agent: { id: string; name: string; team_id?: string | null }): MaybePromise<void> {
      return chain(snapshot(orgId), (snap) => throttle(snap, orgId, agent));
    },
  };
}

export type BudgetEnforcer = ReturnType<typeof createBudgetEnforcer>;
