/**
 * System path: a queue whose jobs each work for one org (deliver a webhook, run a scheduled report).
 * The org in a job's payload was written by the hub itself, by a service that held the caller's
 * `OrgId` or by a schedule set up for the org's own row, never by a client; so this is the one place a
 * job's org becomes an `OrgId`, and handlers receive it ready to scope their queries with.
 *
 * @example
 * workForOrg(jobs, 'report.run', (p: ReportJob) => p.org_id, async (orgId, p) => {
 *   const report = await store.forOrg(orgId).get(p.report_id);
 * });
 */
import { type OrgId, trustedOrgId } from '../caller.ts';
import type { JobContext, JobRunner, WorkOptions } from './job-runner.ts';

export function workForOrg<P>(
  jobs: Pick<JobRunner, 'work'>,
  queue: string,
  orgOf: (payload: P) => string,
  handler: (orgId: OrgId, payload: P, job: JobContext) => Promise<void>,
  opts?: WorkOptions,
) {
  jobs.work<P>(queue, (payload, job) => handler(trustedOrgId(orgOf(payload)), payload, job), opts);
}
