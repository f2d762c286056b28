/**
 * @module langfuse-batch
 * Reads a Langfuse ingestion batch (`POST /api/public/ingestion`: `{batch: [{id, type, timestamp, body}]}`,
 * sent by the `langfuse` v3 JS client and the Python SDK v2) and plans the hub's runs and events. Pure: the
 * writes, and what depends on stored runs, are in langfuse-ingest.ts.
 *
 * | Langfuse item | hub |
 * | --- | --- |
 * | `trace-create` (again: an update) | the run whose id is the trace id; name, userId, sessionId, release, version under `metadata.langfuse`, the trace's own metadata beside it, tags, input, output |
 * | `generation-create` / `-update` | one `llm_call` event `lf_<observation id>`: model, usage, reported cost, `input` (prompt) and `output` (completion) on the payload |
 * | `span-create` / `-update` | a `log` event `lf_<id>` (name, input, output); a tool (`metadata.type: "tool"`, or an observation of type TOOL) is `tool_called` + `tool_result` |
 * | `event-create` | a `log` event `lf_<id>` |
 * | `score-create` | a `log` event `lf_score_<id>` (kind `score`) on the trace's run |
 * | `observation-create` / `-update` (deprecated) | as its `type` says |
 * | `sdk-log` | nothing (acknowledged) |
 *
 * Updates merge by observation id within a batch, so a create and its update are one event. An update whose
 * create came in an earlier batch is its own event (`lf_<id>_<item id>`, an `llm_call` only when it carries
 * usage or cost), since stored events are never rewritten. Every id comes from the client's ids, so a
 * retried batch writes the same ids and the ingestion service drops the repeats.
 *
 * @example
 * const { items, errors } = readBatch(body);
 * const plan = planBatch(items); // plan.traces, plan.runs (every run the batch touches), plan.events
 */
import { createHash } from 'node:crypto';
import type { IngestEvent } from '@agentops-hub/contracts';
import { costOfLangfuse, usageOfLangfuse } from './langfuse-usage.ts';

type Obj = Record<string, unknown>;

export interface BatchItem {
  id: string;
  type: string;
  /** Epoch ms of the envelope's timestamp (when the SDK queued the item). */
  at: number;
  body: Obj;
}

export interface ItemError {
  id: string;
  status: number;
  message: string;
  error?: unknown;
}

/** A `trace-create`, merged with the batch's later ones for the same trace. */
export interface TraceDraft {
  fields: Obj;
  items: string[];
}

export interface PlannedEvent {
  event: IngestEvent;
  /** The batch items it was made from: they fail with it. */
  items: string[];
}

export interface BatchPlan {
  /** Run id → the trace's fields (only traces with a trace-create in this batch). */
  traces: Map<string, TraceDraft>;
  /** Every run the batch touches → when its items start and end (ms). */
  runs: Map<string, { traceId: string; startMs: number; endMs: number; items: string[] }>;
  events: PlannedEvent[];
  errors: ItemError[];
}

const OBSERVATION_TYPES = new Set(['generation', 'span', 'event']);

/** The envelope of every item; a bad one is that item's error, never the batch's. */
export function readBatch(batch: unknown[]): { items: BatchItem[]; errors: ItemError[]; ignored: string[] } {
  const items: BatchItem[] = [];
  const errors: ItemError[] = [];
  const ignored: string[] = [];
  for (const [i, raw] of batch.entries()) {
    const item = isObj(raw) ? raw : {};
    const id = typeof item.id === 'string' && item.id ? item.id.slice(0, 200) : `(item ${i})`;
    const problem =
      typeof item.id !== 'string' || !item.id
        ? 'each item needs an `id` (string)'
        : typeof item.type !== 'string'
          ? 'each item needs a `type`'
          : item.type !== 'sdk-log' && !isObj(item.body)
            ? 'each item needs a `body` object'
            : undefined;
    const at = item.timestamp === undefined ? Date.now() : timeOf(item.timestamp);
    if (problem || at === undefined) {
      errors.push({
        id,
        status: 400,
        message: problem ?? '`timestamp` is not an ISO-8601 time',
        error: 'invalid_item',
      });
    } else if (item.type === 'sdk-log') {
      ignored.push(id); // the SDK's own debug log: acknowledged, not stored
    } else {
      items.push({ id, type: String(item.type), at, body: item.body as Obj });
    }
  }
  return { items, errors, ignored };
}

interface Observation {
  kind: 'generation' | 'span' | 'event';
  id: string;
  fields: Obj;
  items: string[];
  at: number;
  /** Set when the batch holds no create for it: the update stands alone. */
  updateOnly: boolean;
}

