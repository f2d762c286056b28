/**
 * `POST /v1/policies/simulate`: what a draft policy would have decided over the actions recorded in a
 * window (past evaluations, and tool calls and external actions from runs), before anyone activates it.
 * The draft is evaluated alone, as if it were the only active policy.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { PolicyEngine } from './evaluate.service.ts';

const MAX_ACTIONS = 10_000;

export function createSimulator<Set>(deps: { db: Kysely<Database>; engine: PolicyEngine<Set> }) {
  const { db } = deps;
  return async function simulate(
    orgId: OrgId,
    draft: { name: string; priority?: number; rule: unknown },
    from: number,
    to: number,
  ) {
    const set = deps.engine.compile([
      { id: 'draft', name: draft.name, priority: draft.priority ?? 0, status: 'active', rule: draft.rule },
    ]);
    const agents = new Map(
      (
        await db
          .selectFrom('agents')
          .select(['id', 'name', 'type', 'tags', 'environment', 'team_id'])
          .where('org_id', '=', orgId)
          .execute()
      ).map((a) => [a.id, { ...a, tags: JSON.parse(a.tags) as string[] }]),
    );
    const decisions = await db
      .selectFrom('decisions')
      .select(['id', 'agent_id', 'action', 'context', 'decision', 'created_at'])
      .where('org_id', '=', orgId)
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .orderBy('created_at')
      .limit(MAX_ACTIONS)
      .execute();
    const events = await db
      .selectFrom('events')
      .select(['id', 'agent_id', 'run_id', 'type', 'payload', 'ts'])
      .where('org_id', '=', orgId)
      .where('type', 'in', ['external_action', 'tool_called'])
      .where('ts', '>=', from)
      .where('ts', '<', to)
      .orderBy('ts')
      .limit(MAX_ACTIONS)
      .execute();

    const recorded = [
      ...decisions.map((d) => ({
        source: 'evaluation' as const,
        id: d.id,
        agent_id: d.agent_id,
        at: Number(d.created_at),
        action: JSON.parse(d.action) as Record<string, unknown>,
        context: JSON.parse(d.context) as Record<string, unknown>,
        was: d.decision,
      })),
      ...events.map((e) => {
        const p = JSON.parse(e.payload) as Record<string, unknown>;
        const type = String(p.action ?? p.tool ?? e.type);
        return {
          source: e.type as 'external_action' | 'tool_called',
          id: e.id,
          agent_id: e.agent_id,
          at: Number(e.ts),
          action: { ...p, type },
          context: {},
          was: null as string | null,
        };
      }),
    ];
    const counts = { ALLOW: 0, BLOCK: 0, REQUIRE_APPROVAL: 0 };
    const matches: unknown[] = [];
    let changed = 0;
    let matched = 0;
    for (const r of recorded) {
      const agent = agents.get(r.agent_id);
      if (!agent) continue;
      const out = deps.engine.evaluate(
        set,
        { agent: { ...agent }, action: r.action as { type: string }, context: r.context },
        { defaultDeny: false },
      );
      const would = out.monitors.length ? `LOG_ONLY(${out.monitors[0]!.effect})` : out.decision;
      counts[out.decision]++;
      if (out.reasons.length || out.monitors.length) {
        matched++;
        if (r.was && r.was !== out.decision) changed++;
        if (matches.length < 50)
          matches.push({
            source: r.source,
            id: r.id,
            agent: agent.name,
            at: new Date(r.at).toISOString(),
            action: r.action,
            would_decide: would,
            was: r.was,
          });
      }
    }
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      actions: recorded.length,
      matched,
      would_decide: counts,
      changed_from_recorded: changed,
      samples: matches,
      truncated: decisions.length === MAX_ACTIONS || events.length === MAX_ACTIONS,
    };
  };
}
