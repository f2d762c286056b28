/**
 * The policies module's door: what other modules may use. Import from here, not from the module's files
 * (test/architecture.test.ts holds every module to this). Add an export only when another module needs it.
 */

// Adherence, read from recorded decisions (stats), and the approvals module's outcomes kept on them
// (wired in context.ts: approvals never imports policies).
export { type Adherence, rangeAdherence, recordApprovalOutcome, runAdherence } from './decision-adherence.ts';
// The privacy module's re-redaction of stored decisions' content.
export { rewriteDecisionContent } from './decision-content.ts';
// Other modules' reads of recorded decisions (alerts' counts and violation notices, stats, the runs replay).
export { blockedSince, decisionsOfRun, violationsAfter } from './decision-reads.ts';
export type { PolicyService } from './policies.service.ts';
export { toPolicy } from './policies.service.ts';
