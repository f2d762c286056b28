// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
import {
  compilePolicyPattern,
  conditionErrors,
  EvaluateBody,
  PolicyBody,
  regexProblem,
  validatePolicy,
} from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';

const body = (when: unknown, rule: Record<string, unknown> = {}) => ({
  name: 'p',
  rule: { when, then: 'block', ...rule },
});
const paths = (input: unknown) => validatePolicy(input).errors.map((e) => e.path);
const messageAt = (input: unknown, path: string) => validatePolicy(input).errors.find((e) => e.path === path)?.message;

describe('policy validation', () => {
  it('accepts the documented example and defaults status and priority', () => {
    const p = PolicyBody.parse(body({ field: 'action.amount', op: 'gt', value: 500 }));
    expect(p).toMatchObject({ status: 'inactive', priority: 0 });
    expect(validatePolicy(body({ all: [{ field: 'context.hour', op: 'gte', value: 18 }] })).valid).toBe(true);
  });

  it('reports the path of every error, including deep ones', () => {
    const input = {
      name: 'broken',
      rule: {
        when: {
          all: [
            { field: 'agent.name', op: 'eq', value: 'A' },
            { field: 'action.amount', op: 'bigger', value: 1 },
            {
              any: [
                { not: { field: 'agent.colour', op: 'eq', value: 'x' } },
                { field: 'action.n', op: 'gt', value: 'ten' },
              ],
            },
          ],
        },
        then: 'explode',
      },
    };
    expect(paths(input).sort()).toEqual(
      ['rule.then', 'rule.when.all.1.op', 'rule.when.all.2.any.0.not.field', 'rule.when.all.2.any.1.value'].sort(),
    );
  });

  it('an unknown operator lists the valid ones', () => {
    const m = messageAt(body({ field: 'action.amount', op: 'bigger', value: 1 }), 'rule.when.op');
    expect(m).toContain('"bigger"');
    expect(m).toContain('eq, ne, in, not_in, gt, gte, lt, lte, contains, starts_with, matches, exists');
  });

  it.each([
    ['an unknown field', { field: 'agent.colour', op: 'eq', value: 'x' }, 'rule.when.field', 'agent.name'],
    ['a bare root', { field: 'action', op: 'eq', value: 'x' }, 'rule.when.field', 'needs an attribute name'],
    ['an unknown root', { field: 'actor.name', op: 'eq', value: 'x' }, 'rule.when.field', 'unknown field'],
    ['a prototype path', { field: 'action.__proto__.x', op: 'exists' }, 'rule.when.field', 'not allowed'],
    ['a missing op', { field: 'action.x', value: 1 }, 'rule.when.op', 'required'],
    ['an unknown key', { field: 'action.x', op: 'exists', valu: 1 }, 'rule.when.valu', 'unknown key'],
    ['mixed shapes', { all: [{ field: 'action.x', op: 'exists' }], field: 'x' }, 'rule.when', 'exactly one'],
    ['an empty all', { all: [] }, 'rule.when.all', 'at least one'],
    ['any that is not a list', { any: { field: 'action.x', op: 'exists' } }, 'rule.when.any', 'list'],
    ['a non-object condition', 'action.x > 1', 'rule.when', 'must be an object'],
    ['no condition', undefined, 'rule.when', 'required'],
    ['gt with a string', { field: 'action.x', op: 'gt', value: '5' }, 'rule.when.value', 'number'],
    ['eq without a value', { field: 'action.x', op: 'eq' }, 'rule.when.value', 'needs a value'],
    [
      'eq with an object',
      { field: 'action.x', op: 'eq', value: { a: 1 } },
      'rule.when.value',
      'string, a finite number',
    ],
    ['in with an empty list', { field: 'action.x', op: 'in', value: [] }, 'rule.when.value', 'non-empty list'],
    ['in with a bad item', { field: 'action.x', op: 'in', value: ['a', null] }, 'rule.when.value.1', 'each value'],
    ['exists with a string', { field: 'action.x', op: 'exists', value: 'yes' }, 'rule.when.value', 'true/false'],
    ['starts_with empty', { field: 'action.x', op: 'starts_with', value: '' }, 'rule.when.value', 'non-empty'],
    [
      'an invalid regex',
      { field: 'action.x', op: 'matches', value: '(a' },
      'rule.when.value',
      'not a valid regular expression',
    ],
    ['a lookahead (RE2 has none)', { field: 'action.x', op: 'matches', value: 'a(?=b)' }, 'rule.when.value', 'RE2'],
  ])('%s', (_, when, path, text) => {
    expect(messageAt(body(when), path)).toContain(text);
  });

  it('limits depth and size', () => {
    let deep: unknown = { field: 'action.x', op: 'exists' };
    for (let i = 0; i < 20; i++) deep = { not: deep };
    expect(validatePolicy(body(deep)).errors[0].message).toContain('nested too deeply');
    const wide = { all: Array.from({ length: 101 }, () => ({ field: 'action.x', op: 'exists' })) };
    expect(messageAt(body(wide), 'rule.when.all')).toContain('at most 100');
  });

  it('rule fields: approvers only on approval rules, viewers never approve, timeout bounds', () => {
    const ok = { field: 'action.x', op: 'exists' };
    expect(messageAt(body(ok, { approvers: { roles: ['admin'] } }), 'rule.approvers')).toContain('only applies');
    const approval = (extra: Record<string, unknown>) => body(ok, { then: 'require_approval', ...extra });
    expect(
      validatePolicy(approval({ approvers: { roles: ['team_lead'], team_id: 't1' }, approval_timeout_s: 3600 })).valid,
    ).toBe(true);
    expect(messageAt(approval({ approvers: { roles: ['viewer'] } }), 'rule.approvers.roles.0')).toContain(
      'viewers never approve',
    );
    expect(paths(approval({ approval_timeout_s: 30 }))).toEqual(['rule.approval_timeout_s']);
    expect(paths(approval({ approval_timeout_s: 31 * 86_400 }))).toEqual(['rule.approval_timeout_s']);
    expect(paths(body(ok, { approvers_: {} }))).toEqual(['rule']);
  });

  it('conditionErrors works on a bare condition with relative paths', () => {
    expect(conditionErrors({ not: { field: 'action.x', op: 'nope' } }).map((e) => e.path)).toEqual(['not.op']);
  });
});

