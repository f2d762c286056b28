/**
 * `/v1/reports` (definitions, run now, history, preview) and `/v1/report-runs/{id}[.html|.pdf]`
 * (a kept run and its files). Reading needs `reports:read`; changing or running needs `reports:manage`.
 * Another org's report or run answers 404 (every lookup is org-scoped).
 */
import {
  CreateReportBody,
  PageQuery,
  PreviewReportBody,
  pageOf,
  ReportRunSchema,
  ReportSchema,
  RunReportBody,
  UpdateReportBody,
} from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { notFound } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });
const FileParams = z.object({ file: z.string().min(1).max(110) });

export function registerReportRoutes(appIn: FastifyInstance, ctx: Pick<HubContext, 'reports'>) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const tags = ['reports'];

  app.get(
    '/v1/reports',
    { config: { permission: 'reports:read' }, schema: { tags, response: { 200: pageOf(ReportSchema) } } },
    // An org keeps a handful of reports: one page.
    async (req) => ({ data: await ctx.reports.list(callerOf(req).orgId), next_cursor: null }),
  );
  app.post(
    '/v1/reports',
    {
      config: { permission: 'reports:manage' },
      schema: { tags, body: CreateReportBody, response: { 201: ReportSchema } },
    },
    async (req, reply) => reply.status(201).send(await ctx.reports.create(callerOf(req), req.body)),
  );
  app.post(
    '/v1/reports/preview',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags,
        description: 'Renders a template over a range as HTML, without keeping or sending it.',
        body: PreviewReportBody,
      },
    },
    async (req, reply) =>
      reply.type('text/html; charset=utf-8').send(await ctx.reports.preview(callerOf(req).orgId, req.body)),
  );
  app.get(
    '/v1/reports/:id',
    { config: { permission: 'reports:read' }, schema: { tags, params: IdParams, response: { 200: ReportSchema } } },
    async (req) => ctx.reports.get(callerOf(req).orgId, req.params.id),
  );
  app.patch(
    '/v1/reports/:id',
    {
      config: { permission: 'reports:manage' },
      schema: { tags, params: IdParams, body: UpdateReportBody, response: { 200: ReportSchema } },
    },
    async (req) => ctx.reports.update(callerOf(req), req.params.id, req.body),
  );
  app.delete(
    '/v1/reports/:id',
    { config: { permission: 'reports:manage' }, schema: { tags, params: IdParams } },
    async (req, reply) => {
      await ctx.reports.remove(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/reports/:id/run',
    {
      config: { permission: 'reports:manage' },
      schema: {
        tags,
        description:
          'Runs the report now (its range ending now, or `from`/`to`), keeps the run with its HTML and PDF, and queues its email and webhook deliveries.',
        params: IdParams,
        body: RunReportBody,
        response: { 201: ReportRunSchema },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await ctx.reports.run(callerOf(req), req.params.id, req.body ?? { deliver: true })),
  );
  app.get(
    '/v1/reports/:id/runs',
    {
      config: { permission: 'reports:read' },
      schema: { tags, params: IdParams, querystring: PageQuery, response: { 200: pageOf(ReportRunSchema) } },
    },
    async (req) => ctx.reports.runs(callerOf(req).orgId, req.params.id, req.query),
  );
  app.get(
    '/v1/report-runs/:file',
    {
      config: { permission: 'reports:read' },
      schema: {
        tags,
        description: '`{id}`: the run as JSON; `{id}.html` and `{id}.pdf`: its files, as delivered.',
        params: FileParams,
      },
    },
    async (req, reply) => {
      const orgId = callerOf(req).orgId;
      const m = /^(.+?)(?:\.(html|pdf))?$/.exec(req.params.file);
      if (!m) throw notFound('Report run');
      const [, id, ext] = m;
      if (!ext) return ctx.reports.getRun(orgId, id!);
      const file = await ctx.reports.runFile(orgId, id!, ext as 'html' | 'pdf');
      if (ext === 'pdf') reply.header('content-disposition', `inline; filename="${id}.pdf"`);
      // The HTML is data-bearing but static: no scripts may run in it even if a name slipped through.
      if (ext === 'html')
        reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      return reply.type(file.type).send(file.body);
    },
  );
}
