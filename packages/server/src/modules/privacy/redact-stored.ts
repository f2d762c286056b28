/**
 * @module redact-stored
 * Re-redaction of what an org already stored, under its current privacy settings: a durable job (the
 * platform job runner) that walks runs, events, decisions, approvals and then the cold archives, one
 * bounded page at a time, and records its phase, cursor and counts after each page in
 * `privacy_redactions`. A job that stops (a crash, a deploy) is claimed again and continues from its
 * cursor; a page done twice changes nothing more, because redaction is idempotent.
 *
 * Asked for by `POST /v1/privacy/redact-stored`, or made by the settings change that tightened them
 * (in that change's transaction, so the job exists exactly when the change committed). Both are audited
 * (`privacy.redaction_requested`), and so is the end (`privacy.redaction_completed` with the counts, or
 * `privacy.redaction_failed`).
 *
 * SQLite keeps the bytes of rewritten rows in free space until it reuses them, so the job turns
 * `secure_delete` on while it rewrites (freed content is zeroed), merges the search index (its deleted
 * terms go), and ends with a checkpoint that empties the WAL. PostgreSQL's old row versions are no
 * longer readable at once; their bytes go when vacuum reuses the pages (docs/privacy.md).
 *
 * @example
 * const r = createStoredRedaction({ ... });
 * await r.request(trx, caller.orgId, caller.actor, 'requested'); // → the queued row
 */
import type { Actor } from '@agentops-hub/contracts';
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { Exec } from '../../db/org-scope.ts';
import type { Database, PrivacyRedactionsTable } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import { type OrgId, SYSTEM_ACTOR } from '../../platform/caller.ts';
import type { JobContext, JobRunner } from '../../platform/jobs/job-runner.ts';
import { optimizeRunSearchSqlite } from '../ingestion/index.ts';
import { archivesPage } from './redact-archives.ts';
import { approvalsPage, type Cursor, decisionsPage, eventsPage, type PageResult, runsPage } from './redact-pages.ts';
import { createRedactionStore } from './redactions.store.ts';
import type { Redactor } from './redactor.ts';

export const REDACT_QUEUE = 'privacy.redact_stored';
export interface RedactJob {
  org_id: string;
  redaction_id: string;
}

const PHASES = ['runs', 'events', 'decisions', 'approvals', 'archives', 'done'] as const;
type Phase = (typeof PHASES)[number];
type Counts = Record<string, { scanned: number; changed: number }>;

export interface StoredRedactionDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  dataDir: string;
  audit: Pick<AuditStore, 'append'>;
  jobs: Pick<JobRunner, 'send'>;
  clock: () => number;
  /** The org's redactor compiled from its settings as stored now (null: nothing to redact). */
  compile: (orgId: OrgId) => Promise<Redactor | null>;
}

