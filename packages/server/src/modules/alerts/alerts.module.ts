/**
 * Wires the alerts module for the composition root: the rule service, the evaluator and the
 * `alerts.evaluate` job handler, from the narrow platform services they use. The plan-usage notices
 * (events per month at 80% and 100%, modules/stats/plan-usage.ts) are wired here too: like alerts, a job
 * that watches the rollups and tells people.
 */
import type { Db } from '../../db/database.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { JobRunner, Log } from '../../platform/jobs/job-runner.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import type { OrgService } from '../../platform/orgs/orgs.service.ts';
import type { PlanService } from '../../platform/plans.ts';
import type { WebhookService } from '../../platform/webhooks/webhooks.service.ts';
import { createPlanUsage } from '../stats/index.ts';
import { type AlertDeps, createAlertService } from './alerts.service.ts';
import { createAlertStore } from './alerts.store.ts';
import { ALERTS_QUEUE, createAlertEvaluator } from './alerts-evaluator.ts';
import { createIngestionErrorNotifier } from './ingestion-errors.ts';
import { createViolationNotifier } from './policy-violations.ts';

export function createAlertsModule(d: {
  db: Db;
  audit: Pick<AuditStore, 'append'>;
  notifications: NotificationService;
  webhooks: WebhookService;
  orgs: Pick<OrgService, 'members'>;
  plans: Pick<PlanService, 'limits'>;
  jobs: Pick<JobRunner, 'work'>;
  clock: () => number;
  log: Log;
}) {
  const deps: AlertDeps = {
    db: d.db.db,
    store: createAlertStore(d.db.db),
    audit: d.audit,
    notifications: d.notifications,
    webhooks: d.webhooks,
    clock: d.clock,
    directory: {
      members: (orgId) => d.orgs.members.list(orgId),
      teams: (orgId) => d.orgs.members.listTeams(orgId),
      webhook: (orgId, id) => d.webhooks.get(orgId, id).catch(() => null),
    },
  };
  const evaluator = createAlertEvaluator({ ...deps, log: d.log });
  const violations = createViolationNotifier({
    db: d.db.db,
    notifications: d.notifications,
    clock: d.clock,
    log: d.log,
  });
  const ingestionErrors = createIngestionErrorNotifier({ notifications: d.notifications, log: d.log });
  // One job a minute: rule transitions, then the policy.violation notices of new decisions.
  d.jobs.work(ALERTS_QUEUE, async () => {
    await evaluator.runPass();
    await violations.runPass();
  });
  const planUsage = createPlanUsage({
    db: d.db.db,
    plans: d.plans,
    notifications: d.notifications,
    jobs: d.jobs,
    clock: d.clock,
    log: d.log,
  });
  return { alerts: createAlertService(deps), alertEvaluator: evaluator, planUsage, violations, ingestionErrors };
}
