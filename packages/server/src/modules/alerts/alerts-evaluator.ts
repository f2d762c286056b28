/**
 * The evaluation pass, run by the durable job runner every minute (queue `alerts.evaluate`). For each
 * enabled rule: compute the signal's value from the hourly rollups and a few indexed counts
 * (alert-facts.ts), decide whether the rule moves, and make the move with a conditional update on the
 * rule's `state_seq` in the same transaction as its event and notices. Several hub processes may run a
 * pass at once: only the process whose update matches announces the transition, the others see zero rows
 * updated and send nothing.
 *
 * States: `ok` (never fired) → `firing` → `resolved` → `firing` … A rule fires when its value is at or
 * above the threshold; it resolves when the value drops below (or there is no value). After a RESOLVED,
 * it does not fire again before `cooldown_minutes` have passed.
 */
import type { Alert } from '@agentops-hub/contracts';
import { newId } from '../../db/ids.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { Log } from '../../platform/jobs/job-runner.ts';
import { HOUR_MS } from '../ingestion/index.ts';
import { hourFloor, quantile, windowTotals } from '../stats/index.ts';
import { agentsInScope, approvalsWaiting, blockedActions, silentAgents } from './alert-facts.ts';
import { noticeText, sendNotice } from './alert-notice.ts';
import { type AlertDeps, noticeRule, recipientIds, toAlert } from './alerts.service.ts';
import { enabledRulesOfEveryOrg, type OrgRule } from './alerts.system.ts';

export const ALERTS_QUEUE = 'alerts.evaluate';
const MINUTE_MS = 60_000;
const BASELINE_HOURS = 7 * 24;

/** What one rule's evaluation found: the value, and the move it calls for (null: stay). */
export interface Verdict extends OrgRule {
  value: number | null;
  next: 'firing' | 'resolved' | null;
}

export function createAlertEvaluator(deps: AlertDeps & { log: Log }) {
  const { db, store } = deps;

  /** The signal's value now; null when there is nothing to measure (no finished runs, no baseline). */
  async function measure(a: Alert, orgId: OrgId, now: number): Promise<number | null> {
    const agentIds = await agentsInScope(db, orgId, a.scope);
    const from = now - a.window_minutes * MINUTE_MS;
    switch (a.signal) {
      case 'failure_rate': {
        const t = await windowTotals(db, orgId, agentIds, from, now);
        const terminal = t.completed + t.failed;
        return terminal ? t.failed / terminal : null;
      }
      case 'failed_runs':
        return (await windowTotals(db, orgId, agentIds, from, now)).failed;
      case 'latency_p95_ms':
        return quantile((await windowTotals(db, orgId, agentIds, from, now, { latency: true })).latency, 0.95);
      case 'cost_usd':
        return (await windowTotals(db, orgId, agentIds, from, now)).costNano / 1e9;
      case 'cost_spike': {
        // The window's spend against the average spend of a window as long over the 7 days before it.
        const start = hourFloor(from);
        const current = await windowTotals(db, orgId, agentIds, start, now);
        const base = await windowTotals(db, orgId, agentIds, start - BASELINE_HOURS * HOUR_MS, start - 1);
        const hours = Math.max(1, Math.ceil((now - start) / HOUR_MS));
        const perWindow = (base.costNano * hours) / BASELINE_HOURS;
        return perWindow > 0 ? current.costNano / perWindow : null;
      }
      case 'blocked_actions':
        return blockedActions(db, orgId, agentIds, from);
      case 'approvals_waiting':
        return approvalsWaiting(db, orgId, agentIds, from, now);
      case 'agent_silent':
        return (await silentAgents(db, orgId, agentIds, from)).count;
    }
  }

  /** Reads only: what the rule's value is and whether it should move. */
  async function judge({ orgId, row }: OrgRule, now: number): Promise<Verdict> {
    const a = toAlert(row);
    const value = await measure(a, orgId, now);
    const over = value !== null && value >= a.threshold;
    const state = row.state;
    let next: Verdict['next'] = null;
    if (state === 'firing' && !over) next = 'resolved';
    else if (state !== 'firing' && over) {
      const cooling = state === 'resolved' && now - Number(row.state_since ?? 0) < a.cooldown_minutes * MINUTE_MS;
      if (!cooling) next = 'firing';
    }
    return { orgId, row, value, next };
  }

  /**
   * Makes the move a verdict calls for, once: the conditional update, the event row (unique per
   * transition) and the notices commit together or not at all. Returns whether this call made it.
   */
  async function apply(v: Verdict, now: number): Promise<boolean> {
    const { orgId } = v;
    if (!v.next) {
      await store.forOrg(orgId).recordValue(v.row.id, v.value, now);
      return false;
    }
    const kind = v.next;
    const rule = noticeRule(v.row);
    // Read before the transaction: on SQLite a read on the root handle inside it would wait forever.
    const userIds = await recipientIds(deps.directory, orgId, JSON.parse(v.row.recipients));
    const fromSeq = Number(v.row.state_seq);
    return db.transaction().execute(async (trx) => {
      const s = store.forOrg(orgId, trx);
      if (!(await s.transition(v.row.id, fromSeq, kind, v.value, now))) return false;
      await s.insertEvent({
        id: newId('ale', now),
        rule_id: v.row.id,
        seq: fromSeq + 1,
        kind,
        value: v.value,
        threshold: Number(v.row.threshold),
        title: noticeText(rule, kind, v.value).title,
        created_at: now,
      });
      await sendNotice(deps, trx, orgId, rule, kind, v.value, userIds);
      return true;
    });
  }

  return {
    judge,
    apply,
    /** One pass over every enabled rule of every org. A failing rule is logged and skipped. */
    async runPass() {
      const now = deps.clock();
      let transitions = 0;
      const rules = await enabledRulesOfEveryOrg(db);
      for (const rule of rules) {
        try {
          if (await apply(await judge(rule, now), now)) transitions++;
        } catch (e) {
          deps.log.error({ err: e, alert: rule.row.id }, 'alert evaluation failed');
        }
      }
      return { evaluated: rules.length, transitions };
    },
  };
}
export type AlertEvaluator = ReturnType<typeof createAlertEvaluator>;
