/**
 * Wires the privacy service for the composition root: a settings change here is published on the
 * control bus, and a change published by another hub process drops this process's compiled redactor
 * for that org, so every process redacts by the new settings within a moment. It also registers the
 * re-redaction job's worker on the job runner.
 */
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { ControlBus } from '../../platform/control-bus.ts';
import type { JobRunner } from '../../platform/jobs/job-runner.ts';
import { workForOrg } from '../../platform/jobs/org-jobs.system.ts';
import { createPrivacyService, type PrivacyDeps } from './privacy.service.ts';
import { REDACT_QUEUE, type RedactJob } from './redact-stored.ts';

export const PRIVACY_CHANGED = 'privacy.changed';

export function createPrivacyModule(
  d: Omit<PrivacyDeps, 'onChange' | 'db' | 'dialect' | 'dataDir' | 'jobs'> & {
    db: Db;
    config: Pick<Config, 'dataDir'>;
    bus: Pick<ControlBus, 'publish' | 'subscribe'>;
    jobs: Pick<JobRunner, 'send' | 'work'>;
  },
) {
  const privacy = createPrivacyService({
    ...d,
    db: d.db.db,
    dialect: d.db.dialect,
    dataDir: d.config.dataDir,
    onChange: (orgId) => void d.bus.publish(PRIVACY_CHANGED, { org_id: orgId }).catch(() => {}),
  });
  d.bus.subscribe(PRIVACY_CHANGED, (m) => privacy.invalidate(String(m.org_id)));
  // A pass over a big org takes a while: its lease is long, and the runner's heartbeat keeps it.
  workForOrg<RedactJob>(d.jobs, REDACT_QUEUE, (p) => p.org_id, privacy.runRedaction, { leaseMs: 30 * 60_000 });
  return privacy;
}
