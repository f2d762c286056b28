/**
 * @module otlp-logs.routes
 * `POST /v1/logs`: the OTLP/HTTP logs receiver, for instrumentations that send GenAI message content as log
 * records (`@opentelemetry/instrumentation-openai` with `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`
 * and `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=https://hub/v1/logs`). The content lands on the run of the record's
 * trace and fills its input/output (see otlp-logs.ingest.ts); other records naming a known trace become `log`
 * events; the rest are dropped and counted.
 *
 * The same contract as `/v1/traces`, declared beside it in otlp.routes.ts (same encapsulated scope for the raw
 * body parsers, same per-org concurrency slots): an API key with `ingest:write`, protobuf or JSON, gzip
 * inflated to at most the body limit, caps checked on the wire before decoding (413 naming the cap, nothing
 * stored), 200 with an ExportLogsServiceResponse in the request's encoding whose `partial_success` counts
 * the records not stored (`rejectedLogRecords`) and says why.
 *
 * @example
 * registerOtlpLogsRoute(scope, { ingestion, store, config, clock }, slots.hook);
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { callerOf } from '../../../platform/route-config.ts';
import type { createOrgConcurrency } from '../org-concurrency.ts';
import { type OtlpEncoding, readOtlpRequest } from './otlp-decode.ts';
import { ingestLogs, type OtlpLogsDeps, type OtlpLogsResult } from './otlp-logs.ingest.ts';
import {
  decodeJsonLogs,
  decodeProtobufLogs,
  encodeProtobufLogsResponse,
  jsonLogsResponse,
} from './otlp-logs-decode.ts';

export interface OtlpLogsRouteDeps extends OtlpLogsDeps {
  config: { bodyLimitBytes: number };
  clock: () => number;
}

/** Registers the route in `scope`, which must already parse OTLP bodies raw (`useRawOtlpBodies`). */
export function registerOtlpLogsRoute(
  scope: FastifyInstance,
  deps: OtlpLogsRouteDeps,
  slot: ReturnType<typeof createOrgConcurrency>['hook'],
) {
  scope.post(
    '/v1/logs',
    {
      config: { permission: 'ingest:write', rateBucket: 'ingest' },
      preParsing: slot,
      schema: {
        tags: ['ingestion'],
        summary: 'OTLP/HTTP logs (protobuf or JSON, gzip accepted): GenAI message content onto runs',
        description:
          'Log records with GenAI event names (gen_ai.user.message, gen_ai.choice, …) fill the run of their ' +
          'trace with the prompt and completion, in either order with the spans; other records naming a known ' +
          'trace become log events. Answers 200 with an ExportLogsServiceResponse in the request encoding; ' +
          'partial_success counts the records not stored.',
      },
    },
    async (req, reply) => {
      const { encoding, body } = await readOtlpRequest(req, deps.config.bodyLimitBytes);
      const decoded = encoding === 'protobuf' ? decodeProtobufLogs(body) : decodeJsonLogs(body);
      const result = await ingestLogs(deps, callerOf(req), decoded, deps.clock());
      if (result.rejected > 0) req.log.info({ otlp_logs_rejected: result.rejected }, 'OTLP log records not stored');
      return sendLogsResponse(reply, encoding, result);
    },
  );
}

function sendLogsResponse(reply: FastifyReply, encoding: OtlpEncoding, result: OtlpLogsResult) {
  const more = result.reasons.length > 5 ? `; and ${result.reasons.length - 5} more` : '';
  const partial =
    result.rejected > 0
      ? {
          rejectedLogRecords: result.rejected,
          errorMessage:
            `${result.rejected} of ${result.records} log records were not stored: ${result.reasons.slice(0, 5).join('; ')}${more}`.slice(
              0,
              2000,
            ),
        }
      : undefined;
  reply.status(200);
  if (encoding === 'protobuf') {
    return reply.type('application/x-protobuf').send(Buffer.from(encodeProtobufLogsResponse(partial)));
  }
  return reply.type('application/json').send(jsonLogsResponse(partial));
}
