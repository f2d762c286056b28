/**
 * Events per month against the plan, counted from the hourly rollups: an org's billable events in a
 * calendar month (UTC) are its runs plus its model calls (the rollups' `runs` and `llm_calls`), so the
 * count costs one row per agent-hour, never a scan of raw events. Tool calls, logs and other event kinds
 * are not counted.
 *
 * At 80% and at 100% the org's owners and admins are told once per month (in-app, email, per their
 * `budget_thresholds` preferences); the notice row's primary key makes it once across processes. Past
 * the limit nothing is dropped: ingestion goes on, and `GET /v1/org/plan` shows `over_limit: true`.
 */
import type { Kysely } from 'kysely';
import { orgScope } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { JobRunner, Log } from '../../platform/jobs/job-runner.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import { everyOrg } from '../../platform/orgs/every-org.system.ts';
import type { PlanService } from '../../platform/plans.ts';
import { eventsSince } from '../ingestion/index.ts';

export const PLAN_USAGE_QUEUE = 'plans.usage';
const THRESHOLDS = [80, 100] as const;

export function monthOf(t: number) {
  const d = new Date(t);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return { month: new Date(start).toISOString().slice(0, 7), start };
}

export function createPlanUsage(deps: {
  db: Kysely<Database>;
  plans: Pick<PlanService, 'limits'>;
  notifications: Pick<NotificationService, 'notify'>;
  jobs: Pick<JobRunner, 'work'>;
  clock: () => number;
  log: Log;
}) {
  const { db } = deps;

  async function usage(orgId: OrgId) {
    const { month, start } = monthOf(deps.clock());
    const row = await eventsSince(db, orgId, start);
    const events = Number(row?.runs ?? 0) + Number(row?.calls ?? 0);
    const limit = (await deps.plans.limits(orgId)).events_per_month;
    return { month, events, events_per_month: limit, percent: (events / limit) * 100, over_limit: events >= limit };
  }

  /** Sends the 80% and 100% notices an org has reached this month and not yet been sent. */
  async function notifyOrg(orgId: OrgId) {
    const u = await usage(orgId);
    for (const threshold of THRESHOLDS) {
      if (u.percent < threshold) continue;
      await db.transaction().execute(async (trx) => {
        const inserted = await orgScope(trx, orgId)
          .insertInto('plan_usage_notices', { month: u.month, threshold, events: u.events, notified_at: deps.clock() })
          .onConflict((oc) => oc.columns(['org_id', 'month', 'threshold']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return;
        const words =
          threshold >= 100
            ? `reached its plan's limit of ${u.events_per_month.toLocaleString('en-US')} events for ${u.month}. Nothing is dropped: events are still accepted and flagged as over the limit. Upgrade the plan to stay within it.`
            : `used ${Math.floor(u.percent)}% of its plan's ${u.events_per_month.toLocaleString('en-US')} events for ${u.month}.`;
        await deps.notifications.notify(
          orgId,
          {
            topic: 'budget_thresholds',
            type: 'plan.usage',
            title: `Your org ${threshold >= 100 ? 'reached' : 'used'} ${threshold}% of its monthly events`,
            body: `Your org has ${words} (${u.events.toLocaleString('en-US')} events so far).`,
            entityType: 'plan',
            entityId: u.month,
          },
          { exec: trx },
        );
      });
    }
  }

  /** One pass over every org (a system job: the orgs come from the orgs module's every-org.system.ts, not from a request). */
  async function notifyAll() {
    for (const orgId of await everyOrg(db)) {
      try {
        await notifyOrg(orgId);
      } catch (e) {
        deps.log.error({ err: e, org: orgId }, 'plan usage count failed');
      }
    }
  }

  deps.jobs.work(PLAN_USAGE_QUEUE, async () => notifyAll());
  return { usage, notifyOrg, notifyAll };
}
export type PlanUsage = ReturnType<typeof createPlanUsage>;
