/**
 * @module redactor
 * An org's privacy settings compiled once into the functions ingestion calls on every value it is about
 * to write: `content` (run input, output, error), `payload` (an event's payload) and `attributes` (run
 * metadata). The fields the hub itself needs — model, token counts, costs, durations — are kept as sent
 * in payloads; ids and timestamps are columns and never pass through here.
 *
 * - `full`: org rules only. `redacted`: org rules, then the built-in detectors.
 * - `metadata_only`: every string becomes `[omitted]` (keys and shape stay); integers of 8+ digits become 0.
 *
 * @example
 * const r = compileRedactor(settings, hashKey);
 * r.content('agt_1', { prompt: 'mail ann@example.com' }); // → { prompt: 'mail [EMAIL]' } when redacted
 */
import { createHmac } from 'node:crypto';
import {
  type CaptureLevel,
  compilePolicyPattern,
  type DetectorKind,
  type DetectorSettings,
  type RedactionAction,
  type RedactionRule,
} from '@agentops-hub/contracts';
import type { RE2JS } from 're2js';
import { scanText } from './detectors.ts';

/** What is stored for an org, as the service hands it over. */
export interface OrgPrivacy {
  capture: CaptureLevel;
  detectors: DetectorSettings;
  rules: RedactionRule[];
  /** Agent id → its own capture level. */
  agents: Map<string, CaptureLevel>;
}

export const DEFAULT_DETECTORS: DetectorSettings = {
  email: 'label',
  phone: 'label',
  card: 'label',
  iban: 'label',
  secret: 'label',
};

const LABELS: Record<DetectorKind, string> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  card: '[CARD]',
  iban: '[IBAN]',
  secret: '[SECRET]',
};
export const OMITTED = '[omitted]';

/** Payload keys the hub reads (pricing, rollups, timeline): never redacted, never hidden. */
export const HUB_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'provider',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'duration_ms',
  'tool',
  'status',
]);

/** Attribute names whose values are secrets whatever they look like (redacted and metadata_only). */
const SECRET_KEYS =
  /^(password|passwd|secret|client_secret|api_?key|access_token|refresh_token|auth_token|token|authorization|private_key|cookie)$/i;

interface KeyRule {
  segments: string[] | null; // null: a bare key name, anywhere
  /** `$.a.b`: from the field's root only; `a.b`: wherever the path ends with a.b. */
  anchored: boolean;
  key: string;
  action: RedactionAction;
  label: string;
}
interface PatternRule {
  re: RE2JS;
  /** A literal every match starts with (see `requiredPrefix`): a string without it is not scanned. */
  prefix: string | null;
  action: RedactionAction;
  label: string;
}

const META = new Set([...'\\^$.|?*+()[]{}']);

/**
 * The literal run a pattern's every match must start with, when it has one of 2+ characters: the leading
 * characters before the first metacharacter, for a pattern with no alternation and no flags. `includes`
 * on it is far cheaper than running RE2 over every string and key of a payload, and never skips a match.
 */
export function requiredPrefix(pattern: string): string | null {
  if (pattern.includes('|') || pattern.startsWith('(?')) return null;
  let i = 0;
  while (i < pattern.length && !META.has(pattern[i]!)) i++;
  // A quantifier right after the run makes its last character optional ("ab?", "ab*", "ab{0,1}").
  const next = pattern[i];
  const end = next === '?' || next === '*' || next === '{' ? i - 1 : i;
  return end >= 2 ? pattern.slice(0, end) : null;
}

const REMOVE = Symbol('remove');

export interface Redactor {
  /** The capture level that applies to this agent. */
  level(agentId: string): CaptureLevel;
  /** Run input, output or error. */
  content(agentId: string, value: unknown): unknown;
  /** An event payload: the hub's own fields stay as sent. */
  payload(agentId: string, payload: Record<string, unknown>): Record<string, unknown>;
  /** Run metadata (attributes). */
  attributes(agentId: string, metadata: Record<string, unknown>): Record<string, unknown>;
}

/** The keyed hash: HMAC-SHA256 with the org's key, 16 hex characters (equal values → equal hashes). */
export function keyedHash(key: Buffer, value: string): string {
  return `[#${createHmac('sha256', key).update(value).digest('hex').slice(0, 16)}]`;
}

/**
 * Compiles settings into a redactor. Patterns were validated when saved; one that no longer compiles
 * (a tightened limit) redacts the whole string rather than let content through.
 */
