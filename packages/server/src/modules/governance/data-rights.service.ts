/**
 * The org's data rights: take everything out (export), or erase everything (delete).
 *
 * Export: `request` records an export and enqueues its job in the same transaction; the job writes the
 * archive (see org-export.ts); only owners (permission `org:export`) request and download it. Both are
 * audited in the org's log.
 *
 * Delete: after the caller typed the org's exact name, one transaction empties every table with an
 * `org_id` column (found by introspection, children first), jobs and schedules that name the org, the
 * org row itself and its audit chain (the append-only trigger lets it go only while the org is listed
 * in `audit_purges`, which the same transaction adds and removes). What remains is one tombstone: a
 * fresh audit chain for the deleted org id with a single `org.deleted` entry that says when, by whom
 * and how many rows went, and nothing the org wrote. After the commit the org's export archives and
 * cold-storage archives are deleted and every cache that knew the org forgets it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { orgScope } from '../../db/org-scope.ts';
import type { Database, OrgExportsTable } from '../../db/schema.ts';
import { createApiKeyStore } from '../../platform/api-keys/api-keys.store.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { invalid, notFound } from '../../platform/errors.ts';
import type { JobContext } from '../../platform/jobs/job-runner.ts';
import { assertBelowOrgCap } from '../../platform/org-caps.ts';
import { createOrgStore } from '../../platform/orgs/orgs.store.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import {
  copyColdArchives,
  type ExportServices,
  exportDir,
  exportFile,
  packArchive,
  removeQuietly,
  writeOrgExport,
} from './org-export.ts';
import { deletionOrder, orgScopedTables } from './org-tables.ts';

export const EXPORT_QUEUE = 'org.export';
/** The export job's payload; its org is handed to the worker as an `OrgId` by `workForOrg`. */
export interface ExportJob {
  export_id: string;
  org_id: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function toOrgExport(r: OrgExportsTable) {
  return {
    id: r.id,
    status: r.status as 'pending' | 'running' | 'completed' | 'failed',
    requested_by: r.requested_by,
    created_at: iso(r.created_at)!,
    completed_at: iso(r.completed_at),
    size_bytes: r.size_bytes === null ? null : Number(r.size_bytes),
    sha256: r.sha256,
    files: JSON.parse(r.files) as { name: string; rows: number }[],
    error: r.error,
    download_url: r.status === 'completed' ? `/v1/org/export/${r.id}` : null,
  };
}

export function createDataRightsService(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  dataDir: string;
  audit: AuditStore;
  secretBox: SecretBox;
  jobs: {
    send(queue: string, payload: unknown, opts?: { exec?: Kysely<Database> | Transaction<Database> }): Promise<string>;
    /** Deletes the jobs and schedules that name the org, inside the deletion's transaction. */
    forgetOrg(exec: Kysely<Database>, orgId: string): Promise<number>;
  };
  services: ExportServices;
  clock: () => number;
  /** After an org is deleted: drop it from every cache (API keys by hash, compiled policies, agents). */
  onOrgDeleted: (orgId: OrgId, apiKeyHashes: string[]) => void | Promise<void>;
}) {
  const { db, audit, clock } = deps;
  // The org row and the keys' hashes belong to the orgs and API-key modules: read through their stores.
  const orgs = createOrgStore(db);
  const apiKeys = createApiKeyStore(db);

  const row = (orgId: OrgId, id: string) =>
    orgScope(db, orgId).selectFrom('org_exports').selectAll().where('id', '=', id).executeTakeFirst();

  return {
    async requestExport(caller: Caller) {
      const t = clock();
      const r: OrgExportsTable = {
        id: newId('exp', t),
        org_id: caller.orgId,
        status: 'pending',
        requested_by: caller.actor.id,
        file_name: null,
        size_bytes: null,
        sha256: null,
        files: '[]',
        error: null,
        created_at: t,
        completed_at: null,
      };
      await db.transaction().execute(async (trx) => {
        const scope = orgScope(trx, caller.orgId);
        await assertBelowOrgCap('exports a day', () =>
          scope.count('org_exports', (q) => q.where('created_at', '>', t - 86_400_000)),
        );
        await scope.insertInto('org_exports', r).execute();
        await deps.jobs.send(EXPORT_QUEUE, { export_id: r.id, org_id: caller.orgId } satisfies ExportJob, {
          exec: trx,
        });
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'org.export_requested',
            entityType: 'org',
            entityId: caller.orgId,
            changes: { export_id: r.id },
          },
          t,
        );
      });
      return toOrgExport(r);
    },

    async listExports(orgId: OrgId) {
      const rows = await orgScope(db, orgId)
        .selectFrom('org_exports')
        .selectAll()
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(toOrgExport);
    },

    async getExport(orgId: OrgId, id: string) {
      const r = await row(orgId, id);
      if (!r) throw notFound('Export');
      return toOrgExport(r);
    },

    /** Deletes an export and its archive. */
    async deleteExport(caller: Caller, id: string) {
      const r = await row(caller.orgId, id);
      if (!r) throw notFound('Export');
      await db.transaction().execute(async (trx) => {
        await orgScope(trx, caller.orgId).deleteFrom('org_exports').where('id', '=', id).execute();
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'org.export_deleted',
          entityType: 'org',
          entityId: caller.orgId,
          changes: { export_id: id },
        });
      });
      removeQuietly(exportFile(deps.dataDir, caller.orgId, id));
    },

    /** The archive's path once the export completed (audited as a download). */
    async download(caller: Caller, id: string) {
      const r = await row(caller.orgId, id);
      if (!r) throw notFound('Export');
      if (r.status !== 'completed') return { ready: false as const, export: toOrgExport(r) };
      await db.transaction().execute((trx) =>
        audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'org.export_downloaded',
          entityType: 'org',
          entityId: caller.orgId,
          changes: { export_id: id, sha256: r.sha256, size_bytes: Number(r.size_bytes) },
        }),
      );
      return {
        ready: true as const,
        export: toOrgExport(r),
        path: exportFile(deps.dataDir, caller.orgId, id),
        fileName: `agentops-export-${id}.tar.gz`,
      };
    },

    /** The job: writes the files, packs the archive, marks the export completed (or failed on the last try). */
    async runExport(orgId: OrgId, payload: ExportJob, job: JobContext) {
      const r = await row(orgId, payload.export_id);
      if (!r || r.status === 'completed') return; // the org was deleted meanwhile, or a retry after success
      await orgScope(db, orgId).updateTable('org_exports').set({ status: 'running' }).where('id', '=', r.id).execute();
      const work = join(exportDir(deps.dataDir, orgId), `${r.id}.work`);
      try {
        removeQuietly(work);
        mkdirSync(work, { recursive: true });
        const files = await writeOrgExport({
          db,
          dialect: deps.dialect,
          secretBox: deps.secretBox,
          services: deps.services,
          audit,
          orgId,
          dir: work,
          now: clock(),
        });
        // Cold storage: the retention job's gzipped JSONL archives of old runs and events, as they are.
        files.push(...(await copyColdArchives(join(deps.dataDir, 'archives', orgId), join(work, 'cold'))));
        const manifest = {
          format: 'agentops-hub-export',
          format_version: 1,
          export_id: r.id,
          org_id: orgId,
          exported_at: new Date(clock()).toISOString(),
          files,
        };
        writeFileSync(join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        const file = exportFile(deps.dataDir, orgId, r.id);
        const packed = await packArchive(work, ['manifest.json', ...files.map((f) => f.name)], file);
        const done = await orgScope(db, orgId)
          .updateTable('org_exports')
          .set({
            status: 'completed',
            file_name: `${r.id}.tar.gz`,
            size_bytes: packed.size,
            sha256: packed.sha256,
            files: JSON.stringify(files),
            error: null,
            completed_at: clock(),
          })
          .where('id', '=', r.id)
          .executeTakeFirst();
        // Deleted while we wrote: leave no archive behind.
        if (Number(done.numUpdatedRows) === 0) removeQuietly(exportDir(deps.dataDir, orgId));
      } catch (e) {
        if (job.isFinalAttempt)
          await orgScope(db, orgId)
            .updateTable('org_exports')
            .set({ status: 'failed', error: String((e as Error).message).slice(0, 1000), completed_at: clock() })
            .where('id', '=', r.id)
            .execute();
        throw e;
      } finally {
        removeQuietly(work);
      }
    },

    /** Deletes the org and everything it owns; `confirm` must be the org's exact name. */
    async deleteOrg(caller: Caller, confirm: string) {
      const org = await orgs.forOrg(caller.orgId).getOrg();
      if (!org) throw notFound('Organization');
      if (confirm !== org.name)
        throw invalid('confirm', `type the organization's exact name ("${org.name}") to confirm its deletion`);
      const orgId = caller.orgId;
      const tables = await deletionOrder(db, deps.dialect, await orgScopedTables(db, deps.dialect));
      const keyHashes = await apiKeys.forOrg(orgId).keyHashes();
      const t = clock();
      const deleted: Record<string, number> = {};
      await db.transaction().execute(async (trx) => {
        const scope = orgScope(trx, orgId);
        await audit.beginPurge(trx, orgId, t);
        for (const table of tables) {
          const res = await scope.deleteFrom(table as 'members').executeTakeFirst();
          const n = Number(res.numDeletedRows);
          if (n > 0) deleted[table] = n;
        }
        // Rows that name the org without an org_id column, each through its owner: queued jobs and
        // schedules, then a user's active org and the org row itself.
        const jobs = await deps.jobs.forgetOrg(trx, orgId);
        if (jobs > 0) deleted.jobs = jobs;
        await orgs.deleteOrg(trx, orgId);
        await audit.endPurge(trx, orgId);
        // The tombstone: the only row left that names the org.
        await audit.append(
          trx,
          orgId,
          {
            actor: { type: caller.actor.type, id: caller.actor.id, name: null },
            action: 'org.deleted',
            entityType: 'org',
            entityId: orgId,
            changes: { deleted_at: new Date(t).toISOString(), rows_deleted: deleted },
            reason: 'deleted by its owner after typed confirmation',
          },
          t,
        );
      });
      removeQuietly(exportDir(deps.dataDir, orgId));
      removeQuietly(join(deps.dataDir, 'archives', orgId));
      await deps.onOrgDeleted(orgId, keyHashes);
      return { deleted: true, org_id: orgId, rows_deleted: deleted };
    },
  };
}
export type DataRightsService = ReturnType<typeof createDataRightsService>;
