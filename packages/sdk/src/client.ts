/**
 * @module client
 * `AgentOps`: report runs and events, ask the policy engine before sensitive actions, wait for a person's
 * approval, and stop when the agent is paused. Telemetry calls never throw and never wait; `checkPolicy`
 * always answers (failing closed by default when the hub is unreachable); `guard` runs the action only when
 * it is allowed.
 *
 * @example
 * const agentops = createAgentOps({ agent: 'SupportBot' });
 * await agentops.run('refund-ticket', async (run) => {
 *   run.recordToolCall({ tool: 'lookup_order', args: { order_id: 'A-1' }, result: order });
 *   await run.guard({ type: 'issue_refund', order_id: 'A-1', amount: 250 }, () => payments.refund('A-1', 250));
 * });
 */
import type { ControlsState } from '@agentops-hub/contracts';
import { AgentPausedError, ApiError, PolicyBlockedError } from './errors.ts';
import { type ContextStore, platform } from './platform.ts';
import { QueuedEvent, Telemetry } from './telemetry.ts';
import { createTransport, sleep, type Transport, toApiError } from './transport.ts';
import type {
  Action,
  AgentOpsOptions,
  Approval,
  ControlHold,
  EventType,
  ExternalAction,
  LlmCall,
  Logger,
  PolicyDecision,
  PolicyFailureMode,
  RunEnd,
  RunStart,
  TelemetryStats,
  ToolCall,
} from './types.ts';

const CONTROL_REASONS = new Set(['kill_switch', 'agent_paused', 'category_paused']);
const MAX_APPROVAL_WAIT_MS = 30 * 86_400_000;

/** Options of one policy check. */
export interface CheckOptions {
  /** The run the decision belongs to (default: the run the code is executing in). */
  run_id?: string;
  agent?: string;
  context?: Record<string, unknown>;
  /** An approved approval for this very action: the hub answers ALLOW once. */
  approval_id?: string;
  idempotency_key?: string;
}

export interface GuardOptions extends CheckOptions {
  /** How long to wait for a person (ms). Default: the client's `approvalTimeoutMs`, else the approval's expiry. */
  approvalTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called once when a person must approve, before the wait starts (e.g. to tell a user). */
  onApprovalRequired?: (d: PolicyDecision) => void;
  /** Record the action as an `external_action` event when it runs. Default true. */
  recordAction?: boolean;
}

/** A started run. Its methods carry the run id, so they work even outside the `run()` callback. */
export interface RunHandle {
  readonly id: string;
  readonly agent: string;
  recordToolCall(call: Omit<ToolCall, 'run_id'>): void;
  recordLlmCall(call: LlmCall): void;
  recordExternalAction(action: Omit<ExternalAction, 'run_id'>): void;
  /** Any other event type (`log`, `tool_result`…). */
  record(type: EventType, payload?: Record<string, unknown>): void;
  checkPolicy(action: Action, opts?: Omit<CheckOptions, 'run_id'>): Promise<PolicyDecision>;
  guard<T>(action: Action, fn: (d: PolicyDecision) => T | Promise<T>, opts?: GuardOptions): Promise<T | undefined>;
  end(result?: RunEnd): void;
}

const randomId = (n = 10) => {
  let s = '';
  for (let i = 0; i < n; i++) s += ((Math.random() * 36) | 0).toString(36);
  return s;
};

const errorInfo = (e: unknown) =>
  e instanceof Error ? { name: e.name, message: e.message } : { message: typeof e === 'string' ? e : String(e) };

export class AgentOps {
  readonly hubUrl: string;
  readonly agent: string | undefined;
  private readonly transport: Transport;
  private readonly telemetry: Telemetry;
  private readonly context: ContextStore<RunHandle>;
  private readonly policyFailure: PolicyFailureMode;
  private readonly failsafe: boolean;
  private readonly approvalTimeoutMs: number | undefined;
  private readonly controlsRefreshMs: number;
  private readonly disabled: boolean;
  private readonly logger: Logger | null;
  private readonly idPrefix = `${randomId(8)}-`;
  private seq = 0;
  private readonly active = new Map<string, { agent: string; started_at: string }>();
  private hold: ControlHold | null = null;
  private controlsAt = 0;
  private controlsInFlight: Promise<ControlsState | null> | null = null;
  private agentInfo: { at: number; type: string | null; tags: string[] } | null = null;
  private exitHooked = false;
  private unhookExit: () => void = () => {};
  private exiting = false;
  private readonly policyTimeoutMs: number;

