/**
 * @module otlp-logs-decode
 * Decodes OTLP/HTTP log exports — protobuf (the vendored `collector/logs/v1/logs_service.proto`, see
 * proto/README.md) and OTLP JSON — into one flat record form, the way otlp-decode.ts does for spans: protobuf
 * is first turned into the OTLP JSON object shape, then both go through the same normalizer, built on the
 * readers the trace decoder uses (otlp-json.ts: resource/scope walk, `attributesOf`/`anyValueOf` with a
 * counting `Budget`, ids, times); the wire scan shares the KeyValue/AnyValue walker of otlp-bounds.ts.
 *
 * Bounded like traces (security finding 3): a protobuf export is scanned on the wire before protobufjs builds
 * anything (`checkProtobufLogBounds`: log records, attributes per list, value depth and count), a JSON one is
 * counted while it is normalized, and an export past a cap is refused whole with 413 naming the cap. gzip is
 * undone by `inflateOtlpBody` (capped at the body limit) before either.
 *
 * @example
 * const { records, rejected } = decodeProtobufLogs(await inflateOtlpBody(raw, encoding, bodyLimit));
 */
import protobuf from 'protobufjs';
import {
  type Budget,
  createAttributeScanner,
  eachMessageField,
  newBudget,
  OTLP_LIMITS,
  type OtlpLimits,
  scanRequest,
  tooLarge,
} from './otlp-bounds.ts';
import { loadOtlpProto, protobufToOtlpObject } from './otlp-decode.ts';
import {
  anyValueOf,
  attributesOf,
  eachOtlpItem,
  field,
  idOf,
  isObject,
  nanosToMs,
  type OtlpShape,
  parseOtlpJsonObject,
  present,
  str,
} from './otlp-json.ts';

/** What one log export may carry: the traces caps, plus log records per request. */
export interface OtlpLogLimits extends Pick<OtlpLimits, 'maxAttributes' | 'maxValueDepth' | 'maxValues'> {
  /** Log records per request (SDK batches are 512; the Collector's default batch is 8192). */
  maxLogRecords: number;
}

export const OTLP_LOG_LIMITS: OtlpLogLimits = {
  maxLogRecords: 20_000,
  maxAttributes: OTLP_LIMITS.maxAttributes,
  maxValueDepth: OTLP_LIMITS.maxValueDepth,
  maxValues: OTLP_LIMITS.maxValues,
};

/** The 413 for too many records, worded like the other caps. */
export const refuseRecords = (l: OtlpLogLimits) =>
  tooLarge(`a request may carry at most ${l.maxLogRecords} log records`, 'resourceLogs');

/**
 * One log record, normalized from either encoding. Ids are lowercase hex (absent when the record names no
 * trace/span); `timeMs` is the record's time, else its observed time, else undefined; `timeNanos` is the raw
 * decimal (for stable ids); body and attribute values are plain JS.
 */
export interface OtlpLogRecord {
  traceId?: string;
  spanId?: string;
  timeMs?: number;
  timeNanos: string;
  severityNumber: number;
  severityText?: string;
  /** `event_name` (OTLP 1.5+), else the `event.name` attribute (older SDKs), else ''. */
  eventName: string;
  body: unknown;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  scope: { name: string; version?: string };
}

export interface DecodedLogs {
  records: OtlpLogRecord[];
  /** Records that could not be read (a malformed id), by position. */
  rejected: { where: string; reason: string }[];
}

// ---------------------------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------------------------

const LOGS_SERVICE = 'opentelemetry/proto/collector/logs/v1/logs_service.proto';
const NS = 'opentelemetry.proto.collector.logs.v1';

let logTypes: { request: protobuf.Type; response: protobuf.Type } | undefined;

/** Loads the vendored .proto files once (lazily, so importing this module costs nothing). */
function types() {
  if (logTypes) return logTypes;
  const root = loadOtlpProto(LOGS_SERVICE);
  logTypes = {
    request: root.lookupType(`${NS}.ExportLogsServiceRequest`),
    response: root.lookupType(`${NS}.ExportLogsServiceResponse`),
  };
  return logTypes;
}

/**
 * Decodes a binary ExportLogsServiceRequest after the wire scan checked it against `limits`.
 * @throws AppError('validation_failed') for bytes that are not the message; AppError('payload_too_large').
 */
export function decodeProtobufLogs(body: Uint8Array, limits: OtlpLogLimits = OTLP_LOG_LIMITS): DecodedLogs {
  const { request } = types();
  checkProtobufLogBounds(body, limits);
  // fixed64 times as decimal strings, bytes (ids) as base64, enums as numbers: the OTLP JSON object shape.
  return normalizeLogs(protobufToOtlpObject(request, body), budgetFor(limits));
}

/** Encodes an ExportLogsServiceResponse: empty on full success, with partial_success otherwise. */
export function encodeProtobufLogsResponse(partial?: { rejectedLogRecords: number; errorMessage: string }) {
  const { response } = types();
  return response.encode(response.fromObject(partial ? { partialSuccess: partial } : {})).finish();
}

// ---------------------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------------------

/**
 * Decodes an OTLP JSON ExportLogsServiceRequest (counted while normalizing).
 * @throws AppError('validation_failed') when it is not JSON or not an object; AppError('payload_too_large').
 */
