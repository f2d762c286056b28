/**
 * SQL for reports and report runs; every query is scoped to one org by `forOrg`. The jobs that run
 * schedules get the org from the job payload the service wrote, never from the report id alone.
 */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database, ReportRunsTable, ReportsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

/** A run without its HTML and PDF bodies: what lists need. */
export type ReportRunHead = Omit<ReportRunsTable, 'html' | 'pdf'> & { pdf_bytes: number | null };

const HEAD_COLUMNS = [
  'id',
  'org_id',
  'report_id',
  'template',
  'trigger',
  'scheduled_for',
  'period_from',
  'period_to',
  'status',
  'error',
  'summary',
  'deliveries',
  'created_by',
  'created_at',
] as const;

export function createReportStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const x = orgScope(exec, orgId);
      return {
        list: () => x.selectFrom('reports').selectAll().orderBy('created_at').orderBy('id').execute(),
        count: () => x.count('reports'),

        get: (id: string) => x.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst(),

        insert: async (row: Omit<ReportsTable, 'org_id'>) => {
          await x.insertInto('reports', row).execute();
        },

        update: async (id: string, set: Partial<Omit<ReportsTable, 'id' | 'org_id'>>) => {
          await x.updateTable('reports').set(set).where('id', '=', id).execute();
        },

        remove: async (id: string) => {
          // Runs go with their report (cascade), deleted explicitly so SQLite without FK enforcement agrees.
          await x.deleteFrom('report_runs').where('report_id', '=', id).execute();
          await x.deleteFrom('reports').where('id', '=', id).execute();
        },

        /** The org's runs asked for by hand since `since`: how many, and when the oldest was. */
        manualRunsSince: async (since: number) => {
          const r = await x
            .selectFrom('report_runs')
            .where('trigger', '=', 'manual')
            .where('created_at', '>', since)
            .select((eb) => [
              eb.fn.countAll<number | string | bigint>().as('n'),
              eb.fn.min<number | string | bigint | null>('created_at').as('oldest'),
            ])
            .executeTakeFirst();
          return { count: Number(r?.n ?? 0), oldest: r?.oldest == null ? null : Number(r.oldest) };
        },

        insertRun: async (row: Omit<ReportRunsTable, 'org_id'>) => {
          await x.insertInto('report_runs', row).execute();
        },

        runForOccurrence: (reportId: string, scheduledFor: number) =>
          x
            .selectFrom('report_runs')
            .select('id')
            .where('report_id', '=', reportId)
            .where('scheduled_for', '=', scheduledFor)
            .executeTakeFirst(),

        updateRun: async (id: string, set: Partial<Pick<ReportRunsTable, 'status' | 'error' | 'deliveries'>>) => {
          await x.updateTable('report_runs').set(set).where('id', '=', id).execute();
        },

        /** Newest first, paged by id (ids are time-ordered). */
        listRuns: async (reportId: string, limit: number, beforeId?: string): Promise<ReportRunHead[]> => {
          let q = x
            .selectFrom('report_runs')
            .select([...HEAD_COLUMNS])
            .select((eb) => eb.fn<number | null>('length', ['pdf']).as('pdf_len'))
            .where('report_id', '=', reportId);
          if (beforeId) q = q.where('id', '<', beforeId);
          const rows = await q.orderBy('id', 'desc').limit(limit).execute();
          return rows.map(({ pdf_len, ...r }) => ({ ...r, pdf_bytes: base64Bytes(pdf_len) }));
        },

        getRunHead: async (id: string): Promise<ReportRunHead | undefined> => {
          const r = await x
            .selectFrom('report_runs')
            .select([...HEAD_COLUMNS])
            .select((eb) => eb.fn<number | null>('length', ['pdf']).as('pdf_len'))
            .where('id', '=', id)
            .executeTakeFirst();
          if (!r) return undefined;
          const { pdf_len, ...rest } = r;
          return { ...rest, pdf_bytes: base64Bytes(pdf_len) };
        },

        getRunBody: (id: string, part: 'html' | 'pdf') =>
          x.selectFrom('report_runs').select(['id', part]).where('id', '=', id).executeTakeFirst() as Promise<
            { id: string; html?: string; pdf?: string | null } | undefined
          >,
      };
    },
  };
}

/** Bytes of a base64 body from its text length (padding ignored: close enough for a size shown). */
function base64Bytes(len: unknown): number | null {
  if (len === null || len === undefined) return null;
  return Math.floor((Number(len) * 3) / 4);
}

export type ReportStore = ReturnType<typeof createReportStore>;
