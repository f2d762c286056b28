/**
 * The ingestion module's door: what other modules may use. Import from here, not from the module's files
 * (test/architecture.test.ts holds every module to this). Add an export only when another module needs it.
 */
export type { AgentResolver, ResolvedAgent } from './agent-resolver.ts';
export type { CostQuoter, SpentCall } from './enrichment.ts';
// The privacy module's re-redaction of stored event payloads and run content (with the runs' search index).
export { rewriteEventPayloads } from './event-content.ts';
// Other modules' reads of events, runs and rollups (a budget's spend, the simulator's recorded actions, cost
// sums, agents' last reports for the silent-agent alert).
export {
  eventsOfRunWithin,
  lastRunStarts,
  latestRunsOfAgent,
  llmSpend,
  type RecordedAction,
  type RollupSumRow,
  recordedActions,
  rollupSums,
} from './ingestion-reads.ts';
export { HOUR_MS } from './rollup-deltas.ts';
// The stats module's reads of the hourly rollups (dashboards, alert windows, plan usage).
export { agentHours, eventsSince, outcomeSumsByAgent, windowLatencies, windowSums } from './rollup-reads.ts';
export { optimizeRunSearchSqlite, type RunContent, rewriteRunContent } from './run-content.ts';
// The runs explorer's reads of runs (its list, reference matches, one run and its children).
export { childRunIds, listRuns, type RunListFilter, runById, runIdsByRef } from './run-explorer.ts';
// The runs explorer's text search.
export { searchRunIds } from './run-search.ts';
