/**
 * Compiles a validated condition into the source of one JavaScript function, built once with
 * `new Function`, so a rule is one straight-line function with no calls between its nodes: with 1,000
 * active policies a request runs ~35 rules, and a closure per node (rule → all → leaf → getter → step)
 * cost more than the comparisons themselves.
 *
 * Nothing from a policy is spliced into the source as code. Field path segments are validated
 * (`[A-Za-z0-9_-]+`, no `__proto__`/`constructor`/`prototype`) and still emitted through JSON.stringify;
 * strings, numbers and booleans are emitted as literals only when JSON.stringify round-trips them, and
 * everything else (RE2 matchers, `in` value sets, `contains` values) is passed in the `k` array of constants.
 *
 * Semantics are those of compile.ts (three values, numeric strings, own properties only); the property
 * test holds both this compiler and the closure compiler to the plain interpreter.
 */
import type { Condition, ConditionScalar, FieldCondition } from '@agentops-hub/contracts';
import { PolicyLimits } from '@agentops-hub/contracts';
import type { CompiledCondition } from './condition-types.ts';
import { compileMatcher } from './pattern.ts';

/** What generated code calls: the shared numeric/equality helpers from compile.ts. */
export interface Runtime {
  toNumber(v: unknown): number | null;
  looseEquals(a: unknown, b: ConditionScalar): boolean;
  valueSets(values: readonly ConditionScalar[]): (a: unknown) => boolean;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * A plain read `o[k]` equals an own-property read for JSON objects and arrays unless an inherited
 * property has that name (`toString`, `length` is own on arrays, `map`…): those keep the hasOwn check.
 */
const needsOwnCheck = (k: string) => k in Object.prototype || k in Array.prototype;

class Emitter {
  private n = 0;
  readonly lines: string[] = [];
  readonly consts: unknown[] = [];
  constructor(readonly rt: Runtime) {}

  v(prefix: string) {
    return `${prefix}${this.n++}`;
  }
  /** A constant the code reads as `k[i]`. */
  konst(value: unknown) {
    this.consts.push(value);
    return `k[${this.consts.length - 1}]`;
  }
  /** A literal for a string/number/boolean when it round-trips exactly; otherwise a constant slot. */
  literal(value: ConditionScalar) {
    if (typeof value === 'boolean') return String(value);
    if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) return String(value);
    if (typeof value === 'string') return JSON.stringify(value);
    return this.konst(value);
  }
  emit(line: string) {
    this.lines.push(line);
  }

  /** Emits the field read into a fresh variable and returns its name. */
  read(field: string): string {
    const [root, ...path] = field.split('.');
    const a = this.v('a');
    this.emit(`let ${a} = i[${JSON.stringify(root)}];`);
    for (const seg of path) {
      const key = JSON.stringify(seg);
      const own = needsOwnCheck(seg) ? ` && h.call(${a}, ${key})` : '';
      this.emit(`${a} = ${a} !== null && typeof ${a} === 'object'${own} ? ${a}[${key}] : undefined;`);
    }
    return a;
  }

  /** Emits code that leaves TRUE (1), FALSE (0) or UNKNOWN (2) in a fresh variable; returns its name. */
  cond(c: Condition): string {
    if ('all' in c || 'any' in c) {
      const isAll = 'all' in c;
      const kids = isAll ? c.all : c.any;
      const r = this.v('r');
      // all: FALSE decides, UNKNOWN is remembered; any: TRUE decides, UNKNOWN is remembered.
      const decide = isAll ? 0 : 1;
      this.emit(`let ${r} = ${isAll ? 1 : 0};`);
      const label = this.v('L');
      this.emit(`${label}: {`);
      for (const kid of kids) {
        const x = this.cond(kid);
        this.emit(`if (${x} === ${decide}) { ${r} = ${decide}; break ${label}; }`);
        this.emit(`if (${x} === 2) ${r} = 2;`);
      }
      this.emit('}');
      return r;
    }
    if ('not' in c) {
      const x = this.cond(c.not);
      const r = this.v('r');
      this.emit(`const ${r} = ${x} === 2 ? 2 : ${x} === 1 ? 0 : 1;`);
      return r;
    }
    return this.leaf(c);
  }

