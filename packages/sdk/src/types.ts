/**
 * @module types
 * The SDK's public types. Wire shapes come from `@agentops-hub/contracts` as types only (erased at build
 * time), so the browser bundle carries no schema library.
 */
import type {
  ControlHold as ContractControlHold,
  Decision,
  IngestEvent,
  IngestRunBody,
  LlmCallPayload,
  Reason,
} from '@agentops-hub/contracts';

export type { ControlsState, ErrorCode, EventType, Problem } from '@agentops-hub/contracts';

/** An event as the SDK sends it to `POST /v1/ingest/events`. */
export type WireEvent = Omit<IngestEvent, 'payload'> & { payload: Record<string, unknown> };
/** A run report as the SDK sends it to `POST /v1/ingest/run`. */
export type WireRun = IngestRunBody;

/** Why the controls stop this agent: `kill_switch`, `agent_paused` or `category_paused`, and how. */
export type ControlHold = ContractControlHold;

/** A reason of a decision (the contract's `Reason`). Emergency controls have no policy: `policy_id` is null. */
export type PolicyReason = Reason;

/** The answer of `checkPolicy`: the contract's `Decision`, as `POST /v1/policy/evaluate` returns it. */
export type PolicyDecision = Decision & {
  /** True when the hub gave no answer and the SDK decided by its `policyFailure` setting. */
  unavailable?: boolean;
};

/** The action an agent asks about: `type` and any attributes its policies read as `action.<attr>`. */
export interface Action {
  type: string;
  [attribute: string]: unknown;
}

/** `GET /v1/approvals/{id}` (the approvals module has no contract schema yet; fields as in the API contract). */
export interface Approval {
  id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  policy_id: string | null;
  agent_id: string;
  run_id: string | null;
  action: Action;
  requested_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: unknown;
  comment: string | null;
}

/** An LLM call: model, tokens, and the cost when the caller knows it (else the hub prices it). */
export type LlmCall = LlmCallPayload & { run_id?: string; duration_ms?: number };

/** How `checkPolicy` answers when the hub cannot be reached. */
export type PolicyFailureMode = 'closed' | 'open';

/** A sink for the SDK's own warnings (dropped events, an unreachable hub). */
export interface Logger {
  warn(message: string): void;
}

export interface AgentOpsOptions {
  /** The hub's base URL. Default: `AGENTOPS_HUB_URL`, else `http://localhost:3000`. */
  hubUrl?: string;
  /** An API key (`ahk_…`, scope `ingest` is enough). Default: `AGENTOPS_API_KEY`. */
  apiKey?: string;
  /** The agent's name or id. Default: `AGENTOPS_AGENT`. `run(name)` falls back to `name`. */
  agent?: string;
  /** `closed` (default): an unanswered policy check is a BLOCK. `open`: it is an ALLOW. */
  policyFailure?: PolicyFailureMode;
  /**
   * Failsafe mode: when the agent is paused or the kill switch is on, `guard` records the action as
   * log-only and skips it (returning `undefined`) instead of throwing `AgentPausedError`.
   */
  failsafe?: boolean;
  /** Send buffered telemetry at least this often (ms). Default 1000. */
  flushIntervalMs?: number;
  /** Send as soon as this many events are buffered. Default 200 (the hub takes up to 1000 per call). */
  batchSize?: number;
  /** At most this many events are buffered; newer ones are dropped and counted. Default 10,000. */
  maxQueueSize?: number;
  /** Attempts per request before giving up for now (telemetry stays buffered). Default 5. */
  maxRetries?: number;
  /** Timeout of one HTTP request (ms). Default 10,000. */
  requestTimeoutMs?: number;
  /** How long one policy check may take, retries included, before it counts as unanswered (ms). Default 15,000. */
  policyTimeoutMs?: number;
  /** How long `guard` waits for a person to decide (ms). Default: until the approval expires. */
  approvalTimeoutMs?: number;
  /** Refresh the controls (`GET /v1/controls`) at most this often (ms). Default 30,000. 0 turns polling off. */
  controlsRefreshMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Where the SDK's warnings go. Default: `console`. `false` silences them. */
  logger?: Logger | false;
  /** Flush on process exit (Node) or page hide (browsers). Default true. */
  flushOnExit?: boolean;
  /** Disable all network activity: records are dropped, `checkPolicy` answers ALLOW. For tests and local dev. */
  disabled?: boolean;
}

/** Starting a run: everything optional; the SDK makes the run id and the timestamps. */
export interface RunStart {
  run_id?: string;
  agent?: string;
  name?: string;
  input?: unknown;
  external_ref?: string;
  environment?: 'prod' | 'staging' | 'test';
  metadata?: Record<string, unknown>;
  tags?: string[];
  parent_run_id?: string;
}

export interface RunEnd {
  status?: 'completed' | 'failed';
  output?: unknown;
  error?: unknown;
}

export interface ToolCall {
  tool: string;
  args?: unknown;
  result?: unknown;
  error?: unknown;
  duration_ms?: number;
  run_id?: string;
}

export interface ExternalAction {
  action: Action;
  status?: 'done' | 'failed' | 'skipped';
  result?: unknown;
  error?: unknown;
  decision_id?: string;
  approval_id?: string;
  duration_ms?: number;
  run_id?: string;
}

/** Counters of the telemetry pipeline. */
export interface TelemetryStats {
  queued: number;
  sent: number;
  dropped: number;
  rejected: number;
  failedAttempts: number;
}
