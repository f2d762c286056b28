/**
 * Ingestion: validate → durable write (group commit) → 202. Nothing else happens on this path; cost,
 * rollups and search are computed by enrichment afterwards, so ingestion keeps accepting while
 * enrichment lags or is down.
 */
import { IngestEvent, type IngestRunBody, LlmCallPayload } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { newId } from '../../db/ids.ts';
import type { Database } from '../../db/schema.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import { createGroupCommit } from '../../platform/group-commit.ts';
import { chain, type MaybePromise } from '../../platform/maybe-promise.ts';
import type { Redactor } from '../privacy/index.ts';
import type { AgentResolver, ResolvedAgent } from './agent-resolver.ts';
import {
  createSqliteBatchWriter,
  type EventRow,
  existingRunAgents,
  needsEnrichment,
  type RunRow,
  type WriteOp,
} from './ingestion.store.ts';
import { writeBatchPg } from './ingestion-batch.system.ts';
import { DEFAULT_LIMITS, limitedJson, type PayloadLimits } from './payload-limits.ts';

type Principal = Pick<Caller, 'orgId' | 'actor'> & Partial<Pick<Caller, 'agentIds'>>;

/**
 * A key bound to agents (`agent_ids`) writes only into its agents' runs. Resolving the agent it names is
 * not enough: a run id of another agent, sent again, would update that run (and move it to this agent),
 * and events that name no agent would land in it. So the runs a bound key names are looked up first.
 * Unbound keys (and people) skip this: they may act as any agent of the org anyway.
 */
const notYourRun = (runId: string) => `run ${runId} belongs to an agent this API key may not act as`;
type ParsedEvent = z.infer<typeof IngestEvent>;

const zodErrors = (e: z.ZodError, prefix = ''): FieldError[] =>
  e.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(item)',
    message: i.message,
  }));

export interface IngestionDeps {
  db: Kysely<Database>;
  /** The raw SQLite handle, for the prepared-statement write path (absent on PostgreSQL). */
  sqlite?: import('better-sqlite3').Database;
  resolver: AgentResolver;
  clock: () => number;
  limits?: PayloadLimits;
  /** Normalizes provider-specific usage shapes in llm_call payloads before validation. */
  normalizeLlmPayload?: (payload: Record<string, unknown>) => Record<string, unknown>;
  /**
   * The org's privacy settings (modules/privacy): content is redacted here, before any op is built, so
   * every path (REST, OTLP traces and logs, Langfuse) writes only what the org keeps. Null: keep as sent.
   */
  privacy?: { redactorFor(orgId: OrgId): MaybePromise<Redactor | null> };
  /** Called after each commit: enrichment picks the new rows up. */
  onCommitted?: () => void;
  /**
   * Told about items a batch rejected (the `ingestion.error` notice, modules/alerts). Synchronous and
   * bounded on the other side: it only buffers, so nothing waits on the request's path.
   */
  onRejected?: (orgId: OrgId, source: RejectedSource, rejected: readonly RejectedItem[]) => void;
  /**
   * Emergency controls: runs of a paused agent (or under the kill switch) are still ingested — nothing
   * is lost — and flagged in their metadata (`control_hold`) so the console and audits can see them.
   */
  controls?: {
    check(
      orgId: OrgId,
      agent: { id: string; type: string | null; tags: string[] },
    ): MaybePromise<{ reason: string; mode: string } | null>;
  };
}

/** Where rejected items came from: a REST batch of events, or an OTLP export's spans. */
export type RejectedSource = 'events' | 'otlp';
export interface RejectedItem {
  index: number;
  errors: FieldError[];
}

