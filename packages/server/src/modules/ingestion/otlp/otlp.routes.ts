/**
 * @module otlp.routes
 * `POST /v1/traces`: the OTLP/HTTP traces receiver. Agents that already emit OpenTelemetry point their
 * exporter here (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://hub/v1/traces`,
 * `OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer ahk_…`) and their GenAI spans become runs and events.
 *
 * Protobuf and JSON, gzip or not; the answer is in the request's encoding: 200 with an empty
 * ExportTraceServiceResponse when every span was taken, 200 with `partial_success` (rejected span count and
 * why) when some were not. A body that cannot be decoded is 400 problem+json; a failure to store is 5xx, so
 * the exporter retries (the ids are deterministic, so a retry upserts and never duplicates).
 *
 * Bounded (security finding 3): gzip may inflate to at most the body limit, an export past a cap of
 * `OTLP_LIMITS` is refused whole (413, nothing stored), and at most `DEFAULT_ORG_CONCURRENCY` exports of
 * one org are decoded at once (the next is 429 with Retry-After, which OTLP exporters retry).
 *
 * The content-type parsers live in an encapsulated plugin: the rest of the API keeps Fastify's JSON parser.
 * `POST /v1/logs` (otlp-logs.routes.ts) is declared in the same plugin and shares the concurrency slots; after
 * spans are written, their runs take any GenAI content that logs stored before them (`fillRunContent`).
 *
 * @example
 * registerOtlpRoutes(app, ctx); // ctx.ingestion: { ingestRun, ingestEvents }
 */
import type { IngestEvent } from '@agentops-hub/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.ts';
import type { Caller } from '../../../platform/caller.ts';
import { AppError } from '../../../platform/errors.ts';
import { callerOf } from '../../../platform/route-config.ts';
import { createOrgConcurrency, DEFAULT_ORG_CONCURRENCY } from '../org-concurrency.ts';
import { mapGenAiSpans } from './genai-mapping.ts';
import {
  type DecodedTraces,
  decodeJsonTraces,
  decodeProtobufTraces,
  encodeProtobufResponse,
  jsonResponse,
  type OtlpEncoding,
  readOtlpRequest,
} from './otlp-decode.ts';
import { fillRunContent } from './otlp-logs.ingest.ts';
import { registerOtlpLogsRoute } from './otlp-logs.routes.ts';
import { createOtlpLogsStore, type OtlpLogsStore } from './otlp-logs.store.ts';
import type { OtlpIngestion } from './otlp-types.ts';

export interface OtlpRouteDeps {
  ingestion: OtlpIngestion;
  config: { bodyLimitBytes: number };
  /**
   * For `/v1/logs` and for runs to pick up GenAI content that logs stored before their spans (read-only).
   * Without it, `/v1/logs` is not declared and spans are ingested alone.
   */
  db?: { db: Kysely<Database> };
  clock?: () => number;
}

/** `ingestEvents` takes at most this many per call (the REST batch limit). */
const EVENTS_PER_CALL = 1000;
export function registerOtlpRoutes(app: FastifyInstance, deps: OtlpRouteDeps) {
  // Every export takes a slot, however small: a few KB of gzip can inflate to the whole body limit.
  const slots = createOrgConcurrency({ limit: DEFAULT_ORG_CONCURRENCY });
  app.register(async (scope) => {
    useRawOtlpBodies(scope);

    scope.post(
      '/v1/traces',
      {
        config: { permission: 'ingest:write', rateBucket: 'ingest' },
        preParsing: slots.hook,
        schema: {
          tags: ['ingestion'],
          summary: 'OTLP/HTTP traces (protobuf or JSON, gzip accepted), mapped onto runs and events',
          description:
            'OpenTelemetry GenAI semantic conventions (also OpenInference and OpenLLMetry attributes). ' +
            'Answers 200 with an ExportTraceServiceResponse in the request encoding; partial_success names rejected spans.',
        },
      },
      createOtlpTracesHandler(deps),
    );

    if (deps.db) {
      const store = createOtlpLogsStore(deps.db.db);
      registerOtlpLogsRoute(scope, { ...deps, store, clock: deps.clock ?? Date.now }, slots.hook);
    }
  });
}

/**
 * Raw bytes for both encodings, in an encapsulated scope: gzip must come off before any parsing, and protobuf
 * is binary.
 */
export function useRawOtlpBodies(scope: FastifyInstance) {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    ['application/x-protobuf', 'application/protobuf', 'application/json'],
    { parseAs: 'buffer' },
    (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => done(null, body),
  );
}

/**
 * The traces export handler (decode within the caps, map, ingest, answer in the request's encoding), shared
 * with the Langfuse-compatible path. `adapt` may rewrite the decoded spans first (that path's attributes).
 */
