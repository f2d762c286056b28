import type { Condition, ConditionOp, ConditionScalar } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import { compileCondition, ruleMatches } from './compile.ts';
import { type EvalInput, FALSE, TRUE, type Tri, UNKNOWN } from './condition-types.ts';
import { interpretCondition } from './interpreter.ts';

const agent = {
  id: 'agt_1',
  name: 'SupportBot',
  type: 'support',
  tags: ['support', 'tier1'],
  environment: 'prod',
  team_id: null,
};
const input = (action: Record<string, unknown> = {}, context: Record<string, unknown> = {}): EvalInput => ({
  agent,
  action: { type: 'refund', ...action },
  context,
});
const NAMES = { [FALSE]: 'false', [TRUE]: 'true', [UNKNOWN]: 'unknown' } as const;

/** Runs the compiled closure and the interpreter, checks they agree, and returns the truth value. */
function truth(c: Condition, i: EvalInput): string {
  const compiled = NAMES[compileCondition(c)(i) as Tri];
  expect(interpretCondition(c, i)).toBe(compiled);
  return compiled;
}
const leaf = (field: string, op: ConditionOp, value?: ConditionScalar | ConditionScalar[]): Condition =>
  value === undefined ? { field, op } : { field, op, value };

describe('operators', () => {
  it.each([
    ['eq string', leaf('agent.name', 'eq', 'SupportBot'), input(), 'true'],
    ['eq string, other', leaf('agent.name', 'eq', 'OutreachBot'), input(), 'false'],
    ['eq number', leaf('action.amount', 'eq', 500), input({ amount: 500 }), 'true'],
    ['eq numeric string vs number', leaf('action.amount', 'eq', 500), input({ amount: '500' }), 'true'],
    ['eq number vs numeric string value', leaf('action.amount', 'eq', '500'), input({ amount: 500 }), 'true'],
    ['eq boolean', leaf('action.urgent', 'eq', true), input({ urgent: true }), 'true'],
    ['eq boolean vs string is false, not equal', leaf('action.urgent', 'eq', true), input({ urgent: 'true' }), 'false'],
    ['eq on an object is unknown', leaf('action.meta', 'eq', 'x'), input({ meta: { a: 1 } }), 'unknown'],
    ['eq on an array is unknown', leaf('agent.tags', 'eq', 'support'), input(), 'unknown'],
    ['ne', leaf('agent.environment', 'ne', 'staging'), input(), 'true'],
    ['ne equal', leaf('agent.environment', 'ne', 'prod'), input(), 'false'],
    ['in scalar', leaf('action.type', 'in', ['refund', 'charge']), input(), 'true'],
    ['in scalar, absent from list', leaf('action.type', 'in', ['charge']), input(), 'false'],
    ['in numbers vs numeric string', leaf('action.amount', 'in', [1, 2, 3]), input({ amount: '2' }), 'true'],
    ['in on array: overlap', leaf('agent.tags', 'in', ['tier1', 'vip']), input(), 'true'],
    ['in on array: no overlap', leaf('agent.tags', 'in', ['vip']), input(), 'false'],
    ['in on an object is unknown', leaf('action.meta', 'in', ['x']), input({ meta: {} }), 'unknown'],
    ['not_in', leaf('action.type', 'not_in', ['charge']), input(), 'true'],
    ['not_in listed', leaf('action.type', 'not_in', ['refund']), input(), 'false'],
    ['not_in on array: overlap', leaf('agent.tags', 'not_in', ['support']), input(), 'false'],
    ['gt', leaf('action.amount', 'gt', 500), input({ amount: 900 }), 'true'],
    ['gt equal', leaf('action.amount', 'gt', 500), input({ amount: 500 }), 'false'],
    ['gte equal', leaf('action.amount', 'gte', 500), input({ amount: 500 }), 'true'],
    ['lt', leaf('action.amount', 'lt', 500), input({ amount: 20 }), 'true'],
    ['lte', leaf('action.amount', 'lte', 500), input({ amount: 501 }), 'false'],
    ['gt numeric string', leaf('action.amount', 'gt', 500), input({ amount: '900.5' }), 'true'],
    ['gt exponent string', leaf('action.amount', 'gt', 500), input({ amount: '1e3' }), 'true'],
    ['gt word is unknown', leaf('action.amount', 'gt', 500), input({ amount: 'lots' }), 'unknown'],
    ['gt hex string is unknown', leaf('action.amount', 'gt', 5), input({ amount: '0x10' }), 'unknown'],
    ['gt padded string is unknown', leaf('action.amount', 'gt', 5), input({ amount: ' 10' }), 'unknown'],
    ['gt empty string is unknown', leaf('action.amount', 'gt', -1), input({ amount: '' }), 'unknown'],
    ['gt boolean is unknown', leaf('action.amount', 'gt', 0), input({ amount: true }), 'unknown'],
    ['gt array is unknown', leaf('action.amount', 'gt', 0), input({ amount: [1] }), 'unknown'],
    ['contains on array', leaf('agent.tags', 'contains', 'tier1'), input(), 'true'],
    ['contains on array, absent', leaf('agent.tags', 'contains', 'vip'), input(), 'false'],
    ['contains numbers in array', leaf('action.ids', 'contains', 7), input({ ids: ['7', 8] }), 'true'],
    ['contains substring', leaf('action.to', 'contains', '@competitor'), input({ to: 'x@competitor.com' }), 'true'],
    ['contains substring, absent', leaf('action.to', 'contains', '@competitor'), input({ to: 'x@b.test' }), 'false'],
    ['contains number in string is unknown', leaf('action.to', 'contains', 5), input({ to: 'a5' }), 'unknown'],
    ['contains on number is unknown', leaf('action.amount', 'contains', '5'), input({ amount: 5 }), 'unknown'],
    ['starts_with', leaf('action.path', 'starts_with', '/etc/'), input({ path: '/etc/passwd' }), 'true'],
    ['starts_with, no', leaf('action.path', 'starts_with', '/etc/'), input({ path: '/tmp/x' }), 'false'],
    ['starts_with on number is unknown', leaf('action.path', 'starts_with', '1'), input({ path: 12 }), 'unknown'],
    ['matches', leaf('action.to', 'matches', '@(gmail|yahoo)\\.com$'), input({ to: 'a@gmail.com' }), 'true'],
    ['matches, no', leaf('action.to', 'matches', '@(gmail|yahoo)\\.com$'), input({ to: 'a@corp.com' }), 'false'],
    ['matches on number is unknown', leaf('action.to', 'matches', '\\d'), input({ to: 5 }), 'unknown'],
    [
      'matches on a huge string is unknown',
      leaf('action.to', 'matches', 'a'),
      input({ to: 'a'.repeat(5000) }),
      'unknown',
    ],
    ['exists', leaf('action.amount', 'exists'), input({ amount: 0 }), 'true'],
    ['exists missing', leaf('action.amount', 'exists'), input(), 'false'],
    ['exists null counts as missing', leaf('action.amount', 'exists'), input({ amount: null }), 'false'],
    ['exists false on missing', leaf('action.amount', 'exists', false), input(), 'true'],
    ['exists false on present', leaf('action.amount', 'exists', false), input({ amount: 1 }), 'false'],
    ['nested action path', leaf('action.customer.tier', 'eq', 'gold'), input({ customer: { tier: 'gold' } }), 'true'],
    ['array index in a path', leaf('action.items.0.sku', 'eq', 'A1'), input({ items: [{ sku: 'A1' }] }), 'true'],
    ['context field', leaf('context.hour', 'gte', 18), input({}, { hour: 19 }), 'true'],
    ['agent.team_id null is missing', leaf('agent.team_id', 'eq', 't1'), input(), 'unknown'],
  ] as const)('%s', (_, c, i, want) => {
    expect(truth(c, i)).toBe(want);
  });

  it('reads own properties only: inherited names are missing', () => {
    expect(truth(leaf('action.toString', 'exists'), input())).toBe('false');
    expect(truth(leaf('action.type.length', 'exists'), input())).toBe('false');
  });

  it('every missing field is unknown except for exists', () => {
    const ops: [ConditionOp, ConditionScalar | ConditionScalar[]][] = [
      ['eq', 1],
      ['ne', 1],
      ['in', [1]],
      ['not_in', [1]],
      ['gt', 1],
      ['gte', 1],
      ['lt', 1],
      ['lte', 1],
      ['contains', 'a'],
      ['starts_with', 'a'],
      ['matches', 'a'],
    ];
    for (const [op, value] of ops) {
      expect(truth(leaf('action.missing', op, value), input()), op).toBe('unknown');
      expect(truth(leaf('action.deep.missing', op, value), input({ deep: 5 })), op).toBe('unknown');
    }
    expect(truth(leaf('context.missing', 'exists'), { agent, action: { type: 'x' } })).toBe('false');
  });
});

