/**
 * @module otlp-bounds
 * What one OTLP export may carry, and the wire scan that checks it before protobufjs builds anything.
 *
 * Decoding multiplies memory: a 2-byte protobuf AnyValue becomes two JS objects (the message, then its
 * plain form). The size caps alone (see `inflateOtlpBody`) would still let 8 MB of tiny values become
 * hundreds of MB, so counts are capped too, and a refused export is refused whole (413, nothing stored):
 * - protobuf: `checkProtobufBounds` walks the wire bytes (no allocation, depth-bounded recursion) first;
 * - JSON: `JSON.parse` is bounded by the size cap, and the normalizer counts with a `Budget` as it reads.
 *
 * @example
 * checkProtobufBounds(body);            // throws AppError('payload_too_large') naming the cap
 * const budget = newBudget();           // JSON: budget.span(), budget.value(depth) while normalizing
 */
import protobuf from 'protobufjs';
import { AppError } from '../../../platform/errors.ts';

export interface OtlpLimits {
  /** Spans per request. The Collector's default batch is 8192; SDKs send 512. */
  maxSpans: number;
  /** Span events per request (GenAI content events are a few per span). */
  maxEvents: number;
  /** Attributes on one span, event, link, resource, scope or kvlist (SDKs default to 128). */
  maxAttributes: number;
  /** AnyValue nesting (arrays and kvlists inside attribute values); the value itself is depth 0. */
  maxValueDepth: number;
  /** AnyValues per request, array elements included: what bounds decode memory. */
  maxValues: number;
}

export const OTLP_LIMITS: OtlpLimits = {
  maxSpans: 20_000,
  maxEvents: 50_000,
  maxAttributes: 1_000,
  maxValueDepth: 16,
  maxValues: 500_000,
};

/** The 413 problem for an export past a cap: `rule` says the cap, `path` where it applies. */
export function tooLarge(rule: string, path: string): AppError {
  return new AppError('payload_too_large', `This export is larger than the hub accepts: ${rule}.`, {
    errors: [{ path, message: rule }],
  });
}

export const refuse = {
  spans: (l: OtlpLimits) => tooLarge(`a request may carry at most ${l.maxSpans} spans`, 'resourceSpans'),
  events: (l: OtlpLimits) => tooLarge(`a request may carry at most ${l.maxEvents} span events`, 'spans.events'),
  attributes: (l: Pick<OtlpLimits, 'maxAttributes'>, where: string) =>
    tooLarge(`a ${where} may carry at most ${l.maxAttributes} attributes`, `${where}.attributes`),
  depth: (l: OtlpLimits) => tooLarge(`attribute values may nest at most ${l.maxValueDepth} deep`, 'attributes.value'),
  values: (l: OtlpLimits) =>
    tooLarge(`a request may carry at most ${l.maxValues} attribute values`, 'attributes.value'),
};

/** Running counts for one export; each method throws the 413 as soon as its cap is passed. */
export interface Budget {
  span(): void;
  event(): void;
  value(depth: number): void;
  attributes(count: number, where: string): void;
}