  constructor(options: AgentOpsOptions = {}) {
    const env = platform.env;
    this.hubUrl = options.hubUrl ?? env('AGENTOPS_HUB_URL') ?? 'http://localhost:3000';
    this.agent = options.agent ?? env('AGENTOPS_AGENT');
    this.policyFailure = options.policyFailure ?? 'closed';
    this.failsafe = options.failsafe ?? false;
    this.approvalTimeoutMs = options.approvalTimeoutMs;
    this.policyTimeoutMs = options.policyTimeoutMs ?? 15_000;
    this.controlsRefreshMs = options.controlsRefreshMs ?? 30_000;
    this.disabled = options.disabled ?? false;
    this.logger = options.logger === false ? null : (options.logger ?? console);
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    this.transport = createTransport({
      hubUrl: this.hubUrl,
      apiKey: options.apiKey ?? env('AGENTOPS_API_KEY'),
      headers: options.headers,
      fetch: fetchImpl,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      maxRetries: options.maxRetries ?? 5,
    });
    this.telemetry = new Telemetry({
      idPrefix: this.idPrefix,
      transport: this.transport,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      batchSize: Math.min(options.batchSize ?? 200, 1000),
      maxQueueSize: options.maxQueueSize ?? 10_000,
      maxRetries: options.maxRetries ?? 5,
      logger: this.logger,
      afterFlush: () => {
        if (!this.exiting) this.maybeRefreshControls();
      },
    });
    this.context = platform.createContext<RunHandle>();
    if (options.flushOnExit !== false && !this.disabled) {
      this.exitHooked = true;
      this.unhookExit = platform.onExit((final) => this.flushAtExit(final));
    }
  }

  // ── telemetry ────────────────────────────────────────────────────────────────────────────────

  /**
   * Starts a run and returns its handle; end it with `recordRunEnd(run.id)` or `run.end()`.
   * @example
   * const run = agentops.recordRunStart({ name: 'nightly-sync', input: { since: '2026-01-01' } });
   */
  recordRunStart(start: RunStart = {}): RunHandle {
    const id = start.run_id ?? `run_${this.idPrefix}${(this.seq++).toString(36)}`;
    const agent = start.agent ?? this.agent ?? start.name ?? 'agent';
    const handle = this.handle(id, agent);
    if (this.disabled) return handle;
    try {
      const now = Date.now();
      const started_at = new Date(now).toISOString();
      this.active.set(id, { agent, started_at });
      this.telemetry.pushRun({
        run_id: id,
        agent,
        status: 'running',
        started_at,
        input: start.input,
        external_ref: start.external_ref,
        environment: start.environment,
        parent_run_id: start.parent_run_id,
        tags: start.tags,
        metadata: start.name ? { name: start.name, ...start.metadata } : start.metadata,
      });
      this.push('run_started', id, start.name ? { name: start.name } : {}, agent, now);
    } catch {
      /* never throw into the agent */
    }
    return handle;
  }

  /**
   * Ends a run: `completed` unless an `error` is given or `status: 'failed'`.
   * @example
   * agentops.recordRunEnd(run.id, { output: { refunded: true } });
   */
  recordRunEnd(runId: string, end: RunEnd = {}): void {
    if (this.disabled) return;
    try {
      const info = this.active.get(runId);
      this.active.delete(runId);
      const status = end.status ?? (end.error !== undefined ? 'failed' : 'completed');
      const now = Date.now();
      const ended_at = new Date(now).toISOString();
      const agent = info?.agent ?? this.agent ?? 'agent';
      this.push(
        status === 'failed' ? 'run_failed' : 'run_completed',
        runId,
        end.error !== undefined ? { error: end.error } : {},
        agent,
        now,
      );
      this.telemetry.pushRun({
        run_id: runId,
        agent,
        status,
        started_at: info?.started_at ?? ended_at,
        ended_at,
        output: end.output,
        error: end.error,
      });
    } catch {
      /* never throw into the agent */
    }
  }

