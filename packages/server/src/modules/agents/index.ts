/**
 * The agents module's door: what other modules may use. Import from here, not from the module's files
 * (test/architecture.test.ts holds every module to this). Add an export only when another module needs it.
 */
export { toAgent } from './agent-dto.ts';
// The budget ledger's cross-org reads of agents' teams, inside an enrichment pass (a system path).
export { agentTeams, sqliteAgentTeam } from './agent-teams.system.ts';
export type { AgentService } from './agents.service.ts';
export { notBoundTo } from './agents.service.ts';
// The registry's reads (and the status the controls module keeps in step with pauses), for modules that
// need agents inside their own transaction or by many ids at once: the one way to the agents table.
export { type AgentStore, createAgentStore } from './agents.store.ts';