export function newBudget(limits: OtlpLimits = OTLP_LIMITS): Budget {
  let spans = 0;
  let events = 0;
  let values = 0;
  return {
    span() {
      if (++spans > limits.maxSpans) throw refuse.spans(limits);
    },
    event() {
      if (++events > limits.maxEvents) throw refuse.events(limits);
    },
    value(depth) {
      if (depth > limits.maxValueDepth) throw refuse.depth(limits);
      if (++values > limits.maxValues) throw refuse.values(limits);
    },
    attributes(count, where) {
      if (count > limits.maxAttributes) throw refuse.attributes(limits, where);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The protobuf wire scan. Field numbers are those of the vendored opentelemetry-proto (trace.proto,
// logs.proto, common.proto, resource.proto); every message protobufjs would build is visited, links
// included, and everything else is skipped as bytes.
// ---------------------------------------------------------------------------------------------------------

const LEN = 2; // wire type of length-delimited fields (messages, strings, bytes)

/** Calls `visit(field, end)` for each length-delimited field of the message in [reader.pos, end). */
export function eachMessageField(r: protobuf.Reader, end: number, visit: (field: number, end: number) => void) {
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

/** The walkers of common.proto's KeyValue, AnyValue and KeyValueList over one reader, sharing one budget. */
export interface AttributeScanner {
  /** A scan of a message whose field `attributeField` is a repeated KeyValue (a resource, a scope, …). */
  keyValues: (where: string, attributeField: number, depth: number) => (end: number) => void;
  /** The `n`th attribute of a `where` (its 413 names it when `n` passes the cap), then its KeyValue. */
  attribute: (n: number, where: string, end: number, depth?: number) => void;
  keyValue: (end: number, depth: number) => void;
  anyValue: (end: number, depth: number) => void;
}

/**
 * The KeyValue / AnyValue / kvlist walk of the trace and log wire scans: counts attributes per list against
 * `limits.maxAttributes` and each AnyValue (array elements and kvlist values included) with `budget.value`.
 * No allocation per value; recursion is bounded by the depth cap that `budget.value` checks first.
 */
export function createAttributeScanner(
  r: protobuf.Reader,
  limits: Pick<OtlpLimits, 'maxAttributes'>,
  budget: Pick<Budget, 'value'>,
): AttributeScanner {
  const keyValues = (where: string, attributeField: number, depth: number) => (end: number) => {
    let count = 0;
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === attributeField) attribute(++count, where, fieldEnd, depth);
    });
  };
  const attribute = (n: number, where: string, end: number, depth = 0) => {
    if (n > limits.maxAttributes) throw refuse.attributes(limits, where);
    keyValue(end, depth);
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
  return { keyValues, attribute, keyValue, anyValue };
}

/** The 400 for bytes that are not the named request message (`ExportTraceServiceRequest`, …). */
export function notAProtobufRequest(message: string, why: string): AppError {
  return new AppError('validation_failed', `The body is not a valid OTLP protobuf ${message}: ${why}`, {
    errors: [{ path: '(body)', message: `not a valid ${message}` }],
  });
}

/**
 * Runs a wire scan of a whole request: a cap's 413 passes through, any other failure (a truncated or
 * overlong field) is the 400 `notAProtobufRequest(message, …)`.
 */
export function scanRequest(message: string, scan: () => void): void {
  try {
    scan();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw notAProtobufRequest(message, (err as Error).message);
  }
}

/**
 * Checks a binary ExportTraceServiceRequest against `limits` without decoding it: linear in its size.
 * @throws AppError('payload_too_large') naming the first cap passed; AppError('validation_failed') for
 * bytes that are not a well-formed message.
 */
export function checkProtobufBounds(body: Uint8Array, limits: OtlpLimits = OTLP_LIMITS): void {
  const budget = newBudget(limits);
  const r = protobuf.Reader.create(body);
  const { keyValues, attribute } = createAttributeScanner(r, limits, budget);
  const resource = keyValues('resource', 1, 0);
  const scope = keyValues('scope', 3, 0);
  const event = keyValues('span event', 3, 0);
  const link = keyValues('span link', 4, 0);
  const span = (end: number) => {
    budget.span();
    let attributes = 0;
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 9) attribute(++attributes, 'span', fieldEnd);
      else if (field === 11) {
        budget.event();
        event(fieldEnd);
      } else if (field === 13) link(fieldEnd);
    });
  };
  // ScopeSpans (2) and the deprecated InstrumentationLibrarySpans (1000) share this layout.
  const scopeSpans = (end: number) =>
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 1) scope(fieldEnd);
      else if (field === 2) span(fieldEnd);
    });
  const resourceSpans = (end: number) =>
    eachMessageField(r, end, (field, fieldEnd) => {
      if (field === 1) resource(fieldEnd);
      else if (field === 2 || field === 1000) scopeSpans(fieldEnd);
    });

  scanRequest('ExportTraceServiceRequest', () =>
    eachMessageField(r, body.length, (field, end) => field === 1 && resourceSpans(end)),
  );
}
