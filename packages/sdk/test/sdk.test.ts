/**
 * The SDK against a real hub (real database, real HTTP on port 0): runs and events, policy decisions on the
 * run's timeline, approvals by long-poll, emergency controls, failing closed, retries through a flaky
 * network, a full buffer and the flush at process exit. Responses are checked against the contracts' schemas,
 * so a drift between the hub and the SDK fails here.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DecisionSchema, RunSchema } from '@agentops-hub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentPausedError, ApiError, createAgentOps, PolicyBlockedError } from '../src/index.ts';
import { deadPort, eventually, type RunningHub, startFlakyProxy, startHub } from './hub.ts';

let hub: RunningHub;
beforeAll(async () => {
  hub = await startHub();
});
afterAll(async () => hub?.close());

let n = 0;
const agentName = (base: string) => `${base}${++n}`;
const client = (agent: string, extra: Parameters<typeof createAgentOps>[0] = {}) =>
  createAgentOps({ hubUrl: hub.url, apiKey: hub.ingestKey, agent, logger: false, flushIntervalMs: 100, ...extra });

async function runDetail(id: string) {
  const r = await hub.api('GET', `/v1/runs/${id}`);
  return r.status === 200 ? r.body : undefined;
}

async function policy(name: string, when: unknown, then: string, extra: Record<string, unknown> = {}) {
  const r = await hub.api('POST', '/v1/policies', { name, status: 'active', rule: { when, then, ...extra } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as { id: string };
}

async function pendingApprovalFor(agentId: string | undefined, actionType: string) {
  return eventually(async () => {
    const r = await hub.api('GET', '/v1/approvals?status=pending');
    return (r.body.data as any[]).find((a) => a.action?.type === actionType && (!agentId || a.agent_id === agentId));
  });
}

describe('runs and events', () => {
  it('run() records start, tool and llm calls, the guarded action and its decision on one timeline', async () => {
    const agent = agentName('Recorder');
    const ops = client(agent);
    let runId = '';
    const out = await ops.run(
      'triage',
      async (run) => {
        runId = run.id;
        ops.recordToolCall({ tool: 'lookup_order', args: { order_id: 'A-1' }, result: { total: 40 }, duration_ms: 3 });
        ops.recordLlmCall({ model: 'gpt-4o-mini', provider: 'openai', input_tokens: 1000, output_tokens: 100 });
        // A plain checkPolicy inside the run carries its run id without passing it.
        const d = await ops.checkPolicy({ type: 'read_faq' });
        expect(DecisionSchema.parse(d).decision).toBe('ALLOW');
        return ops.guard({ type: 'send_reply', words: 12 }, () => 'sent');
      },
      { input: { ticket: 'T-1' }, external_ref: 'T-1' },
    );
    expect(out).toBe('sent');
    await ops.flush();
    const run = await eventually(async () => {
      const d = await runDetail(runId);
      return d?.status === 'completed' && d;
    });
    RunSchema.parse(run);
    expect(run.agent_name).toBe(agent);
    expect(run.input).toEqual({ ticket: 'T-1' });
    expect(run.output).toBe('sent');
    expect(run.metadata.name).toBe('triage');
    const types = run.events.map((e: any) => e.type);
    for (const t of ['run_started', 'tool_called', 'tool_result', 'llm_call', 'external_action', 'run_completed'])
      expect(types).toContain(t);
    const action = run.events.find((e: any) => e.type === 'external_action');
    expect(action.payload).toMatchObject({ action: { type: 'send_reply', words: 12 }, status: 'done' });
    expect(action.payload.decision_id).toMatch(/^dec_/);
    expect(run.decisions.length).toBe(2);
    expect(run.input_tokens).toBe(1000);
    expect(ops.stats()).toMatchObject({ queued: 0, dropped: 0, rejected: 0 });
  });

  it('a failing run is recorded as failed with its error, and the error reaches the caller', async () => {
    const ops = client(agentName('Failer'));
    let runId = '';
    await expect(
      ops.run('explode', (run) => {
        runId = run.id;
        throw new TypeError('boom');
      }),
    ).rejects.toThrow('boom');
    await ops.flush();
    const run = await eventually(async () => {
      const d = await runDetail(runId);
      return d?.status === 'failed' && d;
    });
    expect(run.error).toMatchObject({ name: 'TypeError', message: 'boom' });
    expect(run.events.map((e: any) => e.type)).toContain('run_failed');
  });

  it('recordRunStart/recordRunEnd make a run visible while it runs, then end it', async () => {
    const ops = client(agentName('Manual'));
    const run = ops.recordRunStart({ name: 'long-job', input: { batch: 7 }, tags: ['nightly'] });
    run.recordToolCall({ tool: 'fetch_rows', args: { limit: 10 } });
    await ops.flush();
    const running = await runDetail(run.id);
    expect(running.status).toBe('running');
    expect(running.events.map((e: any) => e.type)).toEqual(['run_started', 'tool_called']);
    ops.recordRunEnd(run.id, { output: { rows: 10 } });
    await ops.flush();
    const done = await runDetail(run.id);
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ rows: 10 });
    expect(done.ended_at).not.toBeNull();
  });

  it('telemetry never throws: circular payloads are sent, records outside a run are ignored, bad events are counted', async () => {
    const ops = client(agentName('Messy'));
    const run = ops.recordRunStart({});
    const loop: any = { name: 'loop', big: 10n };
    loop.self = loop;
    expect(() => run.recordToolCall({ tool: 'cyclic', args: loop })).not.toThrow();
    expect(() => ops.recordToolCall({ tool: 'orphan' })).not.toThrow();
    ops.record('not_a_type' as any, run.id, {});
    await ops.flush();
    const d = await runDetail(run.id);
    const call = d.events.find((e: any) => e.type === 'tool_called');
    expect(call.payload.args).toEqual({ name: 'loop', big: '10', self: '[circular]' });
    expect(ops.stats().rejected).toBe(1);
  });

  it('a value nested 100,000 deep (JSON.stringify throws RangeError on it) is sent cut at the depth the hub takes, with its batch', async () => {
    const ops = client(agentName('Deep'));
    const run = ops.recordRunStart({});
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    run.recordToolCall({ tool: 'shallow', args: { n: 1 } });
    run.recordToolCall({ tool: 'deep', args: deep });
    await ops.flush();
    const d = await runDetail(run.id);
    expect(d.events.find((e: any) => e.payload?.tool === 'shallow').payload.args).toEqual({ n: 1 });
    let args = d.events.find((e: any) => e.payload?.tool === 'deep').payload.args;
    let levels = 0;
    while (typeof args === 'object') {
      args = args.d;
      levels++;
    }
    expect(args).toBe('[too deep]');
    expect(levels).toBeGreaterThan(50);
    expect(ops.stats().rejected).toBe(0);
  });
});

describe('policies and approvals', () => {
  it('guard runs nothing when a policy blocks, and names the policy', async () => {
    const agent = agentName('Blocked');
    await policy(
      `No deletes for ${agent}`,
      {
        all: [
          { field: 'agent.name', op: 'eq', value: agent },
          { field: 'action.type', op: 'eq', value: 'delete_account' },
        ],
      },
      'block',
    );
    const ops = client(agent);
    let ran = false;
    const err = await ops
      .run('cleanup', () => ops.guard({ type: 'delete_account', id: 'u1' }, () => (ran = true)))
      .catch((e) => e);
    expect(err).toBeInstanceOf(PolicyBlockedError);
    expect(err.message).toContain(`No deletes for ${agent}`);
    expect(err.policies).toEqual([`No deletes for ${agent}`]);
    expect(ran).toBe(false);
  });

  it('guard waits for approval by long-poll, then runs once approved; the approval is on the run', async () => {
    const agent = agentName('Refunder');
    await policy(
      `Refunds over 100 for ${agent}`,
      {
        all: [
          { field: 'agent.name', op: 'eq', value: agent },
          { field: 'action.amount', op: 'gt', value: 100 },
        ],
      },
      'require_approval',
    );
    const ops = client(agent);
    let asked: string | undefined;
    let runId = '';
    const done = ops.run('refund', (run) => {
      runId = run.id;
      return run.guard({ type: 'issue_refund', amount: 250 }, () => 'refunded', {
        onApprovalRequired: (d) => (asked = d.approval_id),
      });
    });
    const approval = await pendingApprovalFor(undefined, 'issue_refund');
    expect(approval.run_id).toBe(runId);
    expect(asked).toBe(approval.id);
    const ok = await hub.api('POST', `/v1/approvals/${approval.id}/approve`, { comment: 'ok' });
    expect(ok.status).toBe(200);
    expect(await done).toBe('refunded');
    await ops.flush();
    const run = await eventually(async () => {
      const d = await runDetail(runId);
      return d?.status === 'completed' && d;
    });
    expect(run.approvals.map((a: any) => a.id)).toContain(approval.id);
    expect(run.decisions.length).toBeGreaterThanOrEqual(2);
    const action = run.events.find((e: any) => e.type === 'external_action');
    expect(action.payload.approval_id).toBe(approval.id);
  });

  it('a rejected approval refuses the action', async () => {
    const agent = agentName('Rejected');
    await policy(`Ask for ${agent}`, { field: 'agent.name', op: 'eq', value: agent }, 'require_approval');
    const ops = client(agent);
    let ran = false;
    const done = ops.run('x', () => ops.guard({ type: 'wire_money', amount: 5 }, () => (ran = true))).catch((e) => e);
    const approval = await pendingApprovalFor(undefined, 'wire_money');
    await hub.api('POST', `/v1/approvals/${approval.id}/reject`, { comment: 'no' });
    const err = await done;
    expect(err).toBeInstanceOf(PolicyBlockedError);
    expect(err.message).toContain('rejected');
    expect(ran).toBe(false);
  });

  it('waitForApproval returns the pending approval when the wait times out, and unknown ids are ApiErrors', async () => {
    const agent = agentName('Waiter');
    await policy(`Always ask ${agent}`, { field: 'agent.name', op: 'eq', value: agent }, 'require_approval');
    const ops = client(agent);
    const d = await ops.checkPolicy({ type: 'ping' });
    expect(d.decision).toBe('REQUIRE_APPROVAL');
    const started = Date.now();
    const a = await ops.waitForApproval(d.approval_id!, { timeoutMs: 1200 });
    expect(a.status).toBe('pending');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const err = await ops.waitForApproval('apr_missing', { timeoutMs: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('not_found');
  });

  it('fails closed when the hub is unreachable (and open when configured)', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const closed = createAgentOps({ hubUrl: url, apiKey: 'ahk_x', agent: 'Offline', logger: false, maxRetries: 2 });
    const d = await closed.checkPolicy({ type: 'send_email' });
    expect(d).toMatchObject({ decision: 'BLOCK', unavailable: true });
    expect(d.reasons[0]).toMatchObject({ name: 'hub_unreachable', effect: 'fail_closed' });
    let ran = false;
    const err = await closed.guard({ type: 'send_email' }, () => (ran = true), { run_id: 'r1' }).catch((e) => e);
    expect(err).toBeInstanceOf(PolicyBlockedError);
    expect(ran).toBe(false);

    const open = createAgentOps({ hubUrl: url, agent: 'Offline', logger: false, maxRetries: 1, policyFailure: 'open' });
    expect(await open.guard({ type: 'send_email' }, () => 'sent')).toBe('sent');
    await closed.shutdown(200);
    await open.shutdown(200);
  });
});

describe('emergency controls', () => {
  it('the kill switch makes guard throw AgentPausedError; the SDK learns it from decisions and GET /v1/controls', async () => {
    const ops = client(agentName('Killable'));
    await hub.api('POST', '/v1/controls/kill-switch', { engaged: true, reason: 'drill' });
    try {
      let ran = false;
      const err = await ops.run('x', () => ops.guard({ type: 'send_email' }, () => (ran = true))).catch((e) => e);
      expect(err).toBeInstanceOf(AgentPausedError);
      expect(err.hold).toMatchObject({ reason: 'kill_switch', mode: 'block' });
      expect(err.message).toContain('drill');
      expect(ran).toBe(false);
      expect(ops.controlHold()?.reason).toBe('kill_switch');

      const fresh = client(agentName('Fresh'));
      expect(fresh.controlHold()).toBeNull();
      const state = await fresh.refreshControls();
      expect(state?.kill_switch.engaged).toBe(true);
      expect(fresh.controlHold()).toMatchObject({ reason: 'kill_switch', message: expect.stringContaining('drill') });
    } finally {
      await hub.api('POST', '/v1/controls/kill-switch', { engaged: false });
    }
    expect((await ops.checkPolicy({ type: 'send_email' })).decision).toBe('ALLOW');
    expect(ops.controlHold()).toBeNull();
  });

  it('a failsafe pause records the action as log-only and skips it', async () => {
    const agent = agentName('Failsafe');
    const ops = client(agent);
    const first = ops.recordRunStart({});
    await ops.flush();
    const a = await hub.api('GET', `/v1/agents/${agent}`);
    const p = await hub.api('POST', `/v1/agents/${a.body.id}/pause`, { reason: 'audit', mode: 'failsafe' });
    expect(p.status).toBe(200);
    let ran = false;
    const result = await ops.guard({ type: 'send_email', to: 'x@y.test' }, () => (ran = true), { run_id: first.id });
    expect(result).toBeUndefined();
    expect(ran).toBe(false);
    expect(ops.controlHold()).toMatchObject({ reason: 'agent_paused', mode: 'failsafe' });
    const state = await ops.refreshControls();
    expect(state?.paused_agents.some((x) => x.name === agent)).toBe(true);
    expect(ops.controlHold()).toMatchObject({ reason: 'agent_paused', mode: 'failsafe' });
    await ops.flush();
    const d = await runDetail(first.id);
    const log = d.events.find((e: any) => e.type === 'log');
    expect(log.payload).toMatchObject({ log_only: true, action: { type: 'send_email' } });
    expect(d.events.some((e: any) => e.type === 'external_action')).toBe(false);
    // Failsafe as a client setting: a blocking pause skips instead of throwing.
    await hub.api('POST', `/v1/agents/${a.body.id}/resume`, {});
    await hub.api('POST', `/v1/agents/${a.body.id}/pause`, { mode: 'block' });
    const lenient = client(agent, { failsafe: true });
    expect(await lenient.guard({ type: 'send_email' }, () => 'sent', { run_id: first.id })).toBeUndefined();
    await expect(ops.guard({ type: 'send_email' }, () => 'sent', { run_id: first.id })).rejects.toBeInstanceOf(
      AgentPausedError,
    );
  });
});

describe('delivery', () => {
  it('retries through connection resets with backoff and delivers every event once', async () => {
    const proxy = await startFlakyProxy(hub.port);
    try {
      const ops = createAgentOps({
        hubUrl: proxy.url,
        apiKey: hub.ingestKey,
        agent: agentName('Flaky'),
        logger: false,
        flushIntervalMs: 50,
      });
      proxy.failNext(3);
      const run = ops.recordRunStart({});
      for (let i = 0; i < 50; i++) run.recordToolCall({ tool: 't', args: { i } });
      await eventually(async () => {
        await ops.flush();
        return ops.stats().queued === 0;
      });
      expect(proxy.resets).toBeGreaterThanOrEqual(3);
      expect(ops.stats().failedAttempts).toBe(0);
      const d = await runDetail(run.id);
      expect(d.events.filter((e: any) => e.type === 'tool_called')).toHaveLength(50);
    } finally {
      await proxy.close();
    }
  });

  it('keeps telemetry while the hub is down and sends it when it is back; a full buffer drops new events', async () => {
    const proxy = await startFlakyProxy(hub.port);
    try {
      const ops = createAgentOps({
        hubUrl: proxy.url,
        apiKey: hub.ingestKey,
        agent: agentName('Outage'),
        logger: false,
        maxQueueSize: 20,
        maxRetries: 2,
        flushIntervalMs: 50,
      });
      proxy.setDown(true);
      const run = ops.recordRunStart({});
      for (let i = 0; i < 30; i++) expect(() => run.recordToolCall({ tool: 't', args: { i } })).not.toThrow();
      await ops.flush();
      // 1 run_started event + 19 tool calls fit; 11 were dropped. Nothing was sent.
      expect(ops.stats()).toMatchObject({ sent: 0, dropped: 11, queued: 21 });
      expect(ops.stats().failedAttempts).toBeGreaterThan(0);
      proxy.setDown(false);
      await eventually(async () => {
        await ops.flush();
        return ops.stats().queued === 0;
      });
      const d = await runDetail(run.id);
      const calls = d.events.filter((e: any) => e.type === 'tool_called').map((e: any) => e.payload.args.i);
      expect(calls).toEqual([...Array(19).keys()]);
    } finally {
      await proxy.close();
    }
  });

  it('retries 503 and 429 (honouring Retry-After) and delivers; a refused key drops with one warning', async () => {
    let answered = 0;
    const statuses = [503, 429];
    const front = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      const status = statuses[answered++];
      if (status) {
        res.writeHead(status, { 'content-type': 'application/problem+json', 'retry-after': '1' });
        res.end(JSON.stringify({ status, code: status === 429 ? 'rate_limited' : 'internal', title: 'x' }));
        return;
      }
      const r = await fetch(hub.url + req.url, {
        method: req.method,
        headers: { authorization: String(req.headers.authorization), 'content-type': 'application/json' },
        body: body || undefined,
      });
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(await r.text());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
      const ops = createAgentOps({ hubUrl: url, apiKey: hub.ingestKey, agent: agentName('Throttled'), logger: false });
      const run = ops.recordRunStart({});
      const started = Date.now();
      await ops.flush();
      expect(answered).toBeGreaterThanOrEqual(3);
      // Retry-After: 1 was waited for (twice).
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(ops.stats()).toMatchObject({ queued: 0, dropped: 0, failedAttempts: 0 });
      expect((await runDetail(run.id))?.status).toBe('running');
    } finally {
      await new Promise<void>((r) => front.close(() => r()));
    }

    const warnings: string[] = [];
    const badKey = createAgentOps({
      hubUrl: hub.url,
      apiKey: 'ahk_notARealKeyAtAll0123456789abcdef',
      agent: agentName('BadKey'),
      logger: { warn: (m) => warnings.push(m) },
    });
    const r2 = badKey.recordRunStart({});
    r2.recordToolCall({ tool: 'x' });
    r2.recordToolCall({ tool: 'y' });
    await badKey.flush();
    expect(badKey.stats()).toMatchObject({ queued: 0, sent: 0, dropped: 4 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/refused telemetry \(401 unauthenticated\)/);
  });

  it('flushes buffered telemetry when the process exits', async () => {
    const child = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/exit-child.ts');
    const agent = agentName('Exiting');
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child], {
        env: { ...process.env, AGENTOPS_HUB_URL: hub.url, AGENTOPS_API_KEY: hub.ingestKey, AGENTOPS_AGENT: agent },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.on('exit', (code) => resolve({ code, stdout }));
    });
    expect(out.code).toBe(0);
    const runId = out.stdout.trim();
    const d = await runDetail(runId);
    expect(d?.status).toBe('completed');
    expect(d.events.filter((e: any) => e.type === 'tool_called')).toHaveLength(25);
  });
});
