/**
 * Resolves the agent an ingest call names (id or unique name) to its id, registering it on the spot
 * when the org allows it. Cached per org for the hot path; the cache is short-lived and dropped for
 * an org whenever one of its agents changes in this process.
 *
 * An API key bound to agents (`agent_ids`) resolves only those: any other name, known or new, answers
 * 403 before anything is registered, on a cache hit as on a miss. Otherwise a paused or restricted
 * agent could escape its pause and its policies by calling itself something else.
 */
import type { Actor, Agent } from '@agentops-hub/contracts';
import type { OrgId } from '../../platform/caller.ts';
import { chain, type MaybePromise } from '../../platform/maybe-promise.ts';
import { type AgentService, notBoundTo } from '../agents/index.ts';

const TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;

export type ResolvedAgent = Pick<Agent, 'id' | 'name' | 'environment' | 'tags' | 'status' | 'type' | 'team_id'>;

/** The agents an API key may act as (null: any); see ApiKeyService.agentBinding. */
export type KeyAgentBinding = (keyId: string) => MaybePromise<ReadonlySet<string> | null>;

export function createAgentResolver(deps: {
  agents: Pick<AgentService, 'resolveOrRegister'>;
  clock: () => number;
  /** Absent: keys are never bound (tests of other modules that build a resolver by hand). */
  keyBinding?: KeyAgentBinding;
}) {
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
      if (actor.type === 'api_key' && actor.id && deps.keyBinding)
        return chain(deps.keyBinding(actor.id), (allowed) =>
          allowed ? resolveBound(orgId, actor, idOrName, allowed, env) : resolveAny(orgId, actor, idOrName, env),
        );
      return resolveAny(orgId, actor, idOrName, env);
    },
    /** Drop an org's entries (an agent was renamed, paused, deleted…). */
    invalidate(orgId: string) {
      const org = cache.get(orgId);
      if (!org) return;
      entries -= org.size;
      cache.delete(orgId);
    },
  };

  function resolveAny(orgId: OrgId, actor: Actor, idOrName: string, env?: 'prod' | 'staging' | 'test') {
    const hit = cache.get(orgId)?.get(idOrName);
    if (hit && deps.clock() - hit.at < TTL_MS) return hit.agent;
    return load(orgId, actor, idOrName, env);
  }

  function resolveBound(
    orgId: OrgId,
    actor: Actor,
    idOrName: string,
    allowed: ReadonlySet<string>,
    env?: 'prod' | 'staging' | 'test',
  ): MaybePromise<ResolvedAgent> {
    const hit = cache.get(orgId)?.get(idOrName);
    if (hit && deps.clock() - hit.at < TTL_MS) {
      // A rejected promise, not a throw: callers chain on the result and expect errors there.
      return allowed.has(hit.agent.id) ? hit.agent : Promise.reject(notBoundTo(idOrName));
    }
    return load(orgId, actor, idOrName, env, allowed);
  }

  async function load(
    orgId: OrgId,
    actor: Actor,
    idOrName: string,
    env?: 'prod' | 'staging' | 'test',
    allowed?: ReadonlySet<string>,
  ) {
    const now = deps.clock();
    const a = await deps.agents.resolveOrRegister(orgId, actor, idOrName, env, allowed);
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
