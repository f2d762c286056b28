/**
 * `GET /v1/plans`: what each plan includes, with this deployment's numbers, and each feature with the
 * cheapest plan that has it. The org's own plan and usage are `GET /v1/org/plan` (orgs.routes.ts); with
 * both, the console shows what the plan lacks and which plan brings it, in the server's words, instead
 * of keeping its own copy of the table. No org data here, so no orgScope: any signed-in member or key
 * with `org:read` may read it.
 */
import { PlanCatalogSchema } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { PlanService } from './plans.ts';

export function registerPlanStateRoutes(appIn: FastifyInstance, ctx: { plans: Pick<PlanService, 'catalog'> }) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/v1/plans',
    { config: { permission: 'org:read' }, schema: { response: { 200: PlanCatalogSchema }, tags: ['orgs'] } },
    async () => ctx.plans.catalog(),
  );
}
