/**
 * `GET /v1/costs`: cost analytics grouped by agent, team, model, day, week or month, as JSON or as CSV
 * for finance (`?format=csv` or `Accept: text/csv`).
 */
import { CostsQuery, CostsResponse } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { toCsv } from '../../platform/csv.ts';
import { callerOf } from '../../platform/route-config.ts';
import type { CostService } from './costs.service.ts';

const CSV_COLUMNS = [
  'key',
  'name',
  'cost_usd',
  'input_tokens',
  'output_tokens',
  'llm_calls',
  'runs',
  'unpriced_calls',
  'share',
] as const;

export function registerCostRoutes(appIn: FastifyInstance, ctx: { costs: CostService }) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/v1/costs',
    {
      config: { permission: 'costs:read' },
      schema: { querystring: CostsQuery, response: { 200: CostsResponse }, tags: ['costs'] },
    },
    async (req, reply) => {
      const result = await ctx.costs.query(callerOf(req).orgId, req.query);
      const wantsCsv =
        req.query.format === 'csv' || (!req.query.format && /\btext\/csv\b/.test(req.headers.accept ?? ''));
      if (!wantsCsv) return result;
      const day = result.to.slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="costs-by-${result.group_by}-${day}.csv"`)
        .serializer((v: unknown) => v as string)
        .send(toCsv(CSV_COLUMNS, result.data) as never);
    },
  );
}
