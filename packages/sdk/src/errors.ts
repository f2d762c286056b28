/**
 * @module errors
 * What the SDK throws. Telemetry never throws; these come only from calls whose answer the agent needs:
 * `guard` (refused actions), `waitForApproval` and the explicit API helpers.
 */
import type { ErrorCode, Problem } from '@agentops-hub/contracts';
import type { ControlHold, PolicyDecision } from './types.ts';

/** The base class of every error the SDK throws. */
export class AgentOpsError extends Error {
  override name = 'AgentOpsError';
}

/**
 * The hub answered with a problem document (RFC 9457), or could not be reached (`code: 'unreachable'`).
 * @example
 * try { await agentops.waitForApproval('apr_missing'); } catch (e) { if (e instanceof ApiError) console.log(e.code); }
 */
export class ApiError extends AgentOpsError {
  override name = 'ApiError';
  constructor(
    /** The hub's stable error code, or `unreachable` when no answer came back. */
    readonly code: ErrorCode | 'unreachable',
    /** HTTP status; 0 when the hub was not reached. */
    readonly status: number,
    message: string,
    readonly problem?: Problem,
  ) {
    super(message);
  }
}

/**
 * The agent is stopped by an emergency control: the org's kill switch, a pause of this agent, or a pause of
 * its category. `guard` throws it instead of running the action.
 * @example
 * try { await agentops.guard({ type: 'send_email' }, send); }
 * catch (e) { if (e instanceof AgentPausedError) console.log(`stopped: ${e.hold.message}`); }
 */
export class AgentPausedError extends AgentOpsError {
  override name = 'AgentPausedError';
  constructor(readonly hold: ControlHold) {
    super(`Agent paused (${hold.reason}): ${hold.message}`);
  }
}

/**
 * The action was refused: a policy blocked it, its approval was rejected or expired, no decision came in
 * time, or the hub was unreachable and policy checks fail closed.
 * @example
 * catch (e) { if (e instanceof PolicyBlockedError) console.log(e.policies.join(', ')); }
 */
export class PolicyBlockedError extends AgentOpsError {
  override name = 'PolicyBlockedError';
  constructor(
    readonly decision: PolicyDecision,
    message: string,
  ) {
    super(message);
  }
  /** The names of the policies (or controls) behind the refusal. */
  get policies(): string[] {
    return this.decision.reasons.map((r) => r.name);
  }
}