describe('three-valued logic (Kleene)', () => {
  const T = leaf('agent.name', 'eq', 'SupportBot');
  const F = leaf('agent.name', 'eq', 'Other');
  const U = leaf('action.missing', 'gt', 1);
  const i = input();
  it.each([
    ['all T T', { all: [T, T] }, 'true'],
    ['all T U', { all: [T, U] }, 'unknown'],
    ['all U F', { all: [U, F] }, 'false'],
    ['all F U', { all: [F, U] }, 'false'],
    ['any F U', { any: [F, U] }, 'unknown'],
    ['any U T', { any: [U, T] }, 'true'],
    ['any F F', { any: [F, F] }, 'false'],
    ['not T', { not: T }, 'false'],
    ['not F', { not: F }, 'true'],
    ['not U', { not: U }, 'unknown'],
    ['not (all T U)', { not: { all: [T, U] } }, 'unknown'],
    ['single child', { all: [U] }, 'unknown'],
    ['nested', { any: [{ all: [T, { not: F }] }, U] }, 'true'],
  ] as const)('%s', (_, c, want) => {
    expect(truth(c as Condition, i)).toBe(want);
  });

  it('block and require_approval fail closed; allow and log_only do not', () => {
    expect(ruleMatches('block', UNKNOWN)).toBe(true);
    expect(ruleMatches('require_approval', UNKNOWN)).toBe(true);
    expect(ruleMatches('allow', UNKNOWN)).toBe(false);
    expect(ruleMatches('log_only', UNKNOWN)).toBe(false);
    for (const e of ['block', 'require_approval', 'allow', 'log_only'] as const) {
      expect(ruleMatches(e, TRUE)).toBe(true);
      expect(ruleMatches(e, FALSE)).toBe(false);
    }
  });

  it('a pattern that no longer compiles evaluates to unknown', () => {
    expect(compileCondition(leaf('action.to', 'matches', '(unclosed'))(input({ to: 'x' }))).toBe(UNKNOWN);
  });

  it('values that look like code stay data in the generated function', () => {
    const hostile = ['"); throw new Error("x"); ("', "'; globalThis.pwned = 1; '", `\u2028\u2029\`\${1}\``, '\\"'];
    for (const value of hostile) {
      expect(truth(leaf('action.note', 'eq', value), input({ note: value }))).toBe('true');
      expect(truth(leaf('action.note', 'starts_with', value), input({ note: `${value}!` }))).toBe('true');
      expect(truth(leaf('action.note', 'in', [value, 'x']), input({ note: value }))).toBe('true');
      expect(truth(leaf('action.note', 'eq', value), input({ note: 'other' }))).toBe('false');
    }
    expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
  });
});
