/**
 * @module exports
 * The public surface shared by the Node and the browser entry points.
 */
export {
  AgentOps,
  type CheckOptions,
  controlHoldOf,
  createAgentOps,
  type GuardOptions,
  type RunHandle,
} from './client.ts';
export { AgentOpsError, AgentPausedError, ApiError, PolicyBlockedError } from './errors.ts';
export type {
  Action,
  AgentOpsOptions,
  Approval,
  ControlHold,
  ControlsState,
  ErrorCode,
  EventType,
  ExternalAction,
  LlmCall,
  Logger,
  PolicyDecision,
  PolicyFailureMode,
  PolicyReason,
  Problem,
  RunEnd,
  RunStart,
  TelemetryStats,
  ToolCall,
} from './types.ts';
