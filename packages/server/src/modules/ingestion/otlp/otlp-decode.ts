/**
 * @module otlp-decode
 * Decodes OTLP/HTTP trace exports — protobuf (`application/x-protobuf`, with protobufjs and the official
 * opentelemetry-proto definitions vendored in `./proto`) and OTLP JSON (`application/json`) — optionally
 * gzip-compressed, into one flat span form that the GenAI mapper reads. Both encodings go through the same
 * normalizer: protobuf is first turned into the OTLP JSON object shape (camelCase keys, int64 as strings),
 * only the id encoding differs (base64 from protobuf, hex in OTLP JSON).
 *
 * Input is hostile by default: every field is type-checked, a span that cannot be read (bad ids, no
 * timestamps) is reported as rejected rather than failing the whole export, and an export past a cap of
 * `OTLP_LIMITS` (spans, events, attributes, value depth and count: see otlp-bounds.ts) or an inflated size
 * past the body limit is refused whole with 413, before anything is stored.
 *
 * @example
 * const body = await inflateOtlpBody(rawBuffer, req.headers['content-encoding'], config.bodyLimitBytes);
 * const { spans, rejected } = decodeProtobufTraces(body);
 */
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import protobuf from 'protobufjs';
import { AppError } from '../../../platform/errors.ts';
import { type Budget, checkProtobufBounds, newBudget, OTLP_LIMITS, type OtlpLimits } from './otlp-bounds.ts';

/** OTLP span kinds (opentelemetry.proto.trace.v1.Span.SpanKind). */
export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
/** OTLP status codes (opentelemetry.proto.trace.v1.Status.StatusCode). */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/** A span event (`exception`, `gen_ai.content.prompt`, …). */
export interface OtlpSpanEvent {
  name: string;
  timeMs: number;
  attributes: Record<string, unknown>;
}

/**
 * One span, normalized from either encoding. Ids are lowercase hex; times are epoch milliseconds (with
 * microsecond fractions); attribute values are plain JS (int64 → number when safe, else its decimal string;
 * bytes → base64 string; arrays and kvlists → arrays and objects).
 */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: OtlpSpanEvent[];
  resource: Record<string, unknown>;
  scope: { name: string; version?: string };
}

/** A span that could not be read, by its position in the export (resource, scope, span index). */
export interface RejectedSpan {
  where: string;
  reason: string;
}

export interface DecodedTraces {
  spans: OtlpSpan[];
  rejected: RejectedSpan[];
}

export type OtlpEncoding = 'protobuf' | 'json';

// ---------------------------------------------------------------------------------------------------------
// Transport: content types and gzip
// ---------------------------------------------------------------------------------------------------------

/** Which OTLP encoding a Content-Type names, or `undefined` for one this receiver does not speak. */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

const gunzipAsync = promisify(gunzip);

/**
 * Undoes `Content-Encoding: gzip` (the only compression OTLP/HTTP defines). The inflated size is capped
 * at `maxBytes`: zlib stops as soon as its output passes it (`maxOutputLength`), so a small gzip bomb
 * costs at most `maxBytes` of memory and a few milliseconds: 413 beyond it.
 */