export function planBatch(items: BatchItem[]): BatchPlan {
  const plan: BatchPlan = { traces: new Map(), runs: new Map(), events: [], errors: [] };
  const observations = new Map<string, Observation>();
  const scores: BatchItem[] = [];

  for (const item of items) {
    const [kind, op] = splitType(item);
    if (kind === 'trace' && op === 'create') {
      const traceId = str(item.body.id) ?? item.id;
      const runId = clientId('', traceId);
      const draft = plan.traces.get(runId) ?? { fields: { id: traceId }, items: [] };
      Object.assign(draft.fields, defined(item.body));
      draft.items.push(item.id);
      plan.traces.set(runId, draft);
      touch(plan, traceId, timeOf(item.body.timestamp) ?? item.at, undefined, item.id);
    } else if (kind === 'score' && op === 'create') {
      scores.push(item);
    } else if (kind && OBSERVATION_TYPES.has(kind) && (op === 'create' || op === 'update')) {
      const id = str(item.body.id) ?? (op === 'create' ? item.id : undefined);
      if (!id) {
        plan.errors.push({ id: item.id, status: 400, message: 'an update needs the `id` of what it updates' });
        continue;
      }
      const key = `${kind}\u0000${id}`;
      const prev = observations.get(key);
      const obs = prev ?? {
        kind: kind as Observation['kind'],
        id,
        fields: {},
        items: [],
        at: item.at,
        updateOnly: true,
      };
      if (op === 'create') obs.updateOnly = false;
      Object.assign(obs.fields, defined(item.body));
      obs.items.push(item.id);
      observations.set(key, obs);
    } else {
      plan.errors.push({
        id: item.id,
        status: 400,
        message: `unsupported item type ${item.type}`,
        error: 'unsupported_type',
      });
    }
  }

  for (const obs of observations.values()) {
    const f = obs.fields;
    if (obs.updateOnly && !str(f.traceId)) {
      for (const id of obs.items)
        plan.errors.push({ id, status: 400, message: 'an update whose create came earlier needs its `traceId`' });
      continue;
    }
    // Langfuse creates a trace for an observation that names none; its id is the observation's.
    const traceId = str(f.traceId) ?? obs.id;
    const start = timeOf(f.startTime) ?? obs.at;
    const end = timeOf(f.endTime);
    touch(plan, traceId, start, end, ...obs.items);
    for (const event of eventsOf(obs, clientId('', traceId), start, end)) plan.events.push({ event, items: obs.items });
  }

  for (const item of scores) {
    const f = item.body;
    const traceId = str(f.traceId);
    if (!traceId) {
      plan.errors.push({ id: item.id, status: 400, message: 'a score needs a `traceId` here (its run)' });
      continue;
    }
    touch(plan, traceId, item.at, undefined, item.id);
    plan.events.push({ event: scoreEvent(item, clientId('', traceId)), items: [item.id] });
  }
  return plan;
}

function splitType(item: BatchItem): [string | undefined, string | undefined] {
  const m = /^(trace|score|generation|span|event|observation)-(create|update)$/.exec(item.type);
  if (!m) return [undefined, undefined];
  // The deprecated observation-* items say what they are in the body.
  if (m[1] === 'observation') return [str(item.body.type)?.toLowerCase() ?? 'span', m[2]];
  return [m[1], m[2]];
}

function touch(plan: BatchPlan, traceId: string, start: number, end: number | undefined, ...items: string[]) {
  const runId = clientId('', traceId);
  const r = plan.runs.get(runId) ?? { traceId, startMs: start, endMs: end ?? start, items: [] };
  r.startMs = Math.min(r.startMs, start);
  r.endMs = Math.max(r.endMs, end ?? start);
  r.items.push(...items);
  plan.runs.set(runId, r);
}

