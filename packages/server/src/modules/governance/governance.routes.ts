/**
 * `/v1/policy-packs` (browse, recommendations, preview, apply, unapply, what is applied) and the org's
 * data rights: `POST /v1/org/export`, `GET /v1/org/exports[/{id}]` (the jobs; DELETE one to drop its archive), `GET /v1/org/export/{id}` (the
 * archive once ready, else the job's state with 202), `DELETE /v1/org {confirm}`.
 */
import { createReadStream } from 'node:fs';
import { ApplyPackBody, DeleteOrgBody, PackPreviewBody, type PolicyPackFile } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import type { OrgId } from '../../platform/caller.ts';
import { AppError } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';
import { renderPack } from './pack-catalog.ts';
import { recommendPacks } from './recommendations.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });

/** A pack as the API shows it: its parameters, and its items rendered with the defaults, in words. */
function toPackDto(pack: PolicyPackFile, applied?: { version: number; params: unknown; applied_at: string }) {
  const r = renderPack(pack);
  return {
    id: pack.id,
    name: pack.name,
    version: pack.version,
    description: pack.description,
    starter: pack.starter,
    baseline: pack.baseline,
    industries: pack.industries,
    agent_types: pack.agent_types,
    agent_tags: pack.agent_tags,
    params: Object.entries(pack.params).map(([name, p]) => ({ name, ...p })),
    policies: r.policies.map((p) => ({
      key: p.key,
      name: p.body.name,
      summary: p.summary,
      effect: p.body.rule.then,
      priority: p.body.priority,
      rule: p.body.rule,
    })),
    budgets: r.budgets.map((b) => ({ key: b.key, summary: b.summary, ...b.body })),
    notifications: r.notifications,
    applied: applied ? { ...applied, upgrade_available: applied.version < pack.version } : null,
  };
}

export function registerGovernanceRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const packs = ctx.policyPacks;

  async function appliedMap(orgId: OrgId) {
    return new Map((await packs.applications(orgId)).map((a) => [a.pack_id, a]));
  }

  app.get(
    '/v1/policy-packs',
    { config: { permission: 'policies:read' }, schema: { tags: ['policy packs'] } },
    async (req) => {
      const applied = await appliedMap(callerOf(req).orgId);
      return { data: packs.catalog.list().map((p) => toPackDto(p, applied.get(p.id))), next_cursor: null };
    },
  );
  app.get(
    '/v1/policy-packs/recommendations',
    { config: { permission: 'policies:read' }, schema: { tags: ['policy packs'] } },
    async (req) => {
      const orgId = callerOf(req).orgId;
      const org = await ctx.orgs.get(orgId);
      const agents = [];
      for (let cursor: string | undefined; ; ) {
        const page = await ctx.agents.list(orgId, { beforeId: cursor }, 200);
        agents.push(...page.data.map((a) => ({ name: a.name, type: a.type, tags: a.tags })));
        if (!page.next_cursor || agents.length >= 5000) break;
        cursor = page.next_cursor;
      }
      const applied = new Map([...(await appliedMap(orgId))].map(([id, a]) => [id, a.version]));
      return {
        industry: org.industry,
        data: recommendPacks(packs.catalog.list(), { industry: org.industry, agents, applied }),
      };
    },
  );
  app.get(
    '/v1/policy-packs/applied',
    { config: { permission: 'policies:read' }, schema: { tags: ['policy packs'] } },
    async (req) => ({ data: await packs.applications(callerOf(req).orgId), next_cursor: null }),
  );
  app.get(
    '/v1/policy-packs/:id',
    { config: { permission: 'policies:read' }, schema: { params: IdParams, tags: ['policy packs'] } },
    async (req) => {
      packs.render(req.params.id); // 404 for an unknown pack
      const pack = packs.catalog.get(req.params.id)!;
      return toPackDto(pack, (await appliedMap(callerOf(req).orgId)).get(pack.id));
    },
  );
  app.post(
    '/v1/policy-packs/:id/preview',
    {
      config: { permission: 'policies:read' },
      schema: { params: IdParams, body: PackPreviewBody.optional(), tags: ['policy packs'] },
    },
    async (req) => packs.preview(callerOf(req).orgId, req.params.id, req.body?.params),
  );
  app.post(
    '/v1/policy-packs/:id/apply',
    {
      config: { permission: 'policies:create' },
      schema: { params: IdParams, body: ApplyPackBody.optional(), tags: ['policy packs'] },
    },
    async (req) => packs.apply(callerOf(req), req.params.id, req.body ?? {}),
  );
  app.post(
    '/v1/policy-packs/:id/unapply',
    { config: { permission: 'policies:edit' }, schema: { params: IdParams, tags: ['policy packs'] } },
    async (req) => packs.unapply(callerOf(req), req.params.id),
  );

  const rights = ctx.dataRights;
  app.post(
    '/v1/org/export',
    { config: { permission: 'org:export' }, schema: { tags: ['data rights'] } },
    async (req, reply) => reply.status(202).send(await rights.requestExport(callerOf(req))),
  );
  app.get(
    '/v1/org/exports',
    { config: { permission: 'org:export' }, schema: { tags: ['data rights'] } },
    async (req) => ({ data: await rights.listExports(callerOf(req).orgId), next_cursor: null }),
  );
  app.get(
    '/v1/org/exports/:id',
    { config: { permission: 'org:export' }, schema: { params: IdParams, tags: ['data rights'] } },
    async (req) => rights.getExport(callerOf(req).orgId, req.params.id),
  );
  app.delete(
    '/v1/org/exports/:id',
    { config: { permission: 'org:export' }, schema: { params: IdParams, tags: ['data rights'] } },
    async (req, reply) => {
      await rights.deleteExport(callerOf(req), req.params.id);
      return reply.status(204).send();
    },
  );
  app.get(
    '/v1/org/export/:id',
    { config: { permission: 'org:export' }, schema: { params: IdParams, tags: ['data rights'] } },
    async (req, reply) => {
      const d = await rights.download(callerOf(req), req.params.id);
      if (!d.ready) {
        if (d.export.status === 'failed')
          throw new AppError('conflict', `The export failed: ${d.export.error ?? 'unknown error'}. Request a new one.`);
        return reply.status(202).header('retry-after', '2').send(d.export);
      }
      return reply
        .type('application/gzip')
        .header('content-disposition', `attachment; filename="${d.fileName}"`)
        .header('x-content-sha256', d.export.sha256 ?? '')
        .send(createReadStream(d.path));
    },
  );
  app.delete(
    '/v1/org',
    { config: { permission: 'org:delete' }, schema: { body: DeleteOrgBody, tags: ['data rights'] } },
    async (req) => rights.deleteOrg(callerOf(req), req.body.confirm),
  );
}