export async function inflateOtlpBody(body: Buffer, contentEncoding: unknown, maxBytes: number): Promise<Buffer> {
  const encoding = String(contentEncoding ?? '')
    .trim()
    .toLowerCase();
  if (!encoding || encoding === 'identity') return body;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new AppError('validation_failed', `Unsupported Content-Encoding "${encoding}": send gzip or nothing.`, {
      errors: [{ path: '(content-encoding)', message: 'only gzip is supported' }],
    });
  }
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      const rule = `a body may inflate to at most ${maxBytes} bytes`;
      throw new AppError('payload_too_large', `The decompressed body is larger than this hub accepts: ${rule}.`, {
        errors: [{ path: '(body)', message: rule }],
      });
    }
    throw new AppError('validation_failed', 'The body is not valid gzip.', {
      errors: [{ path: '(body)', message: 'not valid gzip' }],
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------------------------

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
const TRACE_SERVICE = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

interface ProtoTypes {
  request: protobuf.Type;
  response: protobuf.Type;
}
let protoTypes: ProtoTypes | undefined;

/** Loads the vendored .proto files once (lazily, so importing this module costs nothing). */
function types(): ProtoTypes {
  if (protoTypes) return protoTypes;
  const root = new protobuf.Root();
  // Imports in the official files are relative to the proto root ("opentelemetry/proto/common/v1/…").
  root.resolvePath = (_origin, target) => (target.startsWith(PROTO_DIR) ? target : PROTO_DIR + target);
  root.loadSync(TRACE_SERVICE, { keepCase: false });
  root.resolveAll();
  const ns = 'opentelemetry.proto.collector.trace.v1';
  const response = root.lookupType(`${ns}.ExportTraceServiceResponse`);
  // OTLP 0.19 added partial_success; the vendored files predate it (see proto/README.md). Same field numbers.
  if (!response.fields.partialSuccess) {
    const partial = new protobuf.Type('ExportTracePartialSuccess')
      .add(new protobuf.Field('rejectedSpans', 1, 'int64'))
      .add(new protobuf.Field('errorMessage', 2, 'string'));
    (root.lookup(ns) as protobuf.Namespace).add(partial);
    response.add(new protobuf.Field('partialSuccess', 1, 'ExportTracePartialSuccess'));
    root.resolveAll();
  }
  protoTypes = { request: root.lookupType(`${ns}.ExportTraceServiceRequest`), response };
  return protoTypes;
}

/**
 * Decodes a binary ExportTraceServiceRequest, after a wire scan has checked its counts against `limits`
 * (so protobufjs never builds an export that would be refused).
 * @throws AppError('validation_failed') when the bytes are not a valid message; AppError('payload_too_large').
 */
export function decodeProtobufTraces(body: Uint8Array, limits: OtlpLimits = OTLP_LIMITS): DecodedTraces {
  const { request } = types();
  checkProtobufBounds(body, limits);
  let message: protobuf.Message;
  try {
    message = request.decode(body);
  } catch (err) {
    throw new AppError(
      'validation_failed',
      `The body is not a valid OTLP protobuf ExportTraceServiceRequest: ${(err as Error).message}`,
      {
        errors: [{ path: '(body)', message: 'not a valid ExportTraceServiceRequest' }],
      },
    );
  }
  // The OTLP JSON object shape: camelCase keys, int64 as decimal strings, bytes as base64, enums as numbers.
  const obj = request.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false, arrays: true });
  return normalizeExport(obj, 'base64', newBudget(limits));
}

/** Encodes an ExportTraceServiceResponse (empty on full success, with partial_success otherwise). */
export function encodeProtobufResponse(partial?: { rejectedSpans: number; errorMessage: string }): Uint8Array {
  const { response } = types();
  const payload = partial
    ? { partialSuccess: { rejectedSpans: partial.rejectedSpans, errorMessage: partial.errorMessage } }
    : {};
  return response.encode(response.fromObject(payload)).finish();
}

// ---------------------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------------------

/**
 * Decodes an OTLP JSON ExportTraceServiceRequest (a Buffer/string to parse, or an already parsed value).
 * `JSON.parse` is iterative in V8 (no stack limit) and bounded by the inflated size; the counts are
 * checked while normalizing.
 * @throws AppError('validation_failed') when it is not JSON or not an object; AppError('payload_too_large').
 */
export function decodeJsonTraces(body: Buffer | string | unknown, limits: OtlpLimits = OTLP_LIMITS): DecodedTraces {
  let value: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      value = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : body);
    } catch (err) {
      throw new AppError('validation_failed', `The body is not valid JSON: ${(err as Error).message}`, {
        errors: [{ path: '(body)', message: 'not valid JSON' }],
      });
    }
  }
  if (!isObject(value)) {
    throw new AppError('validation_failed', 'An OTLP JSON export is an object with "resourceSpans".', {
      errors: [{ path: '(root)', message: 'expected an object' }],
    });
  }
  return normalizeExport(value, 'hex', newBudget(limits));
}

/** The OTLP JSON response: `{}` on full success, `{partialSuccess: {rejectedSpans, errorMessage}}` otherwise. */
export function jsonResponse(partial?: { rejectedSpans: number; errorMessage: string }) {
  // proto3 JSON mapping: int64 is a decimal string.
  return partial
    ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } }
    : {};
}

// ---------------------------------------------------------------------------------------------------------
// The shared normalizer (OTLP JSON object shape → OtlpSpan[])
// ---------------------------------------------------------------------------------------------------------

