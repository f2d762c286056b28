/**
 * @module otlp-json
 * Reading the OTLP JSON object shape, shared by the trace (otlp-decode.ts) and log (otlp-logs-decode.ts)
 * decoders: both turn protobuf into this shape first, so one set of readers serves both encodings.
 * - `parseOtlpJsonObject`: the body → an object (400 problem+json when it is not JSON or not an object);
 * - `eachOtlpItem`: the resource → scope → item walk (resourceSpans/scopeSpans/spans, resourceLogs/…);
 * - `attributesOf`/`anyValueOf`: KeyValue lists and AnyValues → plain JS, counted against a `Budget`;
 * - small tolerant readers: snake_case or camelCase keys (`field`), hex or base64 ids (`idOf`), int64 nanos.
 *
 * @example
 * const exp = parseOtlpJsonObject(body, 'export', 'resourceSpans');
 * eachOtlpItem(exp, TRACE_SHAPE, budget, (raw, resource, scope, ri, si, i) => …);
 */
import { AppError } from '../../../platform/errors.ts';
import type { Budget } from './otlp-bounds.ts';

/**
 * The body as a JSON object (a Buffer/string to parse, or an already parsed value). `JSON.parse` is iterative
 * in V8 (no stack limit) and bounded by the inflated size. `what` and `rootField` word the refusal:
 * "An OTLP JSON ${what} is an object with "${rootField}"."
 * @throws AppError('validation_failed') when it is not JSON or not an object.
 */
export function parseOtlpJsonObject(body: unknown, what: string, rootField: string): Record<string, unknown> {
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
    throw new AppError('validation_failed', `An OTLP JSON ${what} is an object with "${rootField}".`, {
      errors: [{ path: '(root)', message: 'expected an object' }],
    });
  }
  return value;
}

/** The field names of one signal's resource → scope → item nesting (and the pre-0.15 scope name). */
export interface OtlpShape {
  resources: string;
  scopes: string;
  legacyScopes: string;
  items: string;
}

export type OtlpScope = { name: string; version?: string };

/**
 * Calls `visit` for each item (span, log record) of an export, in order, with its resource attributes and
 * scope and its position (resource, scope, item index: scopes counted across both scope lists). Entries that
 * are not objects are skipped, items are passed as they are.
 */
export function eachOtlpItem(
  exp: Record<string, unknown>,
  shape: OtlpShape,
  budget: Budget,
  visit: (raw: unknown, resource: Record<string, unknown>, scope: OtlpScope, ri: number, si: number, i: number) => void,
): void {
  asArray(field(exp, shape.resources)).forEach((rs, ri) => {
    if (!isObject(rs)) return;
    const resourceObj = field(rs, 'resource');
    const resource = isObject(resourceObj) ? attributesOf(field(resourceObj, 'attributes'), budget, 'resource') : {};
    // scopeSpans since OTLP 0.15; instrumentationLibrarySpans before (still sent by very old SDKs).
    const scopeList = [...asArray(field(rs, shape.scopes)), ...asArray(field(rs, shape.legacyScopes))];
    scopeList.forEach((ss, si) => {
      if (!isObject(ss)) return;
      const scopeObj = field(ss, 'scope') ?? field(ss, 'instrumentationLibrary');
      const version = isObject(scopeObj) ? str(field(scopeObj, 'version')) : '';
      const scope = { name: isObject(scopeObj) ? str(field(scopeObj, 'name')) : '', ...(version ? { version } : {}) };
      const items = asArray(field(ss, shape.items));
      for (let i = 0; i < items.length; i++) visit(items[i], resource, scope, ri, si, i);
    });
  });
}

/**
 * `[{key, value: AnyValue}]` → a plain record (later duplicates win, as in the SDKs), counted against
 * `budget` (`where` names the owner in the 413: span, span event, log record, resource, kvlist).
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

// ---------------------------------------------------------------------------------------------------------
// Small readers
// ---------------------------------------------------------------------------------------------------------

/** Accepts both snake_case and camelCase keys (some senders use the proto field names in JSON). */
export function field(obj: Record<string, unknown>, camel: string): unknown {
  if (camel in obj) return obj[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return obj[snake];
}

export type IdEncoding = 'hex' | 'base64';

/**
 * A trace/span id as lowercase hex of exactly `bytes` bytes; undefined when absent, malformed or all zero
 * (all-zero ids are invalid per the spec).
 */
export function idOf(value: unknown, bytes: number, encoding: IdEncoding = 'hex'): string | undefined {
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
export function nanosToMs(value: unknown): number | undefined {
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

/** Whether an optional field is there at all (an id field may be absent, null or ''). */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}
