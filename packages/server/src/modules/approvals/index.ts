/**
 * The approvals module's door: what other modules may use. Import from here, not from the module's files
 * (test/architecture.test.ts holds every module to this). Add an export only when another module needs it.
 * The evaluator enters through one call, `ApprovalService.settle` (approval-requests.ts).
 */

// The privacy module's re-redaction of the action approvers are shown.
export { rewriteApprovalActions } from './approval-content.ts';
// Other modules' reads of approvals (alerts' waiting count, stats, the runs replay).
export { approvalsOfRun, countWaiting } from './approval-reads.ts';
export type {
  ApprovalAsk,
  ApprovalRequest,
  ApprovalService,
  ApprovalVerdict,
  Approvers,
} from './approvals.service.ts';
export { toApproval } from './approvals.service.ts';