type IdEncoding = 'hex' | 'base64';

/** Accepts both snake_case and camelCase keys (some senders use the proto field names in JSON). */
function field(obj: Record<string, unknown>, camel: string): unknown {
  if (camel in obj) return obj[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return obj[snake];
}

function normalizeExport(exp: Record<string, unknown>, ids: IdEncoding, budget: Budget): DecodedTraces {
  const spans: OtlpSpan[] = [];
  const rejected: RejectedSpan[] = [];
  const resourceSpans = asArray(field(exp, 'resourceSpans'));
  resourceSpans.forEach((rs, ri) => {
    if (!isObject(rs)) return;
    const resourceObj = field(rs, 'resource');
    const resource = isObject(resourceObj) ? attributesOf(field(resourceObj, 'attributes'), budget, 'resource') : {};
    // scopeSpans since OTLP 0.15; instrumentationLibrarySpans before (still sent by very old SDKs).
    const scopeList = [...asArray(field(rs, 'scopeSpans')), ...asArray(field(rs, 'instrumentationLibrarySpans'))];
    scopeList.forEach((ss, si) => {
      if (!isObject(ss)) return;
      const scopeObj = field(ss, 'scope') ?? field(ss, 'instrumentationLibrary');
      const scope = {
        name: isObject(scopeObj) ? str(field(scopeObj, 'name')) : '',
        ...(isObject(scopeObj) && str(field(scopeObj, 'version')) ? { version: str(field(scopeObj, 'version')) } : {}),
      };
      asArray(field(ss, 'spans')).forEach((raw, pi) => {
        const where = `resourceSpans[${ri}].scopeSpans[${si}].spans[${pi}]`;
        budget.span();
        const result = normalizeSpan(raw, ids, resource, scope, budget);
        if (typeof result === 'string') rejected.push({ where, reason: result });
        else spans.push(result);
      });
    });
  });
  return { spans, rejected };
}

/** The span, or the reason it cannot be read. */
function normalizeSpan(
  raw: unknown,
  ids: IdEncoding,
  resource: Record<string, unknown>,
  scope: OtlpSpan['scope'],
  budget: Budget,
): OtlpSpan | string {
  if (!isObject(raw)) return 'a span must be an object';
  const traceId = idOf(field(raw, 'traceId'), 16, ids);
  if (!traceId) return 'traceId is missing or not 16 bytes';
  const spanId = idOf(field(raw, 'spanId'), 8, ids);
  if (!spanId) return 'spanId is missing or not 8 bytes';
  const parentRaw = field(raw, 'parentSpanId');
  let parentSpanId: string | undefined;
  if (parentRaw !== undefined && parentRaw !== null && parentRaw !== '') {
    parentSpanId = idOf(parentRaw, 8, ids);
    if (!parentSpanId) return 'parentSpanId is not 8 bytes';
  }
  let startMs = nanosToMs(field(raw, 'startTimeUnixNano'));
  let endMs = nanosToMs(field(raw, 'endTimeUnixNano'));
  if (startMs === undefined && endMs === undefined) return 'the span has no start or end time';
  startMs ??= endMs!;
  endMs ??= startMs;
  if (endMs < startMs) endMs = startMs;
  const statusObj = field(raw, 'status');
  const status: OtlpSpan['status'] = { code: StatusCode.UNSET };
  if (isObject(statusObj)) {
    status.code = statusCodeOf(field(statusObj, 'code'));
    const message = str(field(statusObj, 'message'));
    if (message) status.message = message;
  }
  const events: OtlpSpanEvent[] = [];
  for (const ev of asArray(field(raw, 'events'))) {
    if (!isObject(ev)) continue;
    budget.event();
    events.push({
      name: str(field(ev, 'name')),
      timeMs: nanosToMs(field(ev, 'timeUnixNano')) ?? startMs,
      attributes: attributesOf(field(ev, 'attributes'), budget, 'span event'),
    });
  }
  return {
    traceId,
    spanId,
    ...(parentSpanId && !/^0+$/.test(parentSpanId) ? { parentSpanId } : {}),
    name: str(field(raw, 'name')),
    kind: spanKindOf(field(raw, 'kind')),
    startMs,
    endMs,
    attributes: attributesOf(field(raw, 'attributes'), budget, 'span'),
    status,
    events,
    resource,
    scope,
  };
}

/** A trace/span id as lowercase hex of exactly `bytes` bytes (all-zero ids are invalid per the spec). */
function idOf(value: unknown, bytes: number, encoding: IdEncoding): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const hexLen = bytes * 2;
  let hex: string | undefined;
  // OTLP JSON says hex; tolerate base64 from senders that emit the protobuf JSON mapping, and vice versa.
  if (value.length === hexLen && /^[0-9a-fA-F]+$/.test(value)) hex = value.toLowerCase();
  else if (encoding === 'base64' || /^[A-Za-z0-9+/_-]+=*$/.test(value)) {
    const buf = Buffer.from(value, 'base64');
    if (buf.length === bytes) hex = buf.toString('hex');
  }
  if (!hex || /^0+$/.test(hex)) return undefined;
  return hex;
}

