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
import type { IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import protobuf from 'protobufjs';
import { AppError } from '../../../platform/errors.ts';
import {
  type Budget,
  checkProtobufBounds,
  newBudget,
  notAProtobufRequest,
  OTLP_LIMITS,
  type OtlpLimits,
} from './otlp-bounds.ts';
import {
  asArray,
  attributesOf,
  eachOtlpItem,
  field,
  type IdEncoding,
  idOf,
  isObject,
  nanosToMs,
  type OtlpShape,
  parseOtlpJsonObject,
  present,
  str,
} from './otlp-json.ts';

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

/**
 * The encoding and the inflated bytes of one OTLP/HTTP request whose body was parsed raw (a Buffer), for
 * `/v1/traces` and `/v1/logs` alike.
 * @throws AppError('validation_failed') for a content type that is neither protobuf nor JSON, or bad gzip;
 * AppError('payload_too_large') past `maxBytes` inflated.
 */
export async function readOtlpRequest(
  req: { headers: IncomingHttpHeaders; body: unknown },
  maxBytes: number,
): Promise<{ encoding: OtlpEncoding; body: Buffer }> {
  const encoding = otlpEncodingOf(req.headers['content-type']);
  if (!encoding) {
    throw new AppError('validation_failed', 'Send application/x-protobuf or application/json.', {
      errors: [{ path: '(content-type)', message: 'unsupported media type' }],
    });
  }
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  // Compression saves bandwidth, not limits: inflated, a body may be as large as an uncompressed one.
  return { encoding, body: await inflateOtlpBody(raw, req.headers['content-encoding'], maxBytes) };
}

// ---------------------------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------------------------

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
const TRACE_SERVICE = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

/** A protobufjs root with the vendored `file` (a path below ./proto) and its imports loaded and resolved. */
export function loadOtlpProto(file: string): protobuf.Root {
  const root = new protobuf.Root();
  // Imports in the official files are relative to the proto root ("opentelemetry/proto/common/v1/…").
  root.resolvePath = (_origin, target) => (target.startsWith(PROTO_DIR) ? target : PROTO_DIR + target);
  root.loadSync(file, { keepCase: false });
  root.resolveAll();
  return root;
}

/**
 * Decodes `body` as the request message `type` (already checked on the wire) into the OTLP JSON object shape:
 * camelCase keys, int64 as decimal strings, bytes as base64, enums as numbers.
 * @throws AppError('validation_failed') (`notAProtobufRequest`) when the bytes are not that message.
 */
export function protobufToOtlpObject(type: protobuf.Type, body: Uint8Array): Record<string, unknown> {
  let message: protobuf.Message;
  try {
    message = type.decode(body);
  } catch (err) {
    throw notAProtobufRequest(type.name, (err as Error).message);
  }
  return type.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false, arrays: true });
}

interface ProtoTypes {
  request: protobuf.Type;
  response: protobuf.Type;
}
let protoTypes: ProtoTypes | undefined;

/** Loads the vendored .proto files once (lazily, so importing this module costs nothing). */
function types(): ProtoTypes {
  if (protoTypes) return protoTypes;
  const root = loadOtlpProto(TRACE_SERVICE);
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
  return normalizeExport(protobufToOtlpObject(request, body), 'base64', newBudget(limits));
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
  return normalizeExport(parseOtlpJsonObject(body, 'export', 'resourceSpans'), 'hex', newBudget(limits));
}

/** The OTLP JSON response: `{}` on full success, `{partialSuccess: {rejectedSpans, errorMessage}}` otherwise. */
export function jsonResponse(partial?: { rejectedSpans: number; errorMessage: string }) {
  // proto3 JSON mapping: int64 is a decimal string.
  return partial
    ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } }
    : {};
}

// ---------------------------------------------------------------------------------------------------------
// The normalizer (OTLP JSON object shape → OtlpSpan[]; the readers it shares with logs: otlp-json.ts)
// ---------------------------------------------------------------------------------------------------------

const TRACES: OtlpShape = {
  resources: 'resourceSpans',
  scopes: 'scopeSpans',
  legacyScopes: 'instrumentationLibrarySpans',
  items: 'spans',
};

function normalizeExport(exp: Record<string, unknown>, ids: IdEncoding, budget: Budget): DecodedTraces {
  const spans: OtlpSpan[] = [];
  const rejected: RejectedSpan[] = [];
  eachOtlpItem(exp, TRACES, budget, (raw, resource, scope, ri, si, pi) => {
    const where = `resourceSpans[${ri}].scopeSpans[${si}].spans[${pi}]`;
    budget.span();
    const result = normalizeSpan(raw, ids, resource, scope, budget);
    if (typeof result === 'string') rejected.push({ where, reason: result });
    else spans.push(result);
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
  if (present(parentRaw)) {
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
