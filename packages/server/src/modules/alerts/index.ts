/**
 * The alerts module's door: what other modules may use. Import from here, not from the module's files
 * (test/architecture.test.ts holds every module to this). Add an export only when another module needs it.
 */

export type { AlertService } from './alerts.service.ts';
export type { AlertEvaluator } from './alerts-evaluator.ts';
