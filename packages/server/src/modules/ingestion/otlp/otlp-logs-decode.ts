/**
 * @module otlp-logs-decode
 * Decodes OTLP/HTTP log exports — protobuf (the vendored `collector/logs/v1/logs_service.proto`, see
 * proto/README.md) and OTLP JSON — into one flat record form, the way otlp-decode.ts does for spans: protobuf
 * is first turned into the OTLP JSON object shape, then both go through the same normalizer, and attribute
 * values through the same `attributesOf`/`anyValueOf` with a counting `Budget`.
 *
 * Bounded like traces (security finding 3): a protobuf export is scanned on the wire before protobufjs builds
 * anything (`checkProtobufLogBounds`: log records, attributes per list, value depth and count), a JSON one is
 * counted while it is normalized, and an export past a cap is refused whole with 413 naming the cap. gzip is
 * undone by `inflateOtlpBody` (capped at the body limit) before either.
 *
 * @example
 * const { records, rejected } = decodeProtobufLogs(await inflateOtlpBody(raw, encoding, bodyLimit));
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { AppError } from '../../../platform/errors.ts';
import { type Budget, newBudget, OTLP_LIMITS, type OtlpLimits, refuse } from './otlp-bounds.ts';
import { anyValueOf, attributesOf } from './otlp-decode.ts';

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
  new AppError(
    'payload_too_large',
    `This export is larger than the hub accepts: a request may carry at most ${l.maxLogRecords} log records.`,
    {
      errors: [{ path: 'resourceLogs', message: `a request may carry at most ${l.maxLogRecords} log records` }],
    },
  );

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

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
const LOGS_SERVICE = 'opentelemetry/proto/collector/logs/v1/logs_service.proto';
const NS = 'opentelemetry.proto.collector.logs.v1';

let logTypes: { request: protobuf.Type; response: protobuf.Type } | undefined;

/** Loads the vendored .proto files once (lazily, so importing this module costs nothing). */
function types() {
  if (logTypes) return logTypes;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith(PROTO_DIR) ? target : PROTO_DIR + target);
  root.loadSync(LOGS_SERVICE, { keepCase: false });
  root.resolveAll();
  logTypes = {
    request: root.lookupType(`${NS}.ExportLogsServiceRequest`),
    response: root.lookupType(`${NS}.ExportLogsServiceResponse`),
  };
  return logTypes;
}

const notARequest = (why: string) =>
  new AppError('validation_failed', `The body is not a valid OTLP protobuf ExportLogsServiceRequest: ${why}`, {
    errors: [{ path: '(body)', message: 'not a valid ExportLogsServiceRequest' }],
  });

/**
 * Decodes a binary ExportLogsServiceRequest after the wire scan checked it against `limits`.
 * @throws AppError('validation_failed') for bytes that are not the message; AppError('payload_too_large').
 */
export function decodeProtobufLogs(body: Uint8Array, limits: OtlpLogLimits = OTLP_LOG_LIMITS): DecodedLogs {
  const { request } = types();
  checkProtobufLogBounds(body, limits);
  let message: protobuf.Message;
  try {
    message = request.decode(body);
  } catch (err) {
    throw notARequest((err as Error).message);
  }
  // fixed64 times as decimal strings, bytes (ids) as base64, enums as numbers: the OTLP JSON object shape.
  const obj = request.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false, arrays: true });
  return normalizeLogs(obj, budgetFor(limits));
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
  let value: unknown;
  try {
    value = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : body);
  } catch (err) {
    throw new AppError('validation_failed', `The body is not valid JSON: ${(err as Error).message}`, {
      errors: [{ path: '(body)', message: 'not valid JSON' }],
    });
  }
  if (!isObject(value)) {
    throw new AppError('validation_failed', 'An OTLP JSON logs export is an object with "resourceLogs".', {
      errors: [{ path: '(root)', message: 'expected an object' }],
    });
  }
  return normalizeLogs(value, budgetFor(limits));
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

