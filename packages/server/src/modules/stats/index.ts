/**
 * The stats module's door: what other modules may use. Import from here, not from the module's files
 * (test/architecture.test.ts holds every module to this). Add an export only when another module needs it.
 */

export type { Sketch } from '../../platform/latency-sketch.ts';
export { addToSketch, mergeSketches, quantile } from '../../platform/latency-sketch.ts';
export type { Adherence } from '../policies/index.ts';
export { createPlanUsage, type PlanUsage } from './plan-usage.ts';
export { hourFloor, type WindowTotals, windowTotals } from './window-totals.ts';