  leaf(c: FieldCondition): string {
    const r = this.v('r');
    const a = this.read(c.field);
    const value = c.value;
    switch (c.op) {
      case 'exists':
        this.emit(`const ${r} = (${a} !== undefined && ${a} !== null) === ${value !== false} ? 1 : 0;`);
        return r;
      case 'eq':
      case 'ne': {
        const [hit, miss] = c.op === 'eq' ? [1, 0] : [0, 1];
        this.emit(
          `const ${r} = ${a} === undefined || ${a} === null || typeof ${a} === 'object' ? 2 : ${this.equals(a, value as ConditionScalar)} ? ${hit} : ${miss};`,
        );
        return r;
      }
      case 'in':
      case 'not_in': {
        const has = this.konst(this.rt.valueSets(value as ConditionScalar[]));
        const [hit, miss] = c.op === 'in' ? [1, 0] : [0, 1];
        this.emit(
          `const ${r} = ${a} === undefined || ${a} === null ? 2 : Array.isArray(${a}) ? (${a}.some(${has}) ? ${hit} : ${miss}) : typeof ${a} === 'object' ? 2 : ${has}(${a}) ? ${hit} : ${miss};`,
        );
        return r;
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const op = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[c.op];
        const n = this.v('n');
        this.emit(
          `const ${n} = typeof ${a} === 'number' ? (Number.isFinite(${a}) ? ${a} : null) : typeof ${a} === 'string' ? t(${a}) : null;`,
        );
        this.emit(`const ${r} = ${n} === null ? 2 : ${n} ${op} ${this.literal(value as number)} ? 1 : 0;`);
        return r;
      }
      case 'contains': {
        const v = this.konst(value);
        this.emit(
          `const ${r} = Array.isArray(${a}) ? (${a}.some((x) => e(x, ${v})) ? 1 : 0) : typeof ${a} === 'string' && typeof ${v} === 'string' ? (${a}.includes(${v}) ? 1 : 0) : 2;`,
        );
        return r;
      }
      case 'starts_with':
        this.emit(
          `const ${r} = typeof ${a} === 'string' ? (${a}.startsWith(${this.literal(value as string)}) ? 1 : 0) : 2;`,
        );
        return r;
      case 'matches': {
        // An RE2 matcher (pattern.ts): linear time. Validation refuses bad patterns; a stored one that no
        // longer compiles is an evaluation error (UNKNOWN).
        const re = compileMatcher(value);
        if (re === null) {
          this.emit(`const ${r} = 2;`);
          return r;
        }
        const k = this.konst(re);
        this.emit(
          `const ${r} = typeof ${a} !== 'string' || ${a}.length > ${PolicyLimits.maxRegexSubject} ? 2 : ${k}.test(${a}) ? 1 : 0;`,
        );
        return r;
      }
      default:
        this.emit(`const ${r} = 2;`);
        return r;
    }
  }

  /** `looseEquals(a, value)` specialised for the literal's type. */
  private equals(a: string, value: ConditionScalar): string {
    if (typeof value === 'string') {
      const asNumber = this.rt.toNumber(value);
      const numeric = asNumber === null ? 'false' : `${a} === ${this.literal(asNumber)}`;
      return `(typeof ${a} === 'string' ? ${a} === ${this.literal(value)} : typeof ${a} === 'number' ? ${numeric} : false)`;
    }
    if (typeof value === 'number')
      return `(typeof ${a} === 'number' ? ${a} === ${this.literal(value)} : typeof ${a} === 'string' ? t(${a}) === ${this.literal(value)} : false)`;
    if (typeof value === 'boolean') return `${a} === ${value}`;
    return `e(${a}, ${this.konst(value)})`;
  }
}

/**
 * Generates the condition's function. Throws when the runtime forbids code generation from strings
 * (`--disallow-code-generation-from-strings`); compile.ts then falls back to closures.
 * @example
 * const test = generateCondition({ field: 'action.amount', op: 'gt', value: 500 }, runtime);
 * test({ agent: {}, action: { type: 'refund', amount: 900 } }); // 1 (TRUE)
 */
export function generateCondition(c: Condition, rt: Runtime): CompiledCondition {
  const out = new Emitter(rt);
  const result = out.cond(c);
  const body = `"use strict";\nreturn function rule(i) {\n${out.lines.join('\n')}\nreturn ${result};\n};`;
  const factory = new Function('k', 'h', 't', 'e', body) as (
    k: unknown[],
    h: typeof hasOwn,
    t: Runtime['toNumber'],
    e: Runtime['looseEquals'],
  ) => CompiledCondition;
  return factory(out.consts, hasOwn, rt.toNumber, rt.looseEquals);
}
