/**
 * Compiles a validated condition tree into a closure once, so evaluation is a few property reads and
 * comparisons with no tree walking, string switching or regex compilation per request.
 *
 * Semantics (shared with `interpreter.ts`, which the property test holds this file to):
 * - Three values: TRUE, FALSE, UNKNOWN. A missing field (absent or null) or a type mismatch (gt on a
 *   word, starts_with on a number, eq on an object…) is UNKNOWN. `exists` is never UNKNOWN.
 * - `all`/`any`/`not` use Kleene logic: all = FALSE if any child is FALSE, else UNKNOWN if any is, else TRUE.
 * - Numbers and numeric strings are interchangeable ("900" > 500, 10 eq "10"), because tool arguments
 *   written by language models often arrive as strings. Only plain decimal strings count (see NUMERIC).
 * - Arrays: `contains` tests membership, `in` tests overlap with the list, `not_in` tests no overlap.
 * - Whether UNKNOWN counts as a match depends on the effect: see `ruleMatches`.
 */

import {
  type Condition,
  type ConditionScalar,
  type FieldCondition,
  type PolicyEffect,
  PolicyLimits,
} from '@agentops-hub/contracts';
import { generateCondition } from './codegen.ts';
import { type CompiledCondition, type EvalInput, FALSE, TRUE, type Tri, UNKNOWN } from './condition-types.ts';
import { compileMatcher } from './pattern.ts';

/** Still importable from here: bench/policy.ts reads it from this file. */
export type { EvalInput } from './condition-types.ts';

/**
 * Fail closed for rules that restrict (an unknown amount on a refund rule blocks), fail open for rules
 * that permit or only observe (an unknown value never grants an explicit allow or raises a monitor).
 */
export const ruleMatches = (effect: PolicyEffect, tri: Tri): boolean =>
  effect === 'block' || effect === 'require_approval' ? tri !== FALSE : tri === TRUE;

/** Plain decimal numbers only: no hex, no blanks, no "Infinity", no empty string. */
export const NUMERIC = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

const hasOwn = Object.prototype.hasOwnProperty;

/** A number from a number or a numeric string; null when the value is not numeric. */
export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && NUMERIC.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Equality with number/numeric-string interchange; values of other different types are unequal. */
export function looseEquals(a: unknown, b: ConditionScalar): boolean {
  if (typeof a === typeof b) return a === b;
  if (typeof b === 'number' && typeof a === 'string') return toNumber(a) === b;
  if (typeof b === 'string' && typeof a === 'number') return toNumber(b) === a;
  return false;
}

/** Builds a reader for a dotted field. Only own properties are read, so `action.toString` is missing. */
export function compileGetter(field: string): (input: EvalInput) => unknown {
  const [root, ...path] = field.split('.') as ['agent' | 'action' | 'context', ...string[]];
  const step = (o: unknown, k: string): unknown =>
    o !== null && typeof o === 'object' && hasOwn.call(o, k) ? (o as Record<string, unknown>)[k] : undefined;
  if (path.length === 1) {
    const k = path[0];
    return (i) => step(i[root], k);
  }
  return (i) => {
    let o: unknown = i[root];
    for (const k of path) {
      o = step(o, k);
      if (o === undefined) return undefined;
    }
    return o;
  };
}

/** Value sets for `in`/`not_in`, split by type so a lookup is one Set.has. */
export function valueSets(values: readonly ConditionScalar[]) {
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const booleans = new Set<boolean>();
  for (const v of values) {
    if (typeof v === 'string') {
      strings.add(v);
      const n = toNumber(v);
      if (n !== null) numbers.add(n);
    } else if (typeof v === 'number') numbers.add(v);
    else booleans.add(v);
  }
  return (a: unknown): boolean => {
    if (typeof a === 'string') {
      if (strings.has(a)) return true;
      const n = toNumber(a);
      return n !== null && numbers.has(n);
    }
    if (typeof a === 'number') return numbers.has(a);
    if (typeof a === 'boolean') return booleans.has(a);
    return false;
  };
}

