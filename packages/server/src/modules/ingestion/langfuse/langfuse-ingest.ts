/**
 * @module langfuse-ingest
 * Writes a planned Langfuse batch (langfuse-batch.ts) through the ingestion service — runs first, then
 * events, like the OTLP receiver — and answers per item in Langfuse's shape: `{successes: [{id, status}],
 * errors: [{id, status, message, error}]}`. An item fails alone (its run or one of its events refused);
 * the others are kept. A failure to store propagates (5xx): the SDK retries the whole batch, and every id
 * is the client's, so nothing is written twice.
 *
 * The agent of a run (decided once, when the run is first written; later items keep the run's agent):
 * the trace's `metadata.agent`, else the Basic username when it is not a Langfuse key (`pk-lf-…`: set
 * `LANGFUSE_PUBLIC_KEY=support-bot` to name a process's agent), else the trace's `name`, else `langfuse`.
 *
 * @example
 * const answer = await ingestLangfuseBatch(deps, caller, body.batch, basic?.username);
 * reply.status(207).send(answer);
 */
import type { IngestRunBody } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.ts';
import type { Caller } from '../../../platform/caller.ts';
import { AppError } from '../../../platform/errors.ts';
import { environmentOf } from '../otlp/genai-attributes.ts';
import type { OtlpIngestion } from '../otlp/otlp-types.ts';
import { type StoredRun, storedRuns } from './langfuse.store.ts';
import { type BatchPlan, type ItemError, isObj, iso, planBatch, readBatch, str } from './langfuse-batch.ts';
import { agentOfUsername } from './langfuse-otel-attributes.ts';

export interface LangfuseIngestDeps {
  ingestion: OtlpIngestion;
  db: { db: Kysely<Database> };
}

export interface LangfuseIngestAnswer {
  successes: { id: string; status: number }[];
  errors: ItemError[];
}

/** `ingestEvents` takes at most this many per call. */
const EVENTS_PER_CALL = 1000;

export async function ingestLangfuseBatch(
  deps: LangfuseIngestDeps,
  caller: Caller,
  batch: unknown[],
  username: string | undefined,
): Promise<LangfuseIngestAnswer> {
  const read = readBatch(batch);
  const plan = planBatch(read.items);
  const failed = new Map<string, ItemError>();
  const fail = (ids: string[], status: number, message: string, error: unknown) => {
    for (const id of ids) if (!failed.has(id)) failed.set(id, { id, status, message, error });
  };
  for (const e of [...read.errors, ...plan.errors]) fail([e.id], e.status, e.message, e.error ?? 'invalid_item');

  const stored = await storedRuns(deps.db.db, caller.orgId, [...plan.runs.keys()]);
  for (const [runId, touched] of plan.runs) {
    const draft = plan.traces.get(runId);
    const before = stored.get(runId);
    // Observations of a run that exists already: their events find its agent; nothing to update.
    if (!draft && before) continue;
    const body = runBody(runId, plan, before, username);
    try {
      const res = await deps.ingestion.ingestRun(caller, body);
      if (res.errors?.length) fail(draft?.items ?? [], 400, describe(res.errors), 'validation_failed');
    } catch (err) {
      if (!refusal(err)) throw err;
      // The trace's own items fail; its observations fail with their events (their run is missing).
      fail(draft?.items ?? touched.items, err.status, err.message, err.code);
    }
  }

  const planned = plan.events.filter((p) => !p.items.some((id) => failed.has(id)));
  for (let start = 0; start < planned.length; start += EVENTS_PER_CALL) {
    const chunk = planned.slice(start, start + EVENTS_PER_CALL);
    try {
      const res = await deps.ingestion.ingestEvents(
        caller,
        chunk.map((p) => p.event),
      );
      for (const r of res.rejected) fail(chunk[r.index]?.items ?? [], 400, describe(r.errors), 'validation_failed');
    } catch (err) {
      if (!refusal(err)) throw err;
      fail(
        chunk.flatMap((p) => p.items),
        err.status,
        err.message,
        err.code,
      );
    }
  }

  const ids = [...read.items.map((i) => i.id), ...read.ignored];
  return {
    successes: [...new Set(ids)].filter((id) => !failed.has(id)).map((id) => ({ id, status: 201 })),
    errors: [...failed.values()],
  };
}

/** The run of one trace: the batch's trace-create merged over what is stored (Langfuse updates by id). */
function runBody(runId: string, plan: BatchPlan, before: StoredRun | undefined, username?: string): IngestRunBody {
  const touched = plan.runs.get(runId)!;
  const f = plan.traces.get(runId)?.fields ?? {};
  const meta = isObj(f.metadata) ? f.metadata : undefined;
  const agent = before?.agentId ?? str(meta?.agent) ?? agentOfUsername(username) ?? str(f.name) ?? 'langfuse';
  const started = Math.min(before?.startedAt ?? Number.POSITIVE_INFINITY, touched.startMs);
  const ended = Math.max(before?.endedAt ?? 0, touched.endMs, started);
  const langfuse = Object.fromEntries(
    Object.entries({
      trace_id: touched.traceId === runId ? undefined : touched.traceId,
      name: f.name,
      user_id: f.userId,
      session_id: f.sessionId,
      release: f.release,
      version: f.version,
      public: f.public,
      environment: f.environment,
    }).filter(([, v]) => v !== undefined),
  );
  const own = meta ?? (f.metadata !== undefined ? { metadata: f.metadata } : {});
  const prevLangfuse = isObj(before?.metadata.langfuse) ? before.metadata.langfuse : {};
  const tags = [...new Set([...(before?.tags ?? []), ...(Array.isArray(f.tags) ? f.tags : [])])]
    .filter((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 64)
    .slice(0, 50);
  const environment = environmentOf(str(f.environment));
  return {
    run_id: runId,
    agent: agent.slice(0, 200),
    // Langfuse traces have no status: written, they are complete; a failed run stays failed.
    status: before?.status === 'failed' ? 'failed' : 'completed',
    started_at: iso(started),
    ended_at: iso(ended),
    ...(environment ? { environment } : {}),
    ...(f.input !== undefined ? { input: f.input } : {}),
    ...(f.output !== undefined ? { output: f.output } : {}),
    metadata: { ...before?.metadata, source: 'langfuse', ...own, langfuse: { ...prevLangfuse, ...langfuse } },
    ...(tags.length ? { tags } : {}),
  };
}

/** A refusal of this item (validation, permission, unknown agent): not a failure to store. */
function refusal(err: unknown): err is AppError {
  return err instanceof AppError && err.status < 500 && err.code !== 'rate_limited';
}

function describe(errors: unknown): string {
  if (!Array.isArray(errors)) return String(errors);
  return errors
    .map((e) => (isObj(e) ? `${String(e.path ?? '')}: ${String(e.message ?? '')}` : String(e)))
    .join('; ')
    .slice(0, 1000);
}