  /**
   * Records a tool call (`tool_called`, and `tool_result` when a result or error is given).
   * @example
   * agentops.recordToolCall({ tool: 'lookup_order', args: { order_id: 'A-1' }, result: { total: 250 } });
   */
  recordToolCall(call: ToolCall): void {
    const runId = call.run_id ?? this.context.get()?.id;
    if (!runId || this.disabled) {
      this.missingRun('recordToolCall', runId);
      return;
    }
    this.push('tool_called', runId, { tool: call.tool, args: call.args });
    if (call.result !== undefined || call.error !== undefined || call.duration_ms !== undefined)
      this.push('tool_result', runId, {
        tool: call.tool,
        result: call.result,
        error: call.error === undefined ? undefined : errorInfo(call.error),
        duration_ms: call.duration_ms,
      });
  }

  /**
   * Records an LLM call; the hub prices it from its table when `cost_usd` is absent.
   * @example
   * agentops.recordLlmCall({ model: 'gpt-4o-mini', provider: 'openai', input_tokens: 812, output_tokens: 96 });
   */
  recordLlmCall(call: LlmCall): void {
    const runId = call.run_id ?? this.context.get()?.id;
    if (!runId || this.disabled) {
      this.missingRun('recordLlmCall', runId);
      return;
    }
    const { run_id: _ignored, ...payload } = call;
    this.push('llm_call', runId, payload);
  }

  /**
   * Records an action with effects outside the agent (a refund, an email). `guard` records it for you.
   * @example
   * agentops.recordExternalAction({ action: { type: 'send_email', to: 'a@b.test' }, status: 'done' });
   */
  recordExternalAction(a: ExternalAction): void {
    const runId = a.run_id ?? this.context.get()?.id;
    if (!runId || this.disabled) {
      this.missingRun('recordExternalAction', runId);
      return;
    }
    const { run_id: _ignored, error, ...rest } = a;
    this.push('external_action', runId, {
      status: 'done',
      ...rest,
      ...(error === undefined ? {} : { error: errorInfo(error) }),
    });
  }

  /** Records any event type on a run (`log`, `tool_result`…). */
  record(type: EventType, runId: string, payload: Record<string, unknown> = {}): void {
    if (this.disabled) return;
    this.push(type, runId, payload);
  }

  /**
   * Runs `fn` as one run: records its start, its end, or its failure (then rethrows). Inside `fn`, policy
   * checks and records carry the run id (Node: through AsyncLocalStorage; everywhere: through `run`).
   * @example
   * const answer = await agentops.run('answer-ticket', async (run) => model.answer(ticket), { input: ticket });
   */
  async run<T>(name: string, fn: (run: RunHandle) => T | Promise<T>, start: Omit<RunStart, 'name'> = {}): Promise<T> {
    const handle = this.recordRunStart({ ...start, name });
    try {
      const out = await this.context.run(handle, () => fn(handle));
      this.recordRunEnd(handle.id, { status: 'completed', output: out });
      return out;
    } catch (e) {
      this.recordRunEnd(handle.id, { status: 'failed', error: errorInfo(e) });
      throw e;
    }
  }

  /** The run the code is executing in, if any. */
  currentRun(): RunHandle | undefined {
    return this.context.get();
  }

  /** Sends everything buffered now. Never throws. */
  async flush(): Promise<void> {
    if (this.disabled) return;
    try {
      await this.telemetry.flush();
    } catch {
      /* never throw into the agent */
    }
  }