describe('regex policy', () => {
  // Patterns run on RE2 (linear time): what it cannot run is refused, and nested repetition is harmless.
  it.each([
    '(a)\\1',
    '(?<n>a)\\k<n>',
    'a(?=b)',
    'a(?!b)',
    '(?<=a)b',
    '(?<!a)b',
    '(a',
    '(?:a{0,1000}){0,1}a{0,1000}$',
    'a'.repeat(201),
  ])('refuses %s', (p) => {
    expect(regexProblem(p)).not.toBeNull();
  });
  it.each([
    '^S',
    '@(gmail|yahoo)\\.com$',
    '\\d{4}-\\d{2}',
    '(ab)+',
    '(a|b)?c+',
    '[(+*)]+',
    '(?:foo)bar*',
    '\\(a+\\)+',
    '(a?)?',
    '^(a+)+$',
    '(\\w*\\s?)*',
    '^(.|.)*Q$',
    '\\u00e9t\\u00e9',
    '(?<word>[a-z]+)-\\d+',
  ])('accepts %s', (p) => {
    expect(regexProblem(p)).toBeNull();
  });
  it('keeps JavaScript semantics for what both engines accept', () => {
    const cases: [string, string][] = [
      ['ABC', 'abc'],
      ['^a.b$', 'a\nb'],
      ['b$', 'ab\n'],
      ['^b', 'a\nb'],
      ['\\u00e9', 'caf\u00e9'],
      ['\\bfoo\\b', 'a foo b'],
      ['\\d{3}-\\d{4}', 'call 555-1234'],
      ['[^\\]]+', ']]]'],
    ];
    for (const [p, s] of cases) expect([p, compilePolicyPattern(p).test(s)]).toEqual([p, new RegExp(p).test(s)]);
  });
});

describe('evaluate body', () => {
  it('requires an action with a type and keeps other attributes', () => {
    expect(EvaluateBody.safeParse({ agent: 'OutreachBot' }).success).toBe(false);
    expect(EvaluateBody.safeParse({ agent: 'OutreachBot', action: { discount: 5 } }).success).toBe(false);
    const ok = EvaluateBody.parse({ agent: 'OutreachBot', action: { type: 'send_email', discount: 15 }, run_id: 'r1' });
    expect(ok.action).toEqual({ type: 'send_email', discount: 15 });
  });
});
