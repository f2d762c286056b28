// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
import type { Condition, PolicyRule } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import type { EvalInput } from './condition-types.ts';
import { compilePolicySet, evaluate, type PolicyInput } from './policy-set.ts';

let seq = 0;
const policy = (rule: PolicyRule, extra: Partial<PolicyInput> = {}): PolicyInput => {
  seq++;
  return {
    id: `pol_${String(seq).padStart(3, '0')}`,
    name: `policy ${seq}`,
    priority: 0,
    status: 'active',
    rule,
    ...extra,
  };
};
const agent = {
  id: 'agt_support',
  name: 'SupportBot',
  type: 'support',
  tags: ['support'],
  environment: 'prod',
  team_id: 'team_1',
};
const req = (action: Record<string, unknown>, who = agent, context: Record<string, unknown> = {}): EvalInput => ({
  agent: who,
  action: { type: 'refund', ...action },
  context,
});
const refundOver = (n: number): Condition => ({
  all: [
    { field: 'action.type', op: 'eq', value: 'refund' },
    { field: 'action.amount', op: 'gt', value: n },
  ],
});

describe('fail closed', () => {
  const set = compilePolicySet([policy({ when: refundOver(500), then: 'block' })]);
  it('blocks a refund over the limit, allows one under it', () => {
    expect(evaluate(set, req({ amount: 900 })).decision).toBe('BLOCK');
    expect(evaluate(set, req({ amount: 20 })).decision).toBe('ALLOW');
  });
  it('a block rule whose field is missing or unusable blocks, and says which field', () => {
    const missing = evaluate(set, req({}));
    expect(missing.decision).toBe('BLOCK');
    expect(missing.unknownFields).toEqual(['action.amount']);
    expect(missing.reasons[0].unknown_fields).toEqual(['action.amount']);
    expect(evaluate(set, req({ amount: 'a lot' })).decision).toBe('BLOCK');
  });
  it('an approval rule fails closed too', () => {
    const s = compilePolicySet([
      policy({ when: { field: 'action.discount', op: 'gt', value: 10 }, then: 'require_approval' }),
    ]);
    expect(evaluate(s, req({ type: 'send_email' })).decision).toBe('REQUIRE_APPROVAL');
  });
  it('an allow rule does not match on unknown (default-deny stays BLOCK)', () => {
    const s = compilePolicySet([policy({ when: { field: 'action.amount', op: 'lt', value: 100 }, then: 'allow' })]);
    expect(evaluate(s, req({ amount: 5 }), { defaultDeny: true }).decision).toBe('ALLOW');
    const r = evaluate(s, req({}), { defaultDeny: true });
    expect(r.decision).toBe('BLOCK');
    expect(r.reasons).toEqual([]);
  });
  it('a log_only rule does not report on unknown', () => {
    const s = compilePolicySet([policy({ when: { field: 'action.amount', op: 'lt', value: 100 }, then: 'log_only' })]);
    expect(evaluate(s, req({})).monitors).toEqual([]);
    expect(evaluate(s, req({ amount: 1 })).monitors).toHaveLength(1);
  });
  it('a definite match reports no unknown fields', () => {
    const r = evaluate(set, req({ amount: 900 }));
    expect(r.unknownFields).toBeUndefined();
    expect(r.reasons[0].unknown_fields).toBeUndefined();
  });
});

describe('combination order', () => {
  const always: Condition = { field: 'action.type', op: 'exists' };
  const block = policy({ when: always, then: 'block', message: 'blocked' }, { priority: 1 });
  const approvalLow = policy(
    { when: always, then: 'require_approval', approvers: { roles: ['admin'] }, message: 'low' },
    { priority: 5 },
  );
  const approvalHigh = policy(
    { when: always, then: 'require_approval', approvers: { roles: ['team_lead'], team_id: 't' }, message: 'high' },
    { priority: 90 },
  );
  const allow = policy({ when: always, then: 'allow', message: 'fine' }, { priority: 1000 });

  it('block beats approval beats allow regardless of priority', () => {
    const all = compilePolicySet([allow, approvalLow, block, approvalHigh]);
    const r = evaluate(all, req({}));
    expect(r.decision).toBe('BLOCK');
    expect(r.reasons.map((x) => x.policy_id)).toEqual([block.id, approvalHigh.id, approvalLow.id, allow.id]);
    expect(r.primary?.message).toBe('blocked');
    expect(evaluate(compilePolicySet([allow, approvalLow, approvalHigh]), req({})).decision).toBe('REQUIRE_APPROVAL');
    expect(evaluate(compilePolicySet([allow]), req({})).decision).toBe('ALLOW');
  });
  it('priority picks the message and approvers within the winning effect', () => {
    const r = evaluate(compilePolicySet([approvalLow, allow, approvalHigh]), req({}));
    expect(r.primary).toMatchObject({
      policy_id: approvalHigh.id,
      message: 'high',
      approvers: { roles: ['team_lead'], team_id: 't' },
    });
  });
  it('equal priorities are ordered by policy id, so the answer is deterministic', () => {
    const a = policy({ when: always, then: 'block', message: 'a' }, { id: 'pol_a' });
    const b = policy({ when: always, then: 'block', message: 'b' }, { id: 'pol_b' });
    expect(evaluate(compilePolicySet([b, a]), req({})).primary?.message).toBe('a');
  });
  it('nothing matching: ALLOW, or BLOCK with default-deny', () => {
    const s = compilePolicySet([policy({ when: refundOver(500), then: 'block' })]);
    expect(evaluate(s, req({ amount: 1 }))).toMatchObject({ decision: 'ALLOW', primary: null, reasons: [] });
    expect(evaluate(s, req({ amount: 1 }), { defaultDeny: true }).decision).toBe('BLOCK');
    expect(evaluate(compilePolicySet([]), req({})).decision).toBe('ALLOW');
  });
  it('only active policies are in the set', () => {
    const s = compilePolicySet([policy({ when: always, then: 'block' }, { status: 'inactive' })]);
    expect(s.size).toBe(0);
    expect(evaluate(s, req({})).decision).toBe('ALLOW');
  });
});