function eventsOf(obs: Observation, runId: string, start: number, end: number | undefined): IngestEvent[] {
  const f = obs.fields;
  // A stored event is never rewritten: an update that arrives after its create is an event of its own.
  const id = obs.updateOnly ? clientId('lf_', `${obs.id}_${obs.items[0]}`) : clientId('lf_', obs.id);
  const parent = str(f.parentObservationId);
  const common = {
    run_id: runId,
    timestamp: iso(start),
    ...(parent ? { parent_id: clientId('lf_', parent) } : {}),
    ...(end !== undefined ? { duration_ms: Math.max(0, end - start) } : {}),
  };
  const failed = str(f.level)?.toUpperCase() === 'ERROR';
  const details = {
    ...(str(f.name) ? { name: f.name } : {}),
    ...(f.metadata !== undefined ? { metadata: f.metadata } : {}),
    ...(str(f.level) ? { level: f.level } : {}),
    ...(str(f.statusMessage) ? { status_message: f.statusMessage } : {}),
    ...(str(f.version) ? { version: f.version } : {}),
    ...(failed ? { status: 'error', error: { message: str(f.statusMessage) ?? 'level ERROR' } } : {}),
  };

  if (obs.kind === 'generation') {
    const usage = usageOfLangfuse(f);
    const cost = costOfLangfuse(f);
    const payload = {
      ...details,
      ...(f.input !== undefined ? { input: f.input } : {}),
      ...(f.output !== undefined ? { output: f.output } : {}),
      ...(f.modelParameters !== undefined ? { model_parameters: f.modelParameters } : {}),
      ...(str(f.promptName) ? { prompt_name: f.promptName, prompt_version: f.promptVersion } : {}),
      ...(str(f.completionStartTime) ? { completion_start_time: f.completionStartTime } : {}),
    };
    // A late update without usage or cost (say, only the output) must not count as one more model call.
    if (obs.updateOnly && !usage && cost === undefined && !str(f.model))
      return [{ ...common, event_id: id, type: 'log', payload: { message: 'generation updated', ...payload } }];
    return [
      {
        ...common,
        event_id: id,
        type: 'llm_call',
        payload: {
          model: (str(f.model) ?? 'unknown').slice(0, 200),
          ...payload,
          ...(usage ?? { input_tokens: 0, output_tokens: 0 }),
          ...(cost !== undefined ? { cost_usd: cost } : {}),
          ...(end !== undefined ? { duration_ms: Math.max(0, end - start) } : {}),
        },
      },
    ];
  }

  const meta = isObj(f.metadata) ? f.metadata : {};
  const isTool = str(f.type)?.toUpperCase() === 'TOOL' || str(meta.type)?.toLowerCase() === 'tool';
  if (obs.kind === 'span' && isTool && !obs.updateOnly) {
    const tool = (str(f.name) ?? 'unknown_tool').slice(0, 200);
    return [
      {
        ...common,
        event_id: id,
        type: 'tool_called',
        payload: { tool, ...(f.input !== undefined ? { args: f.input } : {}) },
      },
      {
        ...common,
        event_id: `${id.slice(0, 120)}_result`,
        timestamp: iso(end ?? start),
        parent_id: id,
        type: 'tool_result',
        payload: {
          tool,
          status: failed ? 'error' : 'ok',
          ...(f.output !== undefined ? { result: f.output } : {}),
          ...(failed ? { error: details.error } : {}),
        },
      },
    ];
  }
  return [
    {
      ...common,
      event_id: id,
      type: 'log',
      payload: {
        message: str(f.name) ?? obs.kind,
        kind: obs.updateOnly ? `${obs.kind}_update` : obs.kind,
        ...details,
        ...(f.input !== undefined ? { input: f.input } : {}),
        ...(f.output !== undefined ? { output: f.output } : {}),
      },
    },
  ];
}

function scoreEvent(item: BatchItem, runId: string): IngestEvent {
  const f = item.body;
  const id = str(f.id) ?? item.id;
  const observation = str(f.observationId);
  return {
    event_id: clientId('lf_score_', id),
    run_id: runId,
    type: 'log',
    timestamp: iso(item.at),
    ...(observation ? { parent_id: clientId('lf_', observation) } : {}),
    payload: {
      message: `score ${String(f.name ?? '')} = ${String(f.value ?? '')}`.slice(0, 500),
      kind: 'score',
      name: f.name,
      value: f.value,
      ...(f.dataType !== undefined ? { data_type: f.dataType } : {}),
      ...(f.comment !== undefined ? { comment: f.comment } : {}),
      ...(observation ? { observation_id: observation } : {}),
      ...(f.metadata !== undefined ? { metadata: f.metadata } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * A hub id from a Langfuse id: `prefix + id` when that is a valid client id, else `prefix + hash`, so any
 * string Langfuse accepts (spaces, 200 characters) still gives one stable id.
 */
export function clientId(prefix: string, id: string): string {
  const plain = `${prefix}${id}`;
  if (CLIENT_ID.test(plain)) return plain;
  return `${prefix || 'lf_'}${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

/** ISO text or epoch ms; a time without an offset is UTC (Python's naive datetimes). */
export function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 && v < 253402300800000 ? v : undefined;
  if (typeof v !== 'string' || !v.trim()) return undefined;
  const text = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? `${v}Z` : v;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && ms >= 0 && ms < 253402300800000 ? ms : undefined;
}

export const iso = (ms: number) => new Date(Math.floor(ms)).toISOString();

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v : undefined;
}

/** The fields an item sets (an update leaves out what it does not change; null is not a value either). */
function defined(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}
