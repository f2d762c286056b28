import type { RunDetail } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import { buildSteps, timelineBounds } from './replay-steps';

const T0 = Date.parse('2026-01-31T12:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function run(patch: Partial<RunDetail>): RunDetail {
  return {
    id: 'run_1',
    agent_id: 'agt_1',
    agent_name: 'SupportBot',
    status: 'completed',
    started_at: at(0),
    ended_at: at(5000),
    latency_ms: 5000,
    environment: 'prod',
    external_ref: null,
    input: null,
    output: null,
    error: null,
    input_tokens: 0,
    output_tokens: 0,
    cost_usd: 0,
    metadata: {},
    events: [],
    decisions: [],
    approvals: [],
    ...patch,
  } as RunDetail;
}

const event = (id: string, type: string, ms: number, payload: Record<string, unknown>, extra = {}) => ({
  id,
  run_id: 'run_1',
  type,
  timestamp: at(ms),
  duration_ms: null,
  payload,
  ...extra,
});

describe('buildSteps: the replay timeline', () => {
  it('names the action of an SDK guard() step instead of "[object Object]"', () => {
    const steps = buildSteps(
      run({
        events: [
          event('e1', 'external_action', 100, {
            status: 'done',
            action: { type: 'issue_refund', order_id: 'A-1001', amount: 250, currency: 'usd' },
          }),
        ],
      }),
    );
    expect(steps).toHaveLength(1);
    expect(steps[0]?.title).toBe('External action · issue a refund of $250.00 on order A-1001');
    expect(steps[0]?.subtitle).toBe('done');
    expect(steps.map((s) => `${s.title} ${s.subtitle}`).join()).not.toContain('[object');
  });

  it('reads flat and string-named actions, and a failed action with its error', () => {
    const steps = buildSteps(
      run({
        events: [
          event('e1', 'external_action', 100, { type: 'send_email', to: 'a@b.test' }),
          event('e2', 'external_action', 200, { action: 'deploy', status: 'failed', error: { message: 'denied' } }),
        ],
      }),
    );
    expect(steps.map((s) => s.title)).toEqual([
      'External action · send an email to a@b.test',
      'External action · deploy',
    ]);
    expect(steps[1]?.subtitle).toBe('failed · denied');
  });

  it('shows one model call with sub-cent precision and its tokens', () => {
    const [step] = buildSteps(
      run({
        events: [
          event(
            'e1',
            'llm_call',
            100,
            {},
            { model: 'gpt-4o-mini', input_tokens: 300, output_tokens: 80, cost_usd: 0.0000421 },
          ),
        ],
      }),
    );
    expect(step?.title).toBe('LLM call · gpt-4o-mini');
    expect(step?.subtitle).toBe('380 tokens · $0.000042');
  });

  it('puts events, decisions and approvals in time order, with the approval wait as its duration', () => {
    const steps = buildSteps(
      run({
        events: [event('e1', 'tool_called', 300, { tool: { name: 'crm' }, input: { id: 1 } })],
        decisions: [
          {
            id: 'd1',
            at: at(100),
            decision: 'REQUIRE_APPROVAL',
            action: { type: 'refund', amount: 900 },
            reasons: [{ policy_id: 'p1', name: 'Refunds over $100', effect: 'require_approval' }],
            approval_id: 'apr_1',
          },
        ],
        approvals: [
          {
            id: 'apr_1',
            status: 'approved',
            policy_id: 'p1',
            agent_id: 'agt_1',
            run_id: 'run_1',
            decision_id: 'd1',
            action: { type: 'refund' },
            approvers: {},
            message: null,
            requested_at: at(200),
            expires_at: at(99_000),
            decided_at: at(2200),
            decided_by: 'Olivia Owner',
            decided_by_actor: { type: 'user', id: 'usr_1', name: 'Olivia Owner' },
            comment: 'ok',
            used: false,
            escalate_to: null,
            escalate_at: null,
            escalated_at: null,
            callback_url: null,
          },
        ],
      }),
    );
    expect(steps.map((s) => s.kind)).toEqual(['decision', 'approval', 'tool']);
    expect(steps[0]?.subtitle).toBe('issue a refund of $900.00 · Refunds over $100');
    expect(steps[1]?.durationMs).toBe(2000);
    expect(steps[1]?.subtitle).toBe('by Olivia Owner — “ok”');
    expect(steps[2]?.title).toBe('Tool call · {"name":"crm"}');
  });

  it('spans the timeline from the start to the last step when that is later than the end', () => {
    const r = run({
      ended_at: at(1000),
      events: [event('e1', 'log', 3000, { message: 'late' }, { duration_ms: 500 })],
    });
    const b = timelineBounds(r, buildSteps(r));
    expect(b).toEqual({ start: T0, end: T0 + 3500, total: 3500 });
  });
});
