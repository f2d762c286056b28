/**
 * Resolves the agent an ingest call names (id or unique name) to its id, registering it on the spot
 * when the org allows it. Cached per org for the hot path; the cache is short-lived and dropped for
 * an org whenever one of its agents changes in this process.
 */
import type { Actor, Agent } from '@agentops-hub/contracts';
import type { OrgId } from '../../platform/caller.ts';
import type { MaybePromise } from '../../platform/maybe-promise.ts';
import type { AgentService } from '../agents/agents.service.ts';

const TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;

export type ResolvedAgent = Pick<Agent, 'id' | 'name' | 'environment' | 'tags' | 'status' | 'type' | 'team_id'>;

export function createAgentResolver(deps: { agents: Pick<AgentService, 'resolveOrRegister'>; clock: () => number }) {
  // Per org, then per id or name: a lookup builds no key string, and an org's entries drop in one delete.
  const cache = new Map<string, Map<string, { agent: ResolvedAgent; at: number }>>();
  let entries = 0;
  const resolver = {
    /** The agent, plain on a cache hit (the hot path), a promise when it has to be read or registered. */
    resolve(
      orgId: OrgId,
      actor: Actor,
      idOrName: string,
      env?: 'prod' | 'staging' | 'test',
    ): MaybePromise<ResolvedAgent> {
      const hit = cache.get(orgId)?.get(idOrName);
      if (hit && deps.clock() - hit.at < TTL_MS) return hit.agent;
      return load(orgId, actor, idOrName, env);
    },
    /** Drop an org's entries (an agent was renamed, paused, deleted…). */
    invalidate(orgId: string) {
      const org = cache.get(orgId);
      if (!org) return;
      entries -= org.size;
      cache.delete(orgId);
    },
  };

  async function load(orgId: OrgId, actor: Actor, idOrName: string, env?: 'prod' | 'staging' | 'test') {
    const now = deps.clock();
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
    if (entries >= MAX_ENTRIES) {
      cache.clear();
      entries = 0;
    }
    let org = cache.get(orgId);
    if (!org) {
      org = new Map();
      cache.set(orgId, org);
    }
    for (const key of [idOrName, a.id]) {
      if (!org.has(key)) entries++;
      org.set(key, { agent, at: now });
    }
    return agent;
  }
  return resolver;
}
export type AgentResolver = ReturnType<typeof createAgentResolver>;
