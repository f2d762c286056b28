/**
 * @module otlp-logs.ingest
 * Writes decoded log records through the ingestion service, and fills a run's input/output from the GenAI
 * content events stored for it — from both sides, so the order in which an instrumentation's spans
 * (`/v1/traces`) and logs (`/v1/logs`) arrive does not matter, and nothing is held in memory:
 *
 * - **Logs first.** The content events are stored on `otel_<traceId>` (naming the resource's agent, so the
 *   ingestion service creates a placeholder run). The run has no span yet: it is left alone, since a re-sent
 *   body would have to invent its status and start. When the span comes, the traces handler calls
 *   `fillRunContent` after writing the run, finds the stored content and re-sends the run with it.
 * - **Spans first.** The content events are stored on the existing run, then `fillRunContent` re-sends it.
 *
 * Each side writes first and reads after (the ingestion service answers once its batch has committed), so of
 * two exports racing, at least the later one sees the other's rows; both filling is harmless (same values).
 * A run is only re-sent with its stored status, times, agent, environment, tags and metadata, and only the
 * input/output that were empty, so nothing the span set is overwritten.
 *
 * @example
 * const result = await ingestLogs(deps, caller, decodeJsonLogs(body), Date.now());
 */
import type { IngestEvent, IngestRunBody } from '@agentops-hub/contracts';
import type { Caller } from '../../../platform/caller.ts';
import { AppError } from '../../../platform/errors.ts';
import { type LogEventDraft, mapLogRecords, runContentOf } from './genai-log-events.ts';
import type { OtlpLogsStore, RunState } from './otlp-logs.store.ts';
import type { DecodedLogs } from './otlp-logs-decode.ts';
import type { OtlpIngestion } from './otlp-types.ts';

export interface OtlpLogsDeps {
  ingestion: OtlpIngestion;
  store: OtlpLogsStore;
}

export interface OtlpLogsResult {
  records: number;
  /** Records not stored: unreadable, naming no trace or an unknown one, or refused by the service. */
  rejected: number;
  reasons: string[];
}

/** `ingestEvents` takes at most this many per call (the REST batch limit). */
const EVENTS_PER_CALL = 1000;

export async function ingestLogs(
  deps: OtlpLogsDeps,
  caller: Caller,
  decoded: DecodedLogs,
  nowMs: number,
): Promise<OtlpLogsResult> {
  const mapped = mapLogRecords(decoded.records, nowMs);
  const dropped = new Map<number, string>(mapped.dropped.map((d) => [d.index, d.reason]));
  const store = deps.store.forOrg(caller.orgId);
  const known = await store.runs([...mapped.content, ...mapped.plain].map((d) => d.event.run_id));
  const contentRuns = new Set(mapped.content.map((d) => d.event.run_id));

  // A plain log only joins a run the hub knows (or one this export's GenAI content starts): a service's
  // ordinary logs under traces that never carry a GenAI span must not become runs.
  const drafts: LogEventDraft[] = [...mapped.content];
  for (const d of mapped.plain) {
    if (known.has(d.event.run_id) || contentRuns.has(d.event.run_id)) drafts.push(d);
    else dropped.set(d.index, `its trace (run ${d.event.run_id}) is not known to this hub`);
  }
  // The agent is named only where the run does not exist yet: events of a known run keep its agent.
  const events: IngestEvent[] = drafts.map((d) =>
    known.has(d.event.run_id) ? d.event : { ...d.event, agent: d.agent },
  );

  for (let start = 0; start < events.length; start += EVENTS_PER_CALL) {
    const chunk = events.slice(start, start + EVENTS_PER_CALL);
    try {
      const res = await deps.ingestion.ingestEvents(caller, chunk);
      for (const r of res.rejected) {
        const draft = drafts[start + r.index];
        if (draft) dropped.set(draft.index, `event ${chunk[r.index]?.event_id}: ${describe(r.errors)}`);
      }
    } catch (err) {
      if (!refused(err)) throw err;
      for (let j = 0; j < chunk.length; j++) dropped.set(drafts[start + j]!.index, (err as Error).message);
    }
  }

  await fillRunContent(deps, caller, [...contentRuns]);

  const reasons = decoded.rejected.map((r) => `${r.where}: ${r.reason}`);
  for (const [index, reason] of [...dropped].sort((a, b) => a[0] - b[0])) reasons.push(`record ${index}: ${reason}`);
  return {
    records: decoded.records.length + decoded.rejected.length,
    rejected: decoded.rejected.length + dropped.size,
    reasons,
  };
}

/**
 * Gives each of these runs whose own span has arrived the input and output its stored GenAI content events
 * describe, where the run has none. Called after logs and after spans (see the module comment).
 * Returns how many runs were updated.
 */
export async function fillRunContent(deps: OtlpLogsDeps, caller: Caller, runIds: string[]): Promise<number> {
  if (runIds.length === 0) return 0;
  const store = deps.store.forOrg(caller.orgId);
  const gaps = [...(await store.runs(runIds)).values()].filter((s) => (!s.hasInput || !s.hasOutput) && hasOwnSpan(s));
  if (gaps.length === 0) return 0;
  const content = await store.content(gaps.map((s) => s.id));
  let updated = 0;
  for (const s of gaps) {
    const found = runContentOf(content.get(s.id) ?? []);
    const input = s.hasInput ? undefined : found.input;
    const output = s.hasOutput ? undefined : found.output;
    if (input === undefined && output === undefined) continue;
    try {
      await deps.ingestion.ingestRun(caller, resentRun(s, input, output));
      updated++;
    } catch (err) {
      // The content stays stored as events either way; a refused update (a key bound to other agents) only
      // leaves the run's input empty.
      if (!refused(err)) throw err;
    }
  }
  return updated;
}

/**
 * The run as stored, plus what was empty. The ingestion upsert keeps input/output/error/ended_at when the
 * body leaves them out (coalesce) and takes every other field from the body, hence all of them here.
 */
function resentRun(s: RunState, input: unknown, output: unknown): IngestRunBody {
  // The ingestion service adds `control_hold` again while the agent is held; a stale one must not stick.
  const { control_hold: _hold, ...metadata } = s.metadata;
  return {
    run_id: s.id,
    agent: s.agentId,
    status: s.status,
    started_at: new Date(s.startedAt).toISOString(),
    ...(s.endedAt !== null ? { ended_at: new Date(s.endedAt).toISOString() } : {}),
    ...(s.environment === 'prod' || s.environment === 'staging' || s.environment === 'test'
      ? { environment: s.environment }
      : {}),
    ...(input !== undefined ? { input } : {}),
    ...(output !== undefined ? { output } : {}),
    metadata,
    tags: s.tags,
  };
}

/** Whether the run was written from its span (genai-mapping.ts records the span in `metadata.otel`). */
function hasOwnSpan(s: RunState): boolean {
  const otel = s.metadata.otel;
  return typeof otel === 'object' && otel !== null && typeof (otel as { span_id?: unknown }).span_id === 'string';
}

/** A refusal of this data (counted as rejected), as opposed to a failure to store (5xx: the exporter retries). */
function refused(err: unknown): boolean {
  return err instanceof AppError && err.status < 500 && err.code !== 'rate_limited';
}

function describe(errors: unknown): string {
  if (!Array.isArray(errors)) return String(errors);
  return errors
    .map((e) =>
      e && typeof e === 'object'
        ? `${(e as { path?: string }).path ?? ''}: ${(e as { message?: string }).message ?? ''}`
        : String(e),
    )
    .join(', ');
}