  /** Flushes (waiting at most `timeoutMs`) and stops the timers. Call before `process.exit()`. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    if (this.disabled) return;
    const deadline = Date.now() + timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.telemetry.flush({ deadline }),
        // Cleared below: a pending timer would keep the process alive after the flush.
        new Promise<void>((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
    } catch {
      /* never throw into the agent */
    } finally {
      clearTimeout(timer);
    }
    this.telemetry.close();
    this.unhookExit();
  }

  /** Telemetry counters: queued, sent, dropped, rejected, failed attempts. */
  stats(): TelemetryStats {
    return this.telemetry.stats();
  }

  // ── policy ───────────────────────────────────────────────────────────────────────────────────

  /**
   * Asks the policy engine about an action. Always answers: when the hub gives no decision, the answer is
   * BLOCK (`policyFailure: 'closed'`, the default) or ALLOW (`'open'`), marked `unavailable: true`.
   * @example
   * const d = await agentops.checkPolicy({ type: 'send_email', discount: 15 });
   * if (d.decision === 'ALLOW') await send();
   */
  async checkPolicy(action: Action, opts: CheckOptions = {}): Promise<PolicyDecision> {
    if (this.disabled) return { decision: 'ALLOW', decision_id: '', reasons: [] };
    const agent = opts.agent ?? this.context.get()?.agent ?? this.agent;
    if (!agent) return this.noDecision('no agent named: set `agent` or AGENTOPS_AGENT');
    const body = {
      agent,
      action,
      context: opts.context,
      run_id: opts.run_id ?? this.context.get()?.id,
      approval_id: opts.approval_id,
      // A retried call must not create a second approval: the hub answers a repeated key with the first decision.
      idempotency_key: opts.idempotency_key ?? `sdk-${this.idPrefix}${randomId(12)}`,
    };
    try {
      const res = await this.transport.call('POST', '/v1/policy/evaluate', {
        body,
        attempts: 3,
        deadline: Date.now() + this.policyTimeoutMs,
      });
      if (res.status === 200 && res.body?.decision) {
        const d = res.body as PolicyDecision;
        this.learn(d);
        return d;
      }
      const err = toApiError(res);
      if (err.code === 'agent_paused') {
        this.hold = { reason: 'agent_paused', mode: 'block', message: err.message };
        return {
          decision: 'BLOCK',
          decision_id: '',
          reasons: [{ policy_id: null, name: 'agent_paused', effect: 'block', message: err.message }],
        };
      }
      return this.noDecision(`the hub answered ${res.status} ${err.code}: ${err.message}`);
    } catch (e) {
      return this.noDecision((e as Error).message);
    }
  }

  /**
   * Long-polls an approval until a person decides it or `timeoutMs` passes; resolves with the approval
   * (still `pending` on timeout). Network errors are retried until the deadline.
   * @example
   * const a = await agentops.waitForApproval(decision.approval_id!, { timeoutMs: 10 * 60_000 });
   * if (a.status === 'approved') …
   */
  async waitForApproval(id: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Approval> {
    const started = Date.now();
    // Without a timeout: until the approval expires (learned from the first answer); before any answer, at most
    // the longest approval timeout a policy can set (30 days).
    let deadline = started + (opts.timeoutMs ?? MAX_APPROVAL_WAIT_MS);
    let last: Approval | undefined;
    let failures = 0;
    for (;;) {
      if (opts.signal?.aborted) throw new ApiError('unreachable', 0, 'waiting for the approval was aborted');
      const left = deadline - Date.now();
      if (last && left <= 0) return last;
      const waitS = Math.max(0, Math.min(60, Math.ceil(left / 1000)));
      try {
        const res = await this.transport.call('GET', `/v1/approvals/${encodeURIComponent(id)}?wait=${waitS}`, {
          attempts: 1,
          timeoutMs: waitS * 1000 + 15_000,
          signal: opts.signal,
        });
        if (res.status >= 400 && res.status !== 429 && res.status < 500) throw toApiError(res);
        if (res.status === 200) {
          failures = 0;
          last = res.body as Approval;
          if (last.status !== 'pending') return last;
          // Without a timeout, wait until the approval expires (the hub then answers `expired`).
          if (opts.timeoutMs === undefined && last.expires_at) deadline = Date.parse(last.expires_at) + 5000;
          continue;
        }
      } catch (e) {
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) throw e;
      }
      failures++;
      if (!last && Date.now() >= deadline)
        throw new ApiError('unreachable', 0, `approval ${id}: the hub did not answer in time`);
      await sleep(Math.min(Math.max(0, deadline - Date.now()), Math.random() * Math.min(10_000, 250 * 2 ** failures)));
    }
  }

  /**
   * Runs `fn` only when the policy allows the action, waiting for a person when a policy asks for approval,
   * and records it as an external action. Throws `AgentPausedError` when the agent is paused or the kill
   * switch is on (in failsafe mode it records the action as log-only, skips it and returns `undefined`),
   * and `PolicyBlockedError` when the action is refused.
   * @example
   * await agentops.guard({ type: 'issue_refund', order_id: 'A-1', amount: 250 }, () => payments.refund('A-1', 250));
   */
  async guard<T>(
    action: Action,
    fn: (d: PolicyDecision) => T | Promise<T>,
    opts: GuardOptions = {},
  ): Promise<T | undefined> {
    const runId = opts.run_id ?? this.context.get()?.id;
    const check = { ...opts, run_id: runId };
    let d = await this.checkPolicy(action, check);
    let approvalId: string | undefined;
    if (d.decision === 'REQUIRE_APPROVAL' && d.approval_id) {
      approvalId = d.approval_id;
      try {
        opts.onApprovalRequired?.(d);
      } catch {
        /* a callback's error must not change the decision */
      }
      const timeoutMs = opts.approvalTimeoutMs ?? this.approvalTimeoutMs;
      const approval = await this.waitForApproval(approvalId, { timeoutMs, signal: opts.signal }).catch(
        () => undefined,
      );
      if (approval?.status === 'approved') {
        d = await this.checkPolicy(action, { ...check, approval_id: approvalId, idempotency_key: undefined });
      } else {
        const status = approval?.status ?? 'unanswered';
        throw new PolicyBlockedError(
          d,
          `${action.type} was not approved (${status === 'pending' ? 'no decision in time' : status}): ${names(d)}`,
        );
      }
    }
    if (d.decision !== 'ALLOW') {
      const hold = controlHoldOf(d) ?? (d.unavailable ? this.hold : null);
      if (hold) {
        if (hold.mode === 'failsafe' || this.failsafe) {
          if (runId)
            this.push('log', runId, {
              message: `skipped ${action.type}: ${hold.message}`,
              log_only: true,
              action,
              hold,
              decision_id: d.decision_id || undefined,
            });
          return undefined;
        }
        throw new AgentPausedError(hold);
      }
      throw new PolicyBlockedError(
        d,
        d.unavailable
          ? `${action.type} not performed: no policy decision (${d.reasons[0]?.message ?? 'hub unreachable'})`
          : `${action.type} blocked by policy ${names(d)}`,
      );
    }
    const started = Date.now();
    const record = opts.recordAction !== false;
    try {
      const result = await fn(d);
      if (runId && record)
        this.recordExternalAction({
          run_id: runId,
          action,
          status: 'done',
          decision_id: d.decision_id || undefined,
          approval_id: approvalId,
          duration_ms: Date.now() - started,
        });
      return result;
    } catch (e) {
      if (runId && record)
        this.recordExternalAction({
          run_id: runId,
          action,
          status: 'failed',
          error: e,
          decision_id: d.decision_id || undefined,
          approval_id: approvalId,
          duration_ms: Date.now() - started,
        });
      throw e;
    }
  }

  // ── emergency controls ───────────────────────────────────────────────────────────────────────

  /** What stops this agent now, as last learned from the hub (evaluations and `GET /v1/controls`); null if nothing. */
  controlHold(): ControlHold | null {
    return this.hold;
  }

  /** Reads `GET /v1/controls` now and updates `controlHold()`. Resolves to null when the hub is unreachable. */
  async refreshControls(): Promise<ControlsState | null> {
    if (this.disabled) return null;
    if (this.controlsInFlight) return this.controlsInFlight;
    this.controlsInFlight = (async () => {
      try {
        const res = await this.transport.call('GET', '/v1/controls', { attempts: 2 });
        if (res.status !== 200) return null;
        const state = res.body as ControlsState;
        this.controlsAt = Date.now();
        await this.learnControls(state);
        return state;
      } catch {
        return null;
      } finally {
        this.controlsInFlight = null;
      }
    })();
    return this.controlsInFlight;
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  /** The hot path: one small object onto the buffer (id and ISO timestamp are made when it is sent). */
  private push(type: EventType, runId: string, payload: Record<string, unknown>, agent?: string, at?: number): void {
    try {
      this.telemetry.push(
        new QueuedEvent(
          this.seq++,
          runId,
          agent ?? this.active.get(runId)?.agent ?? this.agent,
          type,
          at ?? Date.now(),
          payload,
        ),
      );
    } catch {
      /* never throw into the agent */
    }
  }

  private missingRun(method: string, runId: string | undefined): void {
    if (!runId && !this.disabled)
      this.logger?.warn(`AgentOps: ${method} outside a run; pass run_id or call it inside agentops.run()`);
  }

  private handle(id: string, agent: string): RunHandle {
    return {
      id,
      agent,
      recordToolCall: (c) => this.recordToolCall({ ...c, run_id: id }),
      recordLlmCall: (c) => this.recordLlmCall({ ...c, run_id: id }),
      recordExternalAction: (a) => this.recordExternalAction({ ...a, run_id: id }),
      record: (type, payload) => this.record(type, id, payload),
      checkPolicy: (action, o) => this.checkPolicy(action, { agent, ...o, run_id: id }),
      guard: (action, fn, o) => this.guard(action, fn, { agent, ...o, run_id: id }),
      end: (r) => this.recordRunEnd(id, r),
    };
  }

  private noDecision(why: string): PolicyDecision {
    const open = this.policyFailure === 'open';
    return {
      decision: open ? 'ALLOW' : 'BLOCK',
      decision_id: '',
      reasons: [{ policy_id: null, name: 'hub_unreachable', effect: open ? 'fail_open' : 'fail_closed', message: why }],
      unavailable: true,
    };
  }

  private learn(d: PolicyDecision): void {
    this.hold = controlHoldOf(d);
  }

  private async learnControls(s: ControlsState): Promise<void> {
    const agent = this.agent;
    if (s.kill_switch.engaged) {
      this.hold = {
        reason: 'kill_switch',
        mode: 'block',
        message: `The kill switch is engaged${s.kill_switch.reason ? `: ${s.kill_switch.reason}` : ''}`,
      };
      return;
    }
    const mine = s.paused_agents.filter((p) => p.name === agent || p.agent_id === agent);
    if (mine.length) {
      const p = mine.find((x) => x.mode === 'block') ?? mine[0];
      this.hold = {
        reason: 'agent_paused',
        mode: p.mode,
        message: `Agent ${p.name} is paused${p.reason ? `: ${p.reason}` : ''}`,
      };
      return;
    }
    if (s.paused_categories.length && agent) {
      const info = await this.agentCategories(agent);
      const c = info && s.paused_categories.find((x) => x.category === info.type || info.tags.includes(x.category));
      if (c) {
        this.hold = {
          reason: 'category_paused',
          mode: 'block',
          message: `Agents of category "${c.category}" are paused${c.reason ? `: ${c.reason}` : ''}`,
        };
        return;
      }
    }
    this.hold = null;
  }

  private async agentCategories(agent: string) {
    if (this.agentInfo && Date.now() - this.agentInfo.at < 300_000) return this.agentInfo;
    try {
      const res = await this.transport.call('GET', `/v1/agents/${encodeURIComponent(agent)}`, { attempts: 1 });
      if (res.status !== 200) return null;
      this.agentInfo = { at: Date.now(), type: res.body.type ?? null, tags: res.body.tags ?? [] };
      return this.agentInfo;
    } catch {
      return null;
    }
  }

  private maybeRefreshControls(): void {
    if (this.controlsRefreshMs > 0 && Date.now() - this.controlsAt >= this.controlsRefreshMs) {
      this.controlsAt = Date.now();
      void this.refreshControls();
    }
  }

  private async flushAtExit(final: boolean): Promise<void> {
    if (!this.exitHooked || this.telemetry.size === 0) return;
    this.exiting = true;
    // At exit, one round of a few quick attempts: a dead hub must not hold the process for long.
    await this.telemetry.flush({ attempts: 3, keepalive: final, deadline: Date.now() + 5000 }).catch(() => {});
    if (this.telemetry.size) this.exitHooked = false;
  }
}

/** The control behind a BLOCK decision, if a control (not a policy) decided it. */
export function controlHoldOf(d: PolicyDecision): ControlHold | null {
  if (d.decision !== 'BLOCK') return null;
  const r = d.reasons.find((x) => x.policy_id === null && CONTROL_REASONS.has(x.name));
  if (!r) return null;
  return {
    reason: r.name as ControlHold['reason'],
    mode: r.effect === 'failsafe' ? 'failsafe' : 'block',
    message: r.message ?? r.name,
  };
}

const names = (d: PolicyDecision) =>
  d.reasons
    .filter((r) => r.policy_id !== null || !CONTROL_REASONS.has(r.name))
    .map((r) => `"${r.name}"`)
    .join(', ') || '(no policy named)';

/**
 * Creates a client. Options fall back to `AGENTOPS_HUB_URL`, `AGENTOPS_API_KEY` and `AGENTOPS_AGENT`.
 * @example
 * import { createAgentOps } from '@agentops-hub/sdk';
 * const agentops = createAgentOps({ agent: 'SupportBot' });
 */
export function createAgentOps(options: AgentOpsOptions = {}): AgentOps {
  return new AgentOps(options);
}