export function createStoredRedaction(deps: StoredRedactionDeps) {
  const store = createRedactionStore(deps.db);

  /** One page of `phase` after `cursor`. */
  function page(phase: Exclude<Phase, 'done'>, orgId: OrgId, red: Redactor, cursor: Cursor): Promise<PageResult> {
    if (phase === 'runs') return runsPage(deps.db, deps.dialect, orgId, red, cursor);
    if (phase === 'events') return eventsPage(deps.db, orgId, red, cursor);
    if (phase === 'decisions') return decisionsPage(deps.db, orgId, red, cursor);
    if (phase === 'approvals') return approvalsPage(deps.db, orgId, red, cursor);
    return archivesPage(deps.dataDir, orgId, red, cursor);
  }

  /** SQLite only: the bytes of rewritten content leave the file (see the header). */
  async function withSecureDelete(work: () => Promise<Counts>): Promise<void> {
    if (deps.dialect !== 'sqlite') {
      await work();
      return;
    }
    const before = await sql<{ secure_delete: number }>`pragma secure_delete`.execute(deps.db);
    await sql`pragma secure_delete = on`.execute(deps.db);
    try {
      const counts = await work();
      // Only when something was rewritten (in this attempt or an earlier one): merging the index drops
      // the terms of deleted FTS rows, and the checkpoint empties the WAL of the old pages.
      if (Object.values(counts).some((c) => c.changed > 0)) {
        await optimizeRunSearchSqlite(deps.db);
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(deps.db);
      }
    } finally {
      await sql`pragma secure_delete = ${sql.raw(String(Number(before.rows[0]?.secure_delete ?? 0)))}`.execute(deps.db);
    }
  }

  async function run(orgId: OrgId, job: RedactJob, ctx: JobContext) {
    const s = store.forOrg(orgId);
    const row = await s.get(job.redaction_id);
    if (!row || row.status === 'completed' || row.status === 'failed') return;
    if (row.status === 'queued') await s.update(row.id, { status: 'running', started_at: deps.clock() });
    let phase = row.phase as Phase;
    let cursor = row.cursor ? (JSON.parse(row.cursor) as Cursor) : null;
    const counts = JSON.parse(row.counts) as Counts;
    try {
      // Compiled when the job (re)starts: settings tightened after that queue another pass.
      const red = await deps.compile(orgId);
      await withSecureDelete(async () => {
        while (red && phase !== 'done') {
          const r = await page(phase, orgId, red, cursor);
          const c = counts[phase] ?? { scanned: 0, changed: 0 };
          counts[phase] = { scanned: c.scanned + r.scanned, changed: c.changed + r.changed };
          if (r.next === null) {
            phase = PHASES[PHASES.indexOf(phase) + 1]!;
            cursor = null;
          } else cursor = r.next;
          await s.update(row.id, { phase, cursor: cursor && JSON.stringify(cursor), counts: JSON.stringify(counts) });
        }
        return counts;
      });
      const now = deps.clock();
      await deps.db.transaction().execute(async (trx) => {
        const done = { status: 'completed', phase: 'done', cursor: null, finished_at: now };
        await store.forOrg(orgId, trx).update(row.id, done);
        await auditRedaction(trx, orgId, SYSTEM_ACTOR, 'privacy.redaction_completed', row.id, { counts }, now);
      });
    } catch (e) {
      if (ctx.isFinalAttempt) {
        const now = deps.clock();
        const error = String((e as Error).message ?? e).slice(0, 500);
        await deps.db.transaction().execute(async (trx) => {
          await store.forOrg(orgId, trx).update(row.id, { status: 'failed', error, finished_at: now });
          await auditRedaction(trx, orgId, SYSTEM_ACTOR, 'privacy.redaction_failed', row.id, { error, counts }, now);
        });
      }
      throw e;
    }
  }

  function auditRedaction(
    exec: Exec,
    orgId: OrgId,
    actor: Actor,
    action: string,
    id: string,
    changes: Record<string, unknown>,
    now: number,
  ) {
    return deps.audit.append(
      exec,
      orgId,
      { actor, action, entityType: 'privacy_redaction', entityId: id, changes },
      now,
    );
  }

  return {
    run,

    /**
     * Queues a re-redaction of the org's stored data, in `exec` (the caller's transaction). A request
     * while one is still queued joins it (it will read the settings as they are when it starts).
     */
    async request(exec: Exec, orgId: OrgId, actor: Actor, reason: 'requested' | 'tightened') {
      const s = store.forOrg(orgId, exec);
      const waiting = await s.queued();
      if (waiting) return waiting;
      const now = deps.clock();
      const row: Omit<PrivacyRedactionsTable, 'org_id'> = {
        id: newId('red', now),
        status: 'queued',
        reason,
        phase: 'runs',
        cursor: null,
        counts: '{}',
        requested_by: JSON.stringify(actor),
        requested_at: now,
        started_at: null,
        finished_at: null,
        error: null,
      };
      await s.insert(row);
      await auditRedaction(exec, orgId, actor, 'privacy.redaction_requested', row.id, { reason }, now);
      const payload: RedactJob = { org_id: orgId, redaction_id: row.id };
      await deps.jobs.send(REDACT_QUEUE, payload, { exec, singletonKey: `${REDACT_QUEUE}:${row.id}` });
      return { ...row, org_id: orgId };
    },

    latest: (orgId: OrgId) => store.forOrg(orgId).latest(),
  };
}
export type StoredRedaction = ReturnType<typeof createStoredRedaction>;
