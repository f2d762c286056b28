// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
/**
 * Property: for random policy sets and random requests, the compiled, indexed evaluator decides exactly
 * like the plain interpreter: same decision, same reasons in the same order, same monitors.
 * The universe of fields and values is small on purpose, so conditions often hit, pins often apply, and
 * missing fields, nulls, numeric strings and wrong types come up in most runs.
 */
import { type Condition, type ConditionScalar, PolicyRuleSchema } from '@agentops-hub/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCondition, compileConditionClosures } from './compile.ts';
import type { EvalInput } from './condition-types.ts';
import { interpretPolicies } from './interpreter.ts';
import { compilePolicySet, evaluate, type PolicyInput } from './policy-set.ts';

const NAMES = ['SupportBot', 'OutreachBot', 'Other'];
const IDS = ['agt_1', 'agt_2'];
const TYPES = ['refund', 'send_email', '7'];
const FIELDS = [
  'agent.name',
  'agent.id',
  'agent.type',
  'agent.tags',
  'agent.environment',
  'agent.team_id',
  'action.type',
  'action.amount',
  'action.to',
  'action.meta.x',
  // Names that objects or arrays inherit: only own properties count (`toString` is missing, an array's
  // `length` is present, `map` is not).
  'action.toString',
  'action.meta.length',
  'action.meta.map',
  'context.hour',
];

const scalar: fc.Arbitrary<ConditionScalar> = fc.constantFrom<ConditionScalar>(
  ...NAMES,
  ...IDS,
  ...TYPES,
  'support',
  'prod',
  '10',
  'x@a.test',
  'a',
  0,
  5,
  7,
  10,
  500,
  true,
  false,
);
const number = fc.constantFrom(-1, 0, 2.5, 5, 10, 500);

const leaf: fc.Arbitrary<Condition> = fc.constantFrom(...FIELDS).chain((field) =>
  fc.oneof(
    fc.record({
      field: fc.constant(field),
      op: fc.constantFrom('eq' as const, 'ne' as const, 'contains' as const),
      value: scalar,
    }),
    fc.record({
      field: fc.constant(field),
      op: fc.constantFrom('in' as const, 'not_in' as const),
      value: fc.array(scalar, { minLength: 1, maxLength: 3 }),
    }),
    fc.record({
      field: fc.constant(field),
      op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
      value: number,
    }),
    fc.record({
      field: fc.constant(field),
      op: fc.constant('starts_with' as const),
      value: fc.constantFrom('S', 'x@', 'ref', '1', 'p'),
    }),
    fc.record({
      field: fc.constant(field),
      op: fc.constant('matches' as const),
      value: fc.constantFrom('^S', 'Bot$', '\\d', '@a\\.test$', 'e'),
    }),
    fc.constant({ field, op: 'exists' as const }),
    fc.record({ field: fc.constant(field), op: fc.constant('exists' as const), value: fc.boolean() }),
  ),
);

const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('c') }),
  ),
})).c;

/** Pins like real policies: agent.name / agent.id / action.type with eq or in, mixed into a top-level all. */
const pin = (field: string, values: string[]): fc.Arbitrary<Condition> =>
  fc.oneof(
    fc.constantFrom(...values).map((value) => ({ field, op: 'eq' as const, value })),
    fc.subarray(values, { minLength: 1 }).map((value) => ({ field, op: 'in' as const, value })),
  );
const when: fc.Arbitrary<Condition> = fc.oneof(
  condition,
  pin('agent.name', NAMES),
  fc
    .tuple(
      fc.option(pin('agent.name', NAMES), { nil: undefined }),
      fc.option(pin('agent.id', IDS), { nil: undefined }),
      fc.option(pin('action.type', TYPES), { nil: undefined }),
      fc.array(condition, { maxLength: 2 }),
    )
    .chain(([a, b, c, rest]) => {
      const kids = [a, b, c, ...rest].filter((x): x is Condition => x !== undefined);
      return kids.length === 0
        ? condition
        : fc.shuffledSubarray(kids, { minLength: kids.length }).map((all) => ({ all }));
    }),
);

const policies: fc.Arbitrary<PolicyInput[]> = fc
  .array(
    fc.record({
      priority: fc.integer({ min: -2, max: 2 }),
      status: fc.constantFrom('active', 'active', 'active', 'inactive'),
      rule: fc.record({
        when,
        then: fc.constantFrom('block' as const, 'require_approval' as const, 'allow' as const, 'log_only' as const),
      }),
    }),
    { maxLength: 12 },
  )
  .map((ps) => ps.map((p, i) => ({ ...p, id: `pol_${String(i).padStart(2, '0')}`, name: `p${i}` })));

/** Field values with every awkward shape: absent keys, null, numbers as strings, arrays, objects. */
const anyValue = fc.constantFrom<unknown>(
  null,
  0,
  5,
  '5',
  '10',
  600,
  'lots',
  'x@a.test',
  'SupportBot',
  true,
  [5],
  ['a', 'support'],
  { x: 1 },
);
const input: fc.Arbitrary<EvalInput> = fc.record({
  agent: fc.record(
    {
      id: fc.oneof(fc.constantFrom(...IDS), anyValue),
      name: fc.oneof(fc.constantFrom(...NAMES), anyValue),
      type: fc.oneof(fc.constantFrom('support', 'outreach'), anyValue),
      tags: fc.oneof(fc.subarray(['support', 'a', 'prod', '10']), anyValue),
      environment: fc.oneof(fc.constantFrom('prod', 'test'), anyValue),
      team_id: anyValue,
    },
    { requiredKeys: [] },
  ),
  action: fc.record(
    {
      type: fc.oneof(fc.constantFrom(...TYPES), anyValue),
      amount: anyValue,
      to: anyValue,
      meta: fc.oneof(fc.record({ x: anyValue }, { requiredKeys: [] }), anyValue),
    },
    { requiredKeys: [] },
  ),
  context: fc.oneof(
    fc.constant(undefined),
    fc.record({ hour: fc.oneof(fc.integer({ min: 0, max: 23 }), anyValue) }, { requiredKeys: [] }),
  ),
});

describe('compiled evaluator vs reference interpreter', () => {
  it('generated rules are valid policies', () => {
    fc.assert(
      fc.property(policies, (ps) => {
        for (const p of ps) expect(PolicyRuleSchema.safeParse(p.rule).error?.issues).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('the generated code and the closure compiler agree with each other on every condition', () => {
    fc.assert(
      fc.property(when, fc.array(input, { minLength: 1, maxLength: 8 }), (c, inputs) => {
        const generated = compileCondition(c);
        const closures = compileConditionClosures(c);
        for (const i of inputs) expect(generated(i)).toBe(closures(i));
      }),
      { numRuns: 3000 },
    );
  });

  it('agree on decision, reasons (in order) and monitors', () => {
    fc.assert(
      fc.property(
        policies,
        fc.array(input, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (ps, inputs, defaultDeny) => {
          const set = compilePolicySet(ps);
          for (const i of inputs) {
            const want = interpretPolicies(ps, i, { defaultDeny });
            const got = evaluate(set, i, { defaultDeny });
            expect(got.decision).toBe(want.decision);
            expect(got.reasons.map((r) => r.policy_id)).toEqual(want.reasons.map((r) => r.policy_id));
            expect(got.monitors.map((r) => r.policy_id)).toEqual(want.monitors.map((r) => r.policy_id));
            expect(got.primary?.policy_id).toBe(want.reasons[0]?.policy_id);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
