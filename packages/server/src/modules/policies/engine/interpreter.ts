/**
 * A deliberately plain interpreter of the policy semantics: walk the tree, read fields by splitting the
 * path, scan every policy, sort. No compilation, no index, no shared code with compile.ts beyond the
 * contracts, so the property test (compiled set vs this) catches mistakes in either.
 * It is also the slow path for diagnostics: `unknownFields` explains why a rule matched by failing closed.
 */
import type { Condition, ConditionScalar, FieldCondition, PolicyEffect, PolicyRule } from '@agentops-hub/contracts';
import { compilePolicyPattern, PolicyLimits } from '@agentops-hub/contracts';
import type { RE2JS } from 're2js';
import type { EvalInput } from './condition-types.ts';

export type Truth = 'true' | 'false' | 'unknown';

const isNumeric = (s: string) => /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) && Number.isFinite(Number(s));

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && isNumeric(v)) return Number(v);
  return undefined;
}

function same(a: unknown, b: ConditionScalar): boolean {
  if (typeof a === 'number' && typeof b === 'string') return isNumeric(b) && Number(b) === a;
  if (typeof a === 'string' && typeof b === 'number') return isNumeric(a) && Number(a) === b;
  return a === b;
}

/** Reads `agent.name`, `action.a.b`… through own properties; null counts as missing. */
export function readField(input: EvalInput, field: string): unknown {
  let value: unknown = input;
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value === null ? undefined : value;
}

/**
 * RE2 matchers by condition leaf. The diagnostics path (`unknownFields`) walks the same stored rules on
 * every fail-closed match, and an RE2 compile costs ~0.1 ms; keyed by the leaf object, an entry lives as
 * long as the policy set that holds the rule.
 */
const patterns = new WeakMap<FieldCondition, RE2JS | null>();
function pattern(c: FieldCondition): RE2JS | null {
  let re = patterns.get(c);
  if (re === undefined) {
    try {
      re = compilePolicyPattern(c.value as string);
    } catch {
      re = null;
    }
    patterns.set(c, re);
  }
  return re;
}

function compare(actual: unknown, c: FieldCondition): Truth {
  const { op, value } = c;
  const yes = (b: boolean): Truth => (b ? 'true' : 'false');
  if (op === 'exists') return yes((actual !== undefined) === (value !== false));
  if (actual === undefined) return 'unknown';
  switch (op) {
    case 'eq':
      return Array.isArray(actual) || typeof actual === 'object'
        ? 'unknown'
        : yes(same(actual, value as ConditionScalar));
    case 'ne':
      return Array.isArray(actual) || typeof actual === 'object'
        ? 'unknown'
        : yes(!same(actual, value as ConditionScalar));
    case 'in':
    case 'not_in': {
      const list = value as ConditionScalar[];
      let found: boolean;
      if (Array.isArray(actual)) found = actual.some((a) => list.some((v) => same(a, v)));
      else if (typeof actual === 'object') return 'unknown';
      else found = list.some((v) => same(actual, v));
      return yes(op === 'in' ? found : !found);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n = asNumber(actual);
      if (n === undefined) return 'unknown';
      const v = value as number;
      return yes(op === 'gt' ? n > v : op === 'gte' ? n >= v : op === 'lt' ? n < v : n <= v);
    }
    case 'contains':
      if (Array.isArray(actual)) return yes(actual.some((a) => same(a, value as ConditionScalar)));
      if (typeof actual === 'string' && typeof value === 'string') return yes(actual.includes(value));
      return 'unknown';
    case 'starts_with':
      return typeof actual === 'string' ? yes(actual.startsWith(value as string)) : 'unknown';
    case 'matches': {
      if (typeof actual !== 'string' || actual.length > PolicyLimits.maxRegexSubject) return 'unknown';
      const re = pattern(c);
      return re === null ? 'unknown' : yes(re.test(actual));
    }
    default:
      return 'unknown';
  }
}

/** Kleene three-valued evaluation of a condition. */
export function interpretCondition(c: Condition, input: EvalInput): Truth {
  if ('all' in c) {
    const results = c.all.map((k) => interpretCondition(k, input));
    if (results.includes('false')) return 'false';
    return results.includes('unknown') ? 'unknown' : 'true';
  }
  if ('any' in c) {
    const results = c.any.map((k) => interpretCondition(k, input));
    if (results.includes('true')) return 'true';
    return results.includes('unknown') ? 'unknown' : 'false';
  }
  if ('not' in c) {
    const r = interpretCondition(c.not, input);
    return r === 'true' ? 'false' : r === 'false' ? 'true' : 'unknown';
  }
  return compare(readField(input, c.field), c);
}

/** The fields whose comparisons came out UNKNOWN, for explaining a fail-closed match. */
export function unknownFields(c: Condition, input: EvalInput, out = new Set<string>()): string[] {
  if ('all' in c) for (const k of c.all) unknownFields(k, input, out);
  else if ('any' in c) for (const k of c.any) unknownFields(k, input, out);
  else if ('not' in c) unknownFields(c.not, input, out);
  else if (compare(readField(input, c.field), c) === 'unknown') out.add(c.field);
  return [...out];
}

export interface InterpretedPolicy {
  id: string;
  name: string;
  priority: number;
  status: string;
  rule: PolicyRule;
}

export interface Interpretation {
  decision: 'ALLOW' | 'BLOCK' | 'REQUIRE_APPROVAL';
  /** Matching block/require_approval/allow policies: most restrictive first, then priority desc, then id. */
  reasons: { policy_id: string; effect: PolicyEffect; priority: number }[];
  /** Matching log_only policies, priority desc then id. */
  monitors: { policy_id: string; priority: number }[];
}

const RANK: Record<PolicyEffect, number> = { block: 0, require_approval: 1, allow: 2, log_only: 3 };

/** Decides by scanning every active policy. */
export function interpretPolicies(
  policies: readonly InterpretedPolicy[],
  input: EvalInput,
  opts: { defaultDeny?: boolean } = {},
): Interpretation {
  const reasons: Interpretation['reasons'] = [];
  const monitors: Interpretation['monitors'] = [];
  for (const p of policies) {
    if (p.status !== 'active') continue;
    const truth = interpretCondition(p.rule.when, input);
    const effect = p.rule.then;
    const restrictive = effect === 'block' || effect === 'require_approval';
    const matched = restrictive ? truth !== 'false' : truth === 'true';
    if (!matched) continue;
    if (effect === 'log_only') monitors.push({ policy_id: p.id, priority: p.priority });
    else reasons.push({ policy_id: p.id, effect, priority: p.priority });
  }
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  reasons.sort((a, b) => RANK[a.effect] - RANK[b.effect] || b.priority - a.priority || byId(a.policy_id, b.policy_id));
  monitors.sort((a, b) => b.priority - a.priority || byId(a.policy_id, b.policy_id));
  const effects = new Set(reasons.map((r) => r.effect));
  const decision = effects.has('block')
    ? 'BLOCK'
    : effects.has('require_approval')
      ? 'REQUIRE_APPROVAL'
      : effects.has('allow')
        ? 'ALLOW'
        : opts.defaultDeny
          ? 'BLOCK'
          : 'ALLOW';
  return { decision, reasons, monitors };
}