/** int64 nanoseconds (decimal string, number, or a protobufjs Long) → epoch ms, microsecond precision. */
function nanosToMs(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return undefined;
  try {
    if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value / 1e6 : undefined;
    const s = typeof value === 'string' ? value : String(value);
    if (!/^\d{1,20}$/.test(s)) return undefined;
    const micros = BigInt(s) / 1000n;
    return micros > 0n ? Number(micros) / 1000 : undefined;
  } catch {
    return undefined;
  }
}

const SPAN_KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODE_NAMES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function spanKindOf(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 5) return value;
  if (typeof value === 'string') return SPAN_KIND_NAMES[value] ?? (/^[0-5]$/.test(value) ? Number(value) : 0);
  return 0;
}

function statusCodeOf(value: unknown): number {
  if (typeof value === 'number' && (value === 0 || value === 1 || value === 2)) return value;
  if (typeof value === 'string') return STATUS_CODE_NAMES[value] ?? (/^[0-2]$/.test(value) ? Number(value) : 0);
  return 0;
}

/**
 * `[{key, value: AnyValue}]` → a plain record (later duplicates win, as in the SDKs), counted against
 * `budget` (`where` names the owner in the 413: span, span event, resource, kvlist).
 */
export function attributesOf(list: unknown, budget: Budget, where: string, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const items = asArray(list);
  budget.attributes(items.length, where);
  for (const kv of items) {
    if (!isObject(kv)) continue;
    const key = field(kv, 'key');
    if (typeof key !== 'string' || !key || key === '__proto__') continue;
    out[key] = anyValueOf(field(kv, 'value'), budget, depth);
  }
  return out;
}

/** One OTLP AnyValue → plain JS. Depth is checked before recursing, so a hostile payload cannot recurse us. */
export function anyValueOf(value: unknown, budget: Budget, depth = 0): unknown {
  if (!isObject(value)) return undefined;
  budget.value(depth);
  if ('stringValue' in value || 'string_value' in value) return str(field(value, 'stringValue'));
  if ('boolValue' in value || 'bool_value' in value) return field(value, 'boolValue') === true;
  if ('intValue' in value || 'int_value' in value) return intOf(field(value, 'intValue'));
  if ('doubleValue' in value || 'double_value' in value) {
    const d = field(value, 'doubleValue');
    if (typeof d === 'number') return d;
    // proto3 JSON writes NaN/Infinity as strings; they are not useful attribute values here.
    const n = Number(d);
    return Number.isFinite(n) ? n : String(d);
  }
  if ('arrayValue' in value || 'array_value' in value) {
    const arr = field(value, 'arrayValue');
    return isObject(arr) ? asArray(field(arr, 'values')).map((v) => anyValueOf(v, budget, depth + 1)) : [];
  }
  if ('kvlistValue' in value || 'kvlist_value' in value) {
    const kv = field(value, 'kvlistValue');
    return isObject(kv) ? attributesOf(field(kv, 'values'), budget, 'kvlist', depth + 1) : {};
  }
  if ('bytesValue' in value || 'bytes_value' in value) return str(field(value, 'bytesValue'));
  return undefined;
}

/** int64 from JSON (string or number) or protobuf (string after toObject): a number when it is safe. */
function intOf(value: unknown): number | string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (value !== null && typeof value === 'object') return intOf(String(value));
  return undefined;
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