export function createOtlpTracesHandler(
  deps: OtlpRouteDeps,
  adapt?: (decoded: DecodedTraces, req: FastifyRequest) => DecodedTraces,
) {
  const logsStore: OtlpLogsStore | undefined = deps.db ? createOtlpLogsStore(deps.db.db) : undefined;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { encoding, body } = await readOtlpRequest(req, deps.config.bodyLimitBytes);
    const decoded: DecodedTraces = encoding === 'protobuf' ? decodeProtobufTraces(body) : decodeJsonTraces(body);
    const spans = adapt ? adapt(decoded, req) : decoded;
    const caller = callerOf(req);
    const result = await ingestSpans(deps.ingestion, caller, spans);
    // Spans that could not be mapped or stored: the `ingestion.error` notice (one per export's reasons).
    if (result.rejectedSpans > 0)
      deps.ingestion.reportRejected?.(
        caller.orgId,
        'otlp',
        result.reasons.map((message, index) => ({ index, errors: [{ path: 'span', message }] })),
      );
    // GenAI content that /v1/logs stored before these spans: onto their trace runs (`otel_<traceId>`).
    if (logsStore) {
      const traceRuns = new Set(spans.spans.filter((s) => !s.parentSpanId).map((s) => `otel_${s.traceId}`));
      await fillRunContent({ ingestion: deps.ingestion, store: logsStore }, caller, [...traceRuns]);
    }
    return sendExportResponse(reply, encoding, result);
  };
}

export interface OtlpIngestResult {
  spans: number;
  rejectedSpans: number;
  /** Why, for the first few rejected spans. */
  reasons: string[];
}

/**
 * Maps decoded spans and writes them through the ingestion service: runs first (parents before children),
 * then events in chunks. Spans whose run or events the service rejects are counted as rejected; storage
 * failures propagate (5xx, the exporter retries).
 */
export async function ingestSpans(
  ingestion: OtlpIngestion,
  caller: Caller,
  decoded: DecodedTraces,
): Promise<OtlpIngestResult> {
  const mapped = mapGenAiSpans(decoded.spans);
  const rejected = new Map<string, string>();
  const reasons: string[] = decoded.rejected.map((r) => `${r.where}: ${r.reason}`);
  for (const r of mapped.rejected) rejected.set(r.spanId, r.reason);

  for (let i = 0; i < mapped.runs.length; i++) {
    try {
      const res = await ingestion.ingestRun(caller, mapped.runs[i]);
      if (res.errors?.length) rejected.set(mapped.runSpans[i], `run ${mapped.runs[i].run_id}: ${describe(res.errors)}`);
    } catch (err) {
      // A run the service refuses (validation, unknown agent with auto-registration off, …) rejects its span;
      // anything else is a failure to store and must not be acknowledged.
      if (!(err instanceof AppError) || err.status >= 500 || err.code === 'rate_limited') throw err;
      rejected.set(mapped.runSpans[i], `run ${mapped.runs[i].run_id}: ${err.message}`);
    }
  }

  for (let start = 0; start < mapped.events.length; start += EVENTS_PER_CALL) {
    const chunk: IngestEvent[] = mapped.events.slice(start, start + EVENTS_PER_CALL);
    let res: Awaited<ReturnType<OtlpIngestion['ingestEvents']>>;
    try {
      res = await ingestion.ingestEvents(caller, chunk);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || err.code === 'rate_limited') throw err;
      for (let j = 0; j < chunk.length; j++) rejected.set(mapped.eventSpans[start + j], err.message);
      continue;
    }
    for (const r of res.rejected) {
      const spanId = mapped.eventSpans[start + r.index];
      if (spanId && !rejected.has(spanId))
        rejected.set(spanId, `event ${chunk[r.index]?.event_id}: ${describe(r.errors)}`);
    }
  }

  for (const [spanId, reason] of rejected) reasons.push(`span ${spanId}: ${reason}`);
  return {
    spans: decoded.spans.length + decoded.rejected.length,
    rejectedSpans: decoded.rejected.length + rejected.size,
    reasons,
  };
}

function sendExportResponse(reply: FastifyReply, encoding: OtlpEncoding, result: OtlpIngestResult) {
  const partial =
    result.rejectedSpans > 0
      ? {
          rejectedSpans: result.rejectedSpans,
          errorMessage:
            `${result.rejectedSpans} of ${result.spans} spans were rejected: ${result.reasons.slice(0, 5).join('; ')}${
              result.reasons.length > 5 ? `; and ${result.reasons.length - 5} more` : ''
            }`.slice(0, 2000),
        }
      : undefined;
  reply.status(200);
  if (encoding === 'protobuf') {
    return reply.type('application/x-protobuf').send(Buffer.from(encodeProtobufResponse(partial)));
  }
  return reply.type('application/json').send(jsonResponse(partial));
}

function describe(errors: unknown): string {
  if (Array.isArray(errors)) {
    return errors
      .map((e) => (e && typeof e === 'object' ? `${(e as any).path ?? ''}: ${(e as any).message ?? ''}` : String(e)))
      .join(', ');
  }
  return String(errors);
}