function compileLeaf(c: FieldCondition): CompiledCondition {
  const get = compileGetter(c.field);
  const value = c.value;
  switch (c.op) {
    case 'exists': {
      const want = value !== false;
      return (i) => {
        const a = get(i);
        return (a !== undefined && a !== null) === want ? TRUE : FALSE;
      };
    }
    case 'eq':
    case 'ne': {
      const v = value as ConditionScalar;
      const [hit, miss]: [Tri, Tri] = c.op === 'eq' ? [TRUE, FALSE] : [FALSE, TRUE];
      return (i) => {
        const a = get(i);
        if (a === undefined || a === null || typeof a === 'object') return UNKNOWN;
        return looseEquals(a, v) ? hit : miss;
      };
    }
    case 'in':
    case 'not_in': {
      const has = valueSets(value as ConditionScalar[]);
      const [hit, miss]: [Tri, Tri] = c.op === 'in' ? [TRUE, FALSE] : [FALSE, TRUE];
      return (i) => {
        const a = get(i);
        if (a === undefined || a === null) return UNKNOWN;
        if (Array.isArray(a)) return a.some(has) ? hit : miss;
        if (typeof a === 'object') return UNKNOWN;
        return has(a) ? hit : miss;
      };
    }
    // One closure per operator rather than a shared one calling a comparator: one call less per rule.
    case 'gt': {
      const v = value as number;
      return (i) => {
        const a = toNumber(get(i));
        return a === null ? UNKNOWN : a > v ? TRUE : FALSE;
      };
    }
    case 'gte': {
      const v = value as number;
      return (i) => {
        const a = toNumber(get(i));
        return a === null ? UNKNOWN : a >= v ? TRUE : FALSE;
      };
    }
    case 'lt': {
      const v = value as number;
      return (i) => {
        const a = toNumber(get(i));
        return a === null ? UNKNOWN : a < v ? TRUE : FALSE;
      };
    }
    case 'lte': {
      const v = value as number;
      return (i) => {
        const a = toNumber(get(i));
        return a === null ? UNKNOWN : a <= v ? TRUE : FALSE;
      };
    }
    case 'contains': {
      const v = value as ConditionScalar;
      return (i) => {
        const a = get(i);
        if (Array.isArray(a)) return a.some((x) => looseEquals(x, v)) ? TRUE : FALSE;
        if (typeof a === 'string' && typeof v === 'string') return a.includes(v) ? TRUE : FALSE;
        return UNKNOWN;
      };
    }
    case 'starts_with': {
      const v = value as string;
      return (i) => {
        const a = get(i);
        return typeof a === 'string' ? (a.startsWith(v) ? TRUE : FALSE) : UNKNOWN;
      };
    }
    case 'matches': {
      const re = compileMatcher(value);
      // Validation refuses bad patterns; a stored one that no longer compiles is an evaluation error.
      if (re === null) return () => UNKNOWN;
      const max = PolicyLimits.maxRegexSubject;
      return (i) => {
        const a = get(i);
        if (typeof a !== 'string' || a.length > max) return UNKNOWN;
        return re.test(a) ? TRUE : FALSE;
      };
    }
    default:
      return () => UNKNOWN;
  }
}

/**
 * Compiles a validated condition into one generated function (codegen.ts), or into closures where the
 * runtime forbids code generation. Children of `all`/`any` are evaluated left to right and stop at the
 * first deciding FALSE/TRUE; UNKNOWN keeps going because a later child may still decide.
 * @example
 * const test = compileCondition({ field: 'action.amount', op: 'gt', value: 500 });
 * test({ agent: {}, action: { type: 'refund', amount: 900 } }); // TRUE
 * test({ agent: {}, action: { type: 'refund' } }); // UNKNOWN
 */
export function compileCondition(c: Condition): CompiledCondition {
  if (codegenAvailable) {
    try {
      return generateCondition(c, RUNTIME);
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      codegenAvailable = false; // --disallow-code-generation-from-strings: closures from now on
    }
  }
  return compileConditionClosures(c);
}
const RUNTIME = { toNumber, looseEquals, valueSets };
let codegenAvailable = true;

/** The closure compiler: the fallback without code generation, and a second implementation the property test checks. */
export function compileConditionClosures(c: Condition): CompiledCondition {
  if ('all' in c) {
    const kids = c.all.map(compileConditionClosures);
    if (kids.length === 1) return kids[0];
    return (i) => {
      let out: Tri = TRUE;
      for (const k of kids) {
        const r = k(i);
        if (r === FALSE) return FALSE;
        if (r === UNKNOWN) out = UNKNOWN;
      }
      return out;
    };
  }
  if ('any' in c) {
    const kids = c.any.map(compileConditionClosures);
    if (kids.length === 1) return kids[0];
    return (i) => {
      let out: Tri = FALSE;
      for (const k of kids) {
        const r = k(i);
        if (r === TRUE) return TRUE;
        if (r === UNKNOWN) out = UNKNOWN;
      }
      return out;
    };
  }
  if ('not' in c) {
    const kid = compileConditionClosures(c.not);
    return (i) => {
      const r = kid(i);
      return r === UNKNOWN ? UNKNOWN : r === TRUE ? FALSE : TRUE;
    };
  }
  return compileLeaf(c);
}
