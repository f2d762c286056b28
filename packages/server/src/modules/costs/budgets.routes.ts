/** `/v1/budgets`: list, create, read, change and delete budgets; each answer carries `spent_usd` now. */
import { BudgetSchema, CreateBudgetBody, UpdateBudgetBody } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../../platform/route-config.ts';
import type { BudgetService } from './budgets.service.ts';

const IdParams = z.object({ id: z.string().min(1).max(200) });

export function registerBudgetRoutes(appIn: FastifyInstance, ctx: { budgets: BudgetService }) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const { budgets } = ctx;
  const tags = ['budgets'];

  app.get(
    '/v1/budgets',
    {
      config: { permission: 'budgets:read' },
      schema: { response: { 200: z.object({ data: z.array(BudgetSchema), next_cursor: z.null() }) }, tags },
    },
    // At most ORG_CAPS.budgets (platform/org-caps.ts): one page, no cursor.
    async (req) => ({ data: await budgets.list(callerOf(req)), next_cursor: null }),
  );

  app.post(
    '/v1/budgets',
    {
      config: { permission: 'budgets:manage' },
      schema: { body: CreateBudgetBody, response: { 201: BudgetSchema }, tags },
    },
    async (req, reply) => reply.code(201).send(await budgets.create(callerOf(req), req.body)),
  );

  app.get(
    '/v1/budgets/:id',
    { config: { permission: 'budgets:read' }, schema: { params: IdParams, response: { 200: BudgetSchema }, tags } },
    async (req) => budgets.get(callerOf(req), req.params.id),
  );

  app.patch(
    '/v1/budgets/:id',
    {
      config: { permission: 'budgets:manage' },
      schema: { params: IdParams, body: UpdateBudgetBody, response: { 200: BudgetSchema }, tags },
    },
    async (req) => budgets.update(callerOf(req), req.params.id, req.body),
  );

  app.delete(
    '/v1/budgets/:id',
    { config: { permission: 'budgets:manage' }, schema: { params: IdParams, tags } },
    async (req, reply) => {
      await budgets.remove(callerOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
}