function normalizeLogs(exp: Record<string, unknown>, budget: LogBudget): DecodedLogs {
  const records: OtlpLogRecord[] = [];
  const rejected: DecodedLogs['rejected'] = [];
  asArray(field(exp, 'resourceLogs')).forEach((rl, ri) => {
    if (!isObject(rl)) return;
    const resourceObj = field(rl, 'resource');
    const resource = isObject(resourceObj) ? attributesOf(field(resourceObj, 'attributes'), budget, 'resource') : {};
    const scopeList = [...asArray(field(rl, 'scopeLogs')), ...asArray(field(rl, 'instrumentationLibraryLogs'))];
    scopeList.forEach((sl, si) => {
      if (!isObject(sl)) return;
      const scopeObj = field(sl, 'scope') ?? field(sl, 'instrumentationLibrary');
      const version = isObject(scopeObj) ? str(field(scopeObj, 'version')) : '';
      const scope = { name: isObject(scopeObj) ? str(field(scopeObj, 'name')) : '', ...(version ? { version } : {}) };
      asArray(field(sl, 'logRecords')).forEach((raw, li) => {
        budget.record();
        const result = normalizeRecord(raw, resource, scope, budget);
        if (typeof result === 'string')
          rejected.push({ where: `resourceLogs[${ri}].scopeLogs[${si}].logRecords[${li}]`, reason: result });
        else records.push(result);
      });
    });
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
// The protobuf wire scan (field numbers of the vendored logs.proto, common.proto, resource.proto)
// ---------------------------------------------------------------------------------------------------------

const LEN = 2; // wire type of length-delimited fields

/** Calls `visit(field, end)` for each length-delimited field of the message in [reader.pos, end). */
function eachMessageField(r: protobuf.Reader, end: number, visit: (field: number, end: number) => void) {
  while (r.pos < end) {
    const tag = r.uint32();
    if ((tag & 7) !== LEN) {
      r.skipType(tag & 7);
      continue;
    }
    const len = r.uint32();
    const fieldEnd = r.pos + len;
    if (fieldEnd > end) throw new RangeError('a length runs past its message');
    visit(tag >>> 3, fieldEnd);
    r.pos = fieldEnd;
  }
}

/**
 * Checks a binary ExportLogsServiceRequest against `limits` without decoding it: linear in its size, no
 * allocation, recursion bounded by the depth cap.
 * @throws AppError('payload_too_large') naming the first cap passed; AppError('validation_failed').
 */
export function checkProtobufLogBounds(body: Uint8Array, limits: OtlpLogLimits = OTLP_LOG_LIMITS): void {
  const budget = budgetFor(limits);
  const all = { ...OTLP_LIMITS, ...limits };
  const r = protobuf.Reader.create(body);
  const keyValues = (where: string, attributeField: number, depth: number) => (end: number) => {
    let count = 0;
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field !== attributeField) return;
      if (++count > limits.maxAttributes) throw refuse.attributes(all, where);
      keyValue(fieldEnd, depth);
    });
  };
  const keyValue = (end: number, depth: number) =>
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 2) anyValue(fieldEnd, depth);
    });
  const anyValue = (end: number, depth: number) => {
    budget.value(depth);
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 5) eachMessageField(r, fieldEnd, (f, e) => f === 1 && anyValue(e, depth + 1));
      else if (field === 6) keyValues('kvlist', 1, depth + 1)(fieldEnd);
    });
  };
  const resource = keyValues('resource', 1, 0);
  const scope = keyValues('scope', 3, 0);
  // LogRecord: body = 5 (AnyValue), attributes = 6 (KeyValue).
  const record = (end: number) => {
    budget.record();
    let attributes = 0;
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 5) anyValue(fieldEnd, 0);
      else if (field === 6) {
        if (++attributes > limits.maxAttributes) throw refuse.attributes(all, 'log record');
        keyValue(fieldEnd, 0);
      }
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
  try {
    eachMessageField(r, body.length, (field, end) => field === 1 && resourceLogs(end));
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw notARequest((err as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Small readers (the same tolerance as otlp-decode.ts: snake_case or camelCase keys, hex or base64 ids)
// ---------------------------------------------------------------------------------------------------------

function field(obj: Record<string, unknown>, camel: string): unknown {
  if (camel in obj) return obj[camel];
  return obj[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/** A trace/span id as lowercase hex of `bytes` bytes; undefined when absent, malformed or all zero. */
function idOf(value: unknown, bytes: number): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  let hex: string | undefined;
  if (value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) hex = value.toLowerCase();
  else if (/^[A-Za-z0-9+/_-]+=*$/.test(value)) {
    const buf = Buffer.from(value, 'base64');
    if (buf.length === bytes) hex = buf.toString('hex');
  }
  return hex && !/^0+$/.test(hex) ? hex : undefined;
}

/** Decimal nanoseconds (string or number) → epoch ms with microsecond precision; 0/absent → undefined. */
function nanosToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value / 1e6 : undefined;
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) return undefined;
  const micros = BigInt(value) / 1000n;
  return micros > 0n ? Number(micros) / 1000 : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}