export function decodeJsonLogs(body: Buffer | string, limits: OtlpLogLimits = OTLP_LOG_LIMITS): DecodedLogs {
  return normalizeLogs(parseOtlpJsonObject(body, 'logs export', 'resourceLogs'), budgetFor(limits));
}

/** The OTLP JSON response (proto3 JSON: int64 as a decimal string). */
export function jsonLogsResponse(partial?: { rejectedLogRecords: number; errorMessage: string }) {
  return partial
    ? {
        partialSuccess: {
          rejectedLogRecords: String(partial.rejectedLogRecords),
          errorMessage: partial.errorMessage,
        },
      }
    : {};
}

// ---------------------------------------------------------------------------------------------------------
// The normalizer (OTLP JSON object shape → OtlpLogRecord[])
// ---------------------------------------------------------------------------------------------------------

interface LogBudget extends Budget {
  record(): void;
}

/** The traces budget for values and attributes (spans and span events do not occur here), plus records. */
function budgetFor(limits: OtlpLogLimits): LogBudget {
  const values = newBudget({ ...OTLP_LIMITS, ...limits });
  let records = 0;
  return {
    ...values,
    record() {
      if (++records > limits.maxLogRecords) throw refuseRecords(limits);
    },
  };
}

const LOGS: OtlpShape = {
  resources: 'resourceLogs',
  scopes: 'scopeLogs',
  legacyScopes: 'instrumentationLibraryLogs',
  items: 'logRecords',
};

function normalizeLogs(exp: Record<string, unknown>, budget: LogBudget): DecodedLogs {
  const records: OtlpLogRecord[] = [];
  const rejected: DecodedLogs['rejected'] = [];
  eachOtlpItem(exp, LOGS, budget, (raw, resource, scope, ri, si, li) => {
    budget.record();
    const result = normalizeRecord(raw, resource, scope, budget);
    if (typeof result === 'string')
      rejected.push({ where: `resourceLogs[${ri}].scopeLogs[${si}].logRecords[${li}]`, reason: result });
    else records.push(result);
  });
  return { records, rejected };
}

function normalizeRecord(
  raw: unknown,
  resource: Record<string, unknown>,
  scope: OtlpLogRecord['scope'],
  budget: LogBudget,
): OtlpLogRecord | string {
  if (!isObject(raw)) return 'a log record must be an object';
  // Ids are optional on a log record; one that is present must be well-formed.
  const traceRaw = field(raw, 'traceId');
  const traceId = idOf(traceRaw, 16);
  if (present(traceRaw) && traceId === undefined) return 'traceId is not 16 bytes';
  const spanRaw = field(raw, 'spanId');
  const spanId = idOf(spanRaw, 8);
  if (present(spanRaw) && spanId === undefined) return 'spanId is not 8 bytes';
  const time = field(raw, 'timeUnixNano');
  const observed = field(raw, 'observedTimeUnixNano');
  const timeMs = nanosToMs(time) ?? nanosToMs(observed);
  const attributes = attributesOf(field(raw, 'attributes'), budget, 'log record');
  const bodyRaw = field(raw, 'body');
  const severityText = str(field(raw, 'severityText'));
  const severity = Number(field(raw, 'severityNumber') ?? 0);
  return {
    ...(traceId ? { traceId } : {}),
    ...(spanId ? { spanId } : {}),
    ...(timeMs !== undefined ? { timeMs } : {}),
    timeNanos: str(nanosToMs(time) !== undefined ? time : observed),
    severityNumber: Number.isInteger(severity) && severity >= 0 && severity <= 24 ? severity : 0,
    ...(severityText ? { severityText } : {}),
    eventName: str(field(raw, 'eventName')) || str(attributes['event.name']),
    body: isObject(bodyRaw) ? anyValueOf(bodyRaw, budget) : undefined,
    attributes,
    resource,
    scope,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The protobuf wire scan (field numbers of the vendored logs.proto; attributes and values: otlp-bounds.ts)
// ---------------------------------------------------------------------------------------------------------

/**
 * Checks a binary ExportLogsServiceRequest against `limits` without decoding it: linear in its size, no
 * allocation, recursion bounded by the depth cap.
 * @throws AppError('payload_too_large') naming the first cap passed; AppError('validation_failed').
 */
export function checkProtobufLogBounds(body: Uint8Array, limits: OtlpLogLimits = OTLP_LOG_LIMITS): void {
  const budget = budgetFor(limits);
  const r = protobuf.Reader.create(body);
  const { keyValues, attribute, anyValue } = createAttributeScanner(r, limits, budget);
  const resource = keyValues('resource', 1, 0);
  const scope = keyValues('scope', 3, 0);
  // LogRecord: body = 5 (AnyValue), attributes = 6 (KeyValue).
  const record = (end: number) => {
    budget.record();
    let attributes = 0;
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 5) anyValue(fieldEnd, 0);
      else if (field === 6) attribute(++attributes, 'log record', fieldEnd);
    });
  };
  // ScopeLogs (2) and the deprecated InstrumentationLibraryLogs (1000) share this layout.
  const scopeLogs = (end: number) =>
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 1) scope(fieldEnd);
      else if (field === 2) record(fieldEnd);
    });
  const resourceLogs = (end: number) =>
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 1) resource(fieldEnd);
      else if (field === 2 || field === 1000) scopeLogs(fieldEnd);
    });
  scanRequest('ExportLogsServiceRequest', () =>
    eachMessageField(r, body.length, (field, end) => field === 1 && resourceLogs(end)),
  );
}
