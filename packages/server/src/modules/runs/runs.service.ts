/**
 * Reading runs: the explorer's list (filters, text search, cursor paging) and one run with its
 * ordered events, the replay timeline. Every query is scoped to the caller's org.
 */
import type { LlmCallPayload, RunOutcome } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { createAgentStore } from '../agents/index.ts';
import { approvalsOfRun, toApproval } from '../approvals/index.ts';
import {
  type CostQuoter,
  childRunIds,
  eventsOfRunWithin,
  listRuns,
  type RunListFilter,
  runById,
  runIdsByRef,
  searchRunIds,
} from '../ingestion/index.ts';
import { decisionsOfRun } from '../policies/index.ts';
import { toEvent, toRun } from './run-dto.ts';
import { outcomeIs } from './run-outcome-filter.ts';

export interface RunFilter {
  agent?: string;
  /** An outcome, as the console shows runs: failed, blocked and paused are told apart. */
  status?: RunOutcome;
  from?: string;
  to?: string;
  tag?: string;
  environment?: string;
  q?: string;
}

/** Cursor = `<started_at>.<id>` of the last item: stable under inserts. */
const encodeCursor = (startedAt: number, id: string) => Buffer.from(`${startedAt}.${id}`).toString('base64url');
function decodeCursor(c: string): { startedAt: number; id: string } {
  const text = Buffer.from(c, 'base64url').toString();
  const dot = text.indexOf('.');
  const startedAt = Number(text.slice(0, dot));
  if (dot < 0 || !Number.isFinite(startedAt))
    throw new AppError('validation_failed', 'cursor: not a cursor this API gave out', {
      errors: [{ path: 'cursor', message: 'not a cursor this API gave out' }],
    });
  return { startedAt, id: text.slice(dot + 1) };
}

/** The run detail's timeline: its first 10,000 events, and at most 32 MiB of their payloads. */
export const MAX_TIMELINE_EVENTS = 10_000;
export const MAX_TIMELINE_CHARS = 32 * 1024 * 1024;

export function createRunService(deps: { db: Kysely<Database>; dialect: Dialect; quoter: CostQuoter }) {
  const { db } = deps;

  const registry = createAgentStore(db);
  const agentNames = (orgId: OrgId, ids: string[]) => registry.forOrg(orgId).namesOf([...new Set(ids)]);

  return {
    async list(orgId: OrgId, f: RunFilter, limit: number, cursor?: string) {
      const q: RunListFilter = {
        environment: f.environment,
        from: f.from ? Date.parse(f.from) : undefined,
        to: f.to ? Date.parse(f.to) : undefined,
        tag: f.tag,
      };
      if (f.agent) {
        const agent = await registry.forOrg(orgId).find(f.agent);
        if (!agent) return { data: [], next_cursor: null };
        q.agentId = agent.id;
      }
      if (f.status) q.where = outcomeIs(deps.dialect, f.status);
      if (f.q) {
        const ids = await searchRunIds(db, deps.dialect, orgId, f.q, 1000);
        // References are often typed whole (ticket-4711): match them exactly too.
        const exact = await runIdsByRef(db, orgId, f.q);
        const all = [...new Set([...ids, ...exact])];
        if (all.length === 0) return { data: [], next_cursor: null };
        q.ids = all;
      }
      if (cursor) q.before = decodeCursor(cursor);
      const rows = await listRuns(db, orgId, q, limit + 1);
      const page = rows.slice(0, limit);
      const names = await agentNames(
        orgId,
        page.map((r) => r.agent_id),
      );
      const last = page[page.length - 1];
      return {
        data: page.map((r) => toRun(r, names.get(r.agent_id) ?? '')),
        next_cursor: rows.length > limit && last ? encodeCursor(Number(last.started_at), last.id) : null,
      };
    },

    async get(orgId: OrgId, id: string) {
      const run = await runById(db, orgId, id);
      if (!run) throw notFound('Run');
      const { rows: events, truncated } = await eventsOfRunWithin(
        db,
        orgId,
        id,
        MAX_TIMELINE_EVENTS,
        MAX_TIMELINE_CHARS,
      );
      const names = await agentNames(orgId, [run.agent_id]);
      const dto = toRun(run, names.get(run.agent_id) ?? '');
      const timeline = events.map(toEvent);
      // LLM calls enrichment has not reached yet are priced now (in memory), so a replay never shows a
      // cost that is only missing because enrichment lags; `cost_pending` says so.
      let pending = 0;
      for (const [i, e] of events.entries()) {
        if (e.type !== 'llm_call' || e.enriched === 1) continue;
        const p = JSON.parse(e.payload) as LlmCallPayload;
        const cost =
          typeof p.cost_usd === 'number'
            ? Math.round(p.cost_usd * 1e9)
            : await deps.quoter.quote(orgId, p, Number(e.ts));
        pending++;
        dto.input_tokens += Number(p.input_tokens ?? 0);
        dto.output_tokens += Number(p.output_tokens ?? 0);
        if (cost === null) dto.cost_unknown = true;
        else dto.cost_usd += cost / 1e9;
        Object.assign(timeline[i]!, {
          model: p.model,
          input_tokens: p.input_tokens,
          output_tokens: p.output_tokens,
          cost_usd: cost === null ? null : cost / 1e9,
          cost_source: 'pending',
        });
      }
      // The replay timeline shows policy decisions and approvals made for this run.
      const decisions = await decisionsOfRun(db, orgId, id, 1000);
      const approvals = await approvalsOfRun(db, orgId, id, 1000);
      const children = await childRunIds(db, orgId, id);
      return {
        ...dto,
        cost_pending: pending > 0,
        events_truncated: truncated,
        child_run_ids: children,
        events: timeline,
        decisions: decisions.map((d) => ({
          id: d.id,
          at: new Date(Number(d.created_at)).toISOString(),
          decision: d.decision,
          action: JSON.parse(d.action),
          reasons: JSON.parse(d.reasons),
          monitors: JSON.parse(d.monitors),
          approval_id: d.approval_id,
          latency_us: Number(d.latency_us),
        })),
        approvals: approvals.map((a) => toApproval(a, Date.now())),
      };
    },
  };
}
export type RunService = ReturnType<typeof createRunService>;