export function compileRedactor(p: OrgPrivacy, hashKey: Buffer): Redactor | null {
  const hasAgentLevels = [...p.agents.values()].some((l) => l !== 'full');
  // The default (full, no rules, no agent levels): nothing to do, and ingestion skips the walk entirely.
  if (p.capture === 'full' && p.rules.length === 0 && !hasAgentLevels) return null;

  const keyRules: KeyRule[] = [];
  const patternRules: (PatternRule | { broken: true; label: string })[] = [];
  for (const r of p.rules) {
    const label = r.label ?? '[REDACTED]';
    if (r.key !== undefined) {
      const anchored = r.key.startsWith('$');
      const path = r.key.replace(/^\$\.?/, '');
      const segments = path.includes('.') || anchored ? path.split('.') : null;
      keyRules.push({ segments, anchored, key: path, action: r.action, label });
    } else if (r.pattern !== undefined) {
      try {
        patternRules.push({
          re: compilePolicyPattern(r.pattern),
          prefix: requiredPrefix(r.pattern),
          action: r.action,
          label,
        });
      } catch {
        patternRules.push({ broken: true, label });
      }
    }
  }
  const enabled = new Set<DetectorKind>(
    (Object.keys(p.detectors) as DetectorKind[]).filter((k) => p.detectors[k] !== 'off'),
  );

  const replace = (action: RedactionAction, label: string, original: string) =>
    action === 'hash' ? keyedHash(hashKey, original) : action === 'remove' ? '' : label;

  function text(s: string, detect: boolean): string {
    let out = s;
    for (const r of patternRules) {
      if ('broken' in r) return r.label;
      if (r.prefix !== null && !out.includes(r.prefix)) continue;
      const m = r.re.matcher(out);
      let built = '';
      let last = 0;
      while (m.find()) {
        const a = m.start();
        const b = m.end();
        if (b === a) continue; // an empty match replaces nothing
        built += out.slice(last, a) + replace(r.action, r.label, out.slice(a, b));
        last = b;
      }
      if (last > 0) out = built + out.slice(last);
    }
    if (!detect || enabled.size === 0) return out;
    const spans = scanText(out, enabled);
    if (spans.length === 0) return out;
    let built = '';
    let last = 0;
    for (const sp of spans) {
      const setting = p.detectors[sp.kind];
      const action: RedactionAction = setting === 'off' ? 'label' : setting;
      built += out.slice(last, sp.start) + replace(action, LABELS[sp.kind], out.slice(sp.start, sp.end));
      last = sp.end;
    }
    return built + out.slice(last);
  }

  function keyRuleFor(path: string[], key: string): KeyRule | undefined {
    for (const r of keyRules) {
      if (r.segments === null) {
        if (r.key === key) return r;
        continue;
      }
      const off = path.length - r.segments.length;
      if (off < 0 || (r.anchored && off !== 0)) continue;
      let ok = true;
      for (let i = 0; i < r.segments.length; i++)
        if (r.segments[i] !== '*' && r.segments[i] !== path[off + i]) {
          ok = false;
          break;
        }
      if (ok) return r;
    }
    return undefined;
  }

  function ruled(rule: KeyRule, v: unknown): unknown {
    if (rule.action === 'remove') return REMOVE;
    if (rule.action === 'hash') return keyedHash(hashKey, typeof v === 'string' ? v : JSON.stringify(v));
    return rule.label;
  }

  /** Walks a JSON value; `path` is the keys from the field's root (array indexes as strings). */
  function walk(v: unknown, level: CaptureLevel, path: string[], top: boolean): unknown {
    if (typeof v === 'string') {
      if (level === 'metadata_only') return v.length === 0 ? v : OMITTED;
      return text(v, level === 'redacted');
    }
    if (typeof v === 'number') {
      // A card or phone number sent as a JSON number.
      if (level !== 'full' && Number.isInteger(Math.abs(v)) && Math.abs(v) >= 1e7)
        return level === 'metadata_only' ? 0 : text(String(v), true) === String(v) ? v : '[NUMBER]';
      return v;
    }
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        path.push(String(i));
        const w = walk(v[i], level, path, false);
        path.pop();
        if (w !== REMOVE) out.push(w);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const value = (v as Record<string, unknown>)[k];
      if (top && HUB_FIELDS.has(k) && typeof value !== 'object') {
        // Kept under every level (names, counts); a string still goes through the detectors, so a tool
        // or status that carries a card number does not slip through.
        out[k] = typeof value === 'string' && level !== 'full' ? text(value, true) : value;
        continue;
      }
      path.push(k);
      const rule = keyRules.length ? keyRuleFor(path, k) : undefined;
      let w: unknown;
      if (rule) w = ruled(rule, value);
      else if (level !== 'full' && typeof value === 'string' && SECRET_KEYS.test(k))
        w = level === 'metadata_only' ? OMITTED : '[SECRET]';
      else w = walk(value, level, path, false);
      path.pop();
      if (w === REMOVE) continue;
      // Keys can carry data too ({"ann@example.com": …}).
      const key = level === 'full' ? k : level === 'metadata_only' ? k : text(k, true);
      out[key] = w;
    }
    return out;
  }

  const level = (agentId: string) => p.agents.get(agentId) ?? p.capture;
  const nothingToDo = (l: CaptureLevel) => l === 'full' && keyRules.length === 0 && patternRules.length === 0;
  return {
    level,
    content(agentId, value) {
      const l = level(agentId);
      if (value === undefined || value === null || nothingToDo(l)) return value;
      const w = walk(value, l, [], false);
      return w === REMOVE ? null : w;
    },
    payload(agentId, payload) {
      const l = level(agentId);
      if (nothingToDo(l)) return payload;
      return walk(payload, l, [], true) as Record<string, unknown>;
    },
    attributes(agentId, metadata) {
      const l = level(agentId);
      if (nothingToDo(l)) return metadata;
      return walk(metadata, l, [], true) as Record<string, unknown>;
    },
  };
}