export function createIngestionService(deps: IngestionDeps) {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const runAgents = new Map<string, string>(); // `${org}\0${run}` → agent id: events that name no agent
  const rememberRun = (orgId: string, runId: string, agentId: string) => {
    if (runAgents.size > 100_000) runAgents.clear();
    runAgents.set(`${orgId}\u0000${runId}`, agentId);
  };
  const sqliteWrite = deps.sqlite ? createSqliteBatchWriter(deps.sqlite) : null;
  const committed = () => deps.onCommitted?.();
  const committer = createGroupCommit<WriteOp>({
    write: (ops) => {
      // PostgreSQL: usually one statement per batch, whatever its orgs (ingestion-batch.system.ts).
      if (!sqliteWrite) return writeBatchPg(deps.db, ops).then(committed);
      // As decisions.store.ts: with no transaction of Kysely's open on the connection, commit here and now
      // (no promise, no wait for the connection); inside an open one this would become its savepoint.
      if (deps.sqlite!.inTransaction)
        return deps.db
          .connection()
          .execute(async () => sqliteWrite(ops))
          .then(committed);
      sqliteWrite(ops);
      committed();
    },
  });

  /** Flags a paused agent's run (it is still ingested); plain when the controls answer from memory. */
  function withHold(orgId: OrgId, agent: ResolvedAgent, metadata: Record<string, unknown>) {
    if (!deps.controls) return metadata;
    return chain(deps.controls.check(orgId, agent), (hold) =>
      hold ? { ...metadata, control_hold: { reason: hold.reason, mode: hold.mode } } : metadata,
    );
  }

  /** Validates an llm_call payload (after normalizing provider usage shapes). */
  function checkPayload(ev: ParsedEvent): { payload: Record<string, unknown> } | { errors: FieldError[] } {
    if (ev.type !== 'llm_call') return { payload: ev.payload };
    const normalized = deps.normalizeLlmPayload ? deps.normalizeLlmPayload(ev.payload) : ev.payload;
    const r = LlmCallPayload.safeParse(normalized);
    return r.success ? { payload: r.data } : { errors: zodErrors(r.error, 'payload') };
  }

  /** The org's redactor (null: nothing to do); from memory after the first request of an org (then no promise). */
  function redactorOf(orgId: OrgId): MaybePromise<Redactor | null> {
    return deps.privacy ? deps.privacy.redactorFor(orgId) : null;
  }

  function eventRow(
    orgId: OrgId,
    agentId: string,
    runId: string,
    ev: ParsedEvent,
    raw: Record<string, unknown>,
    now: number,
    red: Redactor | null,
  ): EventRow {
    const payload = red ? red.payload(agentId, raw) : raw;
    return {
      org_id: orgId,
      id: ev.event_id ?? newId('evt', now),
      run_id: runId,
      agent_id: agentId,
      type: ev.type,
      ts: Date.parse(ev.timestamp),
      parent_id: ev.parent_id ?? null,
      // Whole milliseconds: the column is an integer on PostgreSQL, and SDKs send fractions (12.345).
      duration_ms: ev.duration_ms === undefined ? null : Math.round(ev.duration_ms),
      payload: limitedJson(payload, limits) ?? '{}',
      received_at: now,
      enriched: needsEnrichment(ev.type) ? 0 : 1,
    };
  }

  function terminalOp(orgId: OrgId, runId: string, ev: ParsedEvent, now: number): WriteOp | null {
    if (ev.type !== 'run_completed' && ev.type !== 'run_failed') return null;
    return {
      kind: 'terminal',
      orgId,
      runId,
      status: ev.type === 'run_completed' ? 'completed' : 'failed',
      endedAt: Date.parse(ev.timestamp),
      at: now,
    };
  }

  return {
    /** A whole run or its start; the same run_id again updates it. */
    async ingestRun(caller: Principal, body: IngestRunBody) {
      const now = deps.clock();
      const agent = await deps.resolver.resolve(caller.orgId, caller.actor, body.agent, body.environment);
      const runId = body.run_id ?? newId('run', now);
      let red = redactorOf(caller.orgId);
      if (red instanceof Promise) red = await red;
      const content = (v: unknown) => (red ? red.content(agent.id, v) : v);
      if (caller.agentIds && body.run_id) {
        const owner = (await existingRunAgents(deps.db, caller.orgId, [runId])).get(runId);
        if (owner && !caller.agentIds.has(owner)) throw new AppError('forbidden', notYourRun(runId));
      }
      const row: RunRow = {
        org_id: caller.orgId,
        id: runId,
        agent_id: agent.id,
        parent_run_id: body.parent_run_id ?? null,
        status: body.status,
        started_at: Date.parse(body.started_at),
        ended_at: body.ended_at ? Date.parse(body.ended_at) : null,
        environment: body.environment ?? agent.environment,
        external_ref: body.external_ref ?? null,
        input: limitedJson(content(body.input), limits),
        output: limitedJson(content(body.output), limits),
        error: limitedJson(content(body.error), limits),
        metadata: JSON.stringify(
          await withHold(
            caller.orgId,
            agent,
            red ? red.attributes(agent.id, body.metadata ?? {}) : (body.metadata ?? {}),
          ),
        ),
        tags: JSON.stringify([...new Set([...agent.tags, ...(body.tags ?? [])])]),
        created_at: now,
        updated_at: now,
      };
      const ops: WriteOp[] = [{ kind: 'run', row }];
      const errors: FieldError[] = [];
      (body.events ?? []).forEach((raw, i) => {
        const ev = { ...raw, run_id: runId } as ParsedEvent;
        const checked = checkPayload(ev);
        if ('errors' in checked) {
          errors.push(...checked.errors.map((e) => ({ ...e, path: `events.${i}.${e.path}` })));
          return;
        }
        ops.push({ kind: 'event', row: eventRow(caller.orgId, agent.id, runId, ev, checked.payload, now, red) });
      });
      if (errors.length) return { errors };
      if (body.usage) {
        // Run-level usage is one more LLM call, so it is priced and rolled up like any other.
        ops.push({
          kind: 'event',
          row: eventRow(
            caller.orgId,
            agent.id,
            runId,
            {
              run_id: runId,
              event_id: `${runId}:usage`,
              type: 'llm_call',
              timestamp: body.started_at,
              payload: body.usage,
            },
            body.usage,
            now,
            red,
          ),
        });
      }
      await committer.submit(ops);
      rememberRun(caller.orgId, runId, agent.id);
      return { run_id: runId, events_accepted: body.events?.length ?? 0 };
    },

    /** A batch of events: good ones kept, bad ones named by index. */
    async ingestEvents(caller: Principal, items: unknown[]) {
      const now = deps.clock();
      const rejected: { index: number; errors: FieldError[] }[] = [];
      const valid: { index: number; ev: ParsedEvent; payload: Record<string, unknown> }[] = [];
      for (const [index, item] of items.entries()) {
        const r = IngestEvent.safeParse(item);
        if (!r.success) {
          rejected.push({ index, errors: zodErrors(r.error) });
          continue;
        }
        const checked = checkPayload(r.data);
        if ('errors' in checked) rejected.push({ index, errors: checked.errors });
        else valid.push({ index, ev: r.data, payload: checked.payload });
      }

      // Which agent each run belongs to: named in an event of this batch, remembered, or stored.
      const agentOfRun = new Map<string, string>();
      const placeholders = new Map<string, RunRow>();
      for (const v of valid) {
        if (!v.ev.agent) continue;
        try {
          let resolved = deps.resolver.resolve(caller.orgId, caller.actor, v.ev.agent);
          if (resolved instanceof Promise) resolved = await resolved;
          const agent = resolved;
          if (!agentOfRun.has(v.ev.run_id)) agentOfRun.set(v.ev.run_id, agent.id);
          const ts = Date.parse(v.ev.timestamp);
          const prev = placeholders.get(v.ev.run_id);
          if (!prev || ts < prev.started_at) {
            let metadata = withHold(caller.orgId, agent, {});
            if (metadata instanceof Promise) metadata = await metadata;
            placeholders.set(v.ev.run_id, {
              org_id: caller.orgId,
              id: v.ev.run_id,
              agent_id: agentOfRun.get(v.ev.run_id)!,
              parent_run_id: null,
              status: 'running',
              started_at: ts,
              ended_at: null,
              environment: agent.environment,
              external_ref: null,
              input: null,
              output: null,
              error: null,
              metadata: JSON.stringify(metadata),
              tags: JSON.stringify(agent.tags),
              created_at: now,
              updated_at: now,
            });
          }
        } catch (e) {
          rejected.push({ index: v.index, errors: [{ path: 'agent', message: (e as Error).message }] });
          v.index = -1;
        }
      }
      const unknownRuns = valid
        .filter((v) => v.index >= 0 && !agentOfRun.has(v.ev.run_id))
        .map((v) => v.ev.run_id)
        .filter((id) => !runAgents.has(`${caller.orgId}\u0000${id}`));
      const stored = unknownRuns.length
        ? await existingRunAgents(deps.db, caller.orgId, [...new Set(unknownRuns)])
        : new Map<string, string>();

      const bound = caller.agentIds;
      const owners = bound
        ? await existingRunAgents(deps.db, caller.orgId, [...new Set(valid.map((v) => v.ev.run_id))])
        : undefined;
      let red = valid.length ? redactorOf(caller.orgId) : null;
      if (red instanceof Promise) red = await red;
      const ops: WriteOp[] = [...placeholders.values()].map((row) => ({ kind: 'placeholder' as const, row }));
      let accepted = 0;
      for (const v of valid) {
        if (v.index < 0) continue;
        const agentId =
          agentOfRun.get(v.ev.run_id) ??
          runAgents.get(`${caller.orgId}\u0000${v.ev.run_id}`) ??
          stored.get(v.ev.run_id);
        if (!agentId) {
          rejected.push({
            index: v.index,
            errors: [{ path: 'run_id', message: 'unknown run: send `agent` with the first event of a run' }],
          });
          continue;
        }
        const owner = owners?.get(v.ev.run_id);
        if (bound && (!bound.has(agentId) || (owner !== undefined && !bound.has(owner)))) {
          rejected.push({ index: v.index, errors: [{ path: 'run_id', message: notYourRun(v.ev.run_id) }] });
          agentOfRun.delete(v.ev.run_id); // not remembered as this agent's run either
          continue;
        }
        ops.push({ kind: 'event', row: eventRow(caller.orgId, agentId, v.ev.run_id, v.ev, v.payload, now, red) });
        const t = terminalOp(caller.orgId, v.ev.run_id, v.ev, now);
        if (t) ops.push(t);
        accepted++;
      }
      await committer.submit(ops);
      for (const [runId, agentId] of agentOfRun) rememberRun(caller.orgId, runId, agentId);
      rejected.sort((a, b) => a.index - b.index);
      return { accepted, rejected };
    },

    /**
     * A route hands on what its batch rejected (the REST events route, the OTLP traces export), once per
     * request: the items the client was told about, not each internal chunk.
     */
    reportRejected(orgId: OrgId, source: RejectedSource, rejected: readonly RejectedItem[]) {
      if (rejected.length) deps.onRejected?.(orgId, source, rejected);
    },

    drain: () => committer.drain(),
  };
}
export type IngestionService = ReturnType<typeof createIngestionService>;
