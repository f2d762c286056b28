/**
 * Resolves the agent an ingest call names (id or unique name) to its id, registering it on the spot
 * when the org allows it. Cached per org for the hot path; the cache is short-lived and dropped for
 * an org whenever one of its agents changes in this process.
 */
import type { Actor, Agent } from '@agentops-hub/contracts';
import type { OrgId } from '../../platform/caller.ts';
import type { AgentService } from '../agents/agents.service.ts';

const TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;

export type ResolvedAgent = Pick<Agent, 'id' | 'name' | 'environment' | 'tags' | 'status' | 'type' | 'team_id'>;

export function createAgentResolver(deps: { agents: Pick<AgentService, 'resolveOrRegister'>; clock: () => number }) {
  const cache = new Map<string, { agent: ResolvedAgent; at: number }>();
  return {
    async resolve(
      orgId: OrgId,
      actor: Actor,
      idOrName: string,
      env?: 'prod' | 'staging' | 'test',
    ): Promise<ResolvedAgent> {
      const key = `${orgId}\u0000${idOrName}`;
      const hit = cache.get(key);
      const now = deps.clock();
      if (hit && now - hit.at < TTL_MS) return hit.agent;
      const a = await deps.agents.resolveOrRegister(orgId, actor, idOrName, env);
      const agent: ResolvedAgent = {
        id: a.id,
        name: a.name,
        environment: a.environment,
        tags: a.tags,
        status: a.status,
        type: a.type,
        team_id: a.team_id,
      };
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(key, { agent, at: now });
      cache.set(`${orgId}\u0000${a.id}`, { agent, at: now });
      return agent;
    },
    /** Drop an org's entries (an agent was renamed, paused, deleted…). */
    invalidate(orgId: string) {
      for (const k of cache.keys()) if (k.startsWith(`${orgId}\u0000`)) cache.delete(k);
    },
  };
}
export type AgentResolver = ReturnType<typeof createAgentResolver>;