describe('monitor mode', () => {
  it('log_only rules are reported as monitors and never change the decision', () => {
    const monitor = policy({ when: refundOver(100), then: 'log_only', message: 'would flag' }, { priority: 10 });
    const s = compilePolicySet([monitor]);
    const r = evaluate(s, req({ amount: 900 }));
    expect(r.decision).toBe('ALLOW');
    expect(r.reasons).toEqual([]);
    expect(r.monitors).toEqual([
      { policy_id: monitor.id, name: monitor.name, effect: 'log_only', priority: 10, message: 'would flag' },
    ]);
    expect(evaluate(s, req({ amount: 900 }), { defaultDeny: true }).decision).toBe('BLOCK');
  });
  it('a monitor beside a block leaves the block', () => {
    const s = compilePolicySet([
      policy({ when: refundOver(100), then: 'log_only' }),
      policy({ when: refundOver(500), then: 'block' }),
    ]);
    const r = evaluate(s, req({ amount: 900 }));
    expect(r.decision).toBe('BLOCK');
    expect(r.monitors).toHaveLength(1);
    expect(r.reasons).toHaveLength(1);
  });
});

describe('indexing', () => {
  const pinned = (name: string, type: string, extra: Condition[] = []): Condition => ({
    all: [...extra, { field: 'agent.name', op: 'eq', value: name }, { field: 'action.type', op: 'eq', value: type }],
  });

  it('a rule pinned to another agent or action type is never evaluated', () => {
    let reads = 0;
    const spyAction = (type: string) => {
      const action: Record<string, unknown> = { type };
      // The spied field comes first in the rules, so evaluating any of them would read it.
      Object.defineProperty(action, 'amount', {
        enumerable: true,
        get: () => {
          reads++;
          return 5;
        },
      });
      return action as EvalInput['action'];
    };
    const amount: Condition = { field: 'action.amount', op: 'gt', value: 1 };
    const s = compilePolicySet([
      policy({ when: pinned('OutreachBot', 'refund', [amount]), then: 'block' }),
      policy({ when: pinned('SupportBot', 'send_email', [amount]), then: 'block' }),
      policy({
        when: { all: [amount, { field: 'agent.id', op: 'in', value: ['agt_other', 'agt_x'] }] },
        then: 'block',
      }),
      policy({
        when: { all: [amount, { field: 'action.type', op: 'in', value: ['charge', 'payout'] }] },
        then: 'block',
      }),
    ]);
    const r = evaluate(s, { agent, action: spyAction('refund') });
    expect(r.decision).toBe('ALLOW');
    expect(r.evaluated).toBe(0);
    expect(reads).toBe(0);
    // The same rules do run for the agent and type they pin.
    const hit = evaluate(s, { agent: { ...agent, name: 'OutreachBot' }, action: spyAction('refund') });
    expect(hit.decision).toBe('BLOCK');
    expect(hit.evaluated).toBe(1);
    expect(reads).toBe(1);
  });

  it('runs pinned, type-only and wildcard rules that apply, once each', () => {
    const s = compilePolicySet([
      policy({ when: pinned('SupportBot', 'refund'), then: 'log_only' }),
      policy({ when: { field: 'agent.name', op: 'in', value: ['SupportBot', 'Other'] }, then: 'log_only' }),
      policy({ when: { field: 'agent.id', op: 'eq', value: 'agt_support' }, then: 'log_only' }),
      policy({ when: { field: 'action.type', op: 'eq', value: 'refund' }, then: 'log_only' }),
      policy({ when: { field: 'agent.environment', op: 'eq', value: 'prod' }, then: 'log_only' }),
      policy({ when: { any: [{ field: 'agent.name', op: 'eq', value: 'Other' }] }, then: 'log_only' }),
    ]);
    const r = evaluate(s, req({}));
    expect(r.evaluated).toBe(6);
    expect(r.monitors).toHaveLength(5);
  });

  it('a request without a string agent name, id or action type scans every rule', () => {
    const s = compilePolicySet([policy({ when: pinned('SupportBot', 'refund'), then: 'block' })]);
    const r = evaluate(s, { agent: { id: 'agt_support' }, action: { type: 'refund' } });
    // agent.name is missing: the pinned comparison is UNKNOWN, so the block rule fails closed.
    expect(r.decision).toBe('BLOCK');
    expect(r.evaluated).toBe(1);
  });

  it('numeric pins are not indexed but still match numerically', () => {
    const s = compilePolicySet([
      policy({ when: { field: 'action.type', op: 'eq', value: 7 as unknown as string }, then: 'block' }),
    ]);
    expect(evaluate(s, req({ type: '7' })).decision).toBe('BLOCK');
    expect(evaluate(s, req({ type: '8' })).decision).toBe('ALLOW');
  });

  it('compiling returns a new frozen set; an old set keeps answering as before', () => {
    const a = compilePolicySet([policy({ when: refundOver(500), then: 'block' })]);
    const b = compilePolicySet([]);
    expect(Object.isFrozen(a)).toBe(true);
    expect(evaluate(a, req({ amount: 900 })).decision).toBe('BLOCK');
    expect(evaluate(b, req({ amount: 900 })).decision).toBe('ALLOW');
  });
});
