/**
 * `GET /v1/audit` (filters; JSON pages, or the whole filtered log as JSONL or CSV for export) and
 * `GET /v1/audit/verify` (recomputes the org's hash chain).
 */
import { ListAuditQuery } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HubContext } from '../../context.ts';
import { csvField } from '../csv.ts';
import { callerOf } from '../route-config.ts';
import type { AuditFilter } from './audit.store.ts';
import { toAuditEntry } from './audit-dto.ts';

const CSV_COLUMNS = [
  'id',
  'seq',
  'at',
  'actor_type',
  'actor_id',
  'actor_name',
  'action',
  'entity_type',
  'entity_id',
  'reason',
  'changes',
  'hash',
  'prev_hash',
];

export function registerAuditRoutes(appIn: FastifyInstance, ctx: HubContext) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/v1/audit',
    { config: { permission: 'audit:read' }, schema: { querystring: ListAuditQuery, tags: ['audit'] } },
    async (req, reply) => {
      const orgId = callerOf(req).orgId;
      const q = req.query;
      const filter: AuditFilter = {
        from: q.from ? Date.parse(q.from) : undefined,
        to: q.to ? Date.parse(q.to) : undefined,
        actor: q.actor,
        entityType: q.entity_type,
        entityId: q.entity_id,
        action: q.action,
      };
      if (q.format === 'json') {
        const rows = await ctx.audit.list(
          orgId,
          { ...filter, beforeSeq: q.cursor ? Number(q.cursor) : undefined },
          q.limit + 1,
        );
        const page = rows.slice(0, q.limit);
        return {
          data: page.map(toAuditEntry),
          next_cursor: rows.length > q.limit ? String(page[page.length - 1]!.seq) : null,
        };
      }
      // Export: the whole filtered log, oldest last (same order as the JSON pages), in chunks.
      const lines: string[] = q.format === 'csv' ? [CSV_COLUMNS.join(',')] : [];
      let before: number | undefined;
      for (;;) {
        const rows = await ctx.audit.list(orgId, { ...filter, beforeSeq: before }, 1000);
        for (const r of rows) {
          if (q.format === 'jsonl') lines.push(JSON.stringify(toAuditEntry(r)));
          else {
            const e = toAuditEntry(r);
            lines.push(
              [
                e.id,
                e.seq,
                e.at,
                e.actor.type,
                e.actor.id,
                e.actor.name,
                e.action,
                e.entity_type,
                e.entity_id,
                e.reason,
                e.changes,
                e.hash,
                e.prev_hash,
              ]
                .map(csvField)
                .join(','),
            );
          }
        }
        if (rows.length < 1000) break;
        before = Number(rows[rows.length - 1]!.seq);
      }
      const ext = q.format === 'csv' ? 'csv' : 'jsonl';
      reply
        .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="audit-${orgId}.${ext}"`);
      return `${lines.join('\n')}\n`;
    },
  );

  app.get('/v1/audit/verify', { config: { permission: 'audit:read' }, schema: { tags: ['audit'] } }, async (req) =>
    ctx.audit.verify(callerOf(req).orgId),
  );
}
