/**
 * The reads of cost analytics (costs.service.ts): rollup sums per grouping; the org's time zone and the
 * names of the agents and teams a result lists come from their owners' stores. Every query is scoped by
 * org. The sums come from ingestion's door (`rollupSums`), never from its tables.
 */
import type { CostGroupBy, CostsQuery } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createOrgStore } from '../../platform/orgs/orgs.store.ts';
import { createAgentStore } from '../agents/index.ts';
import { type RollupSumRow, rollupSums } from '../ingestion/index.ts';

export interface Sums {
  cost: number;
  input: number;
  output: number;
  calls: number;
  runs: number;
  unpriced: number;
}

export function createCostStore(db: Kysely<Database>) {
  const registry = createAgentStore(db);
  const orgs = createOrgStore(db);

  async function orgTimezone(orgId: OrgId) {
    return (await orgs.forOrg(orgId).getOrg())?.timezone ?? 'UTC';
  }

  /**
   * The rollup rows of the range, summed per grouping column (and per hour for calendar groupings), read
   * through ingestion's door. A team is its agents' current team: a team filter keeps the team's agents,
   * and the team grouping sums per agent and folds each agent into its team here (sums add up; an agent
   * with no team, or no longer registered, counts under '').
   */
  async function sums(orgId: OrgId, groupBy: CostGroupBy, start: number, end: number, q: CostsQuery) {
    const byModel = groupBy === 'model';
    const needsTeam = Boolean(q.team_id) || groupBy === 'team';
    const agents = needsTeam ? await registry.forOrg(orgId).all() : [];
    let agentIds: string[] | undefined = q.agent_id ? [q.agent_id] : undefined;
    if (q.team_id) {
      const inTeam = agents.filter((a) => a.team_id === q.team_id).map((a) => a.id);
      agentIds = agentIds ? agentIds.filter((id) => inTeam.includes(id)) : inTeam;
    }
    const by = groupBy === 'agent' || groupBy === 'team' ? 'agent' : groupBy === 'model' ? 'model' : 'hour';
    const rows = await rollupSums(db, orgId, { by, start, end, models: byModel, agentIds });
    const n = (v: unknown) => Number(v ?? 0);
    const toSums = (r: RollupSumRow): Sums => ({
      cost: n(r.cost),
      input: n(r.input),
      output: n(r.output),
      calls: n(r.calls),
      runs: byModel ? 0 : n(r.runs),
      unpriced: n(r.unpriced),
    });
    if (groupBy !== 'team') return rows.map((r) => ({ k: r.k, s: toSums(r) }));
    const teamOf = new Map(agents.map((a) => [a.id, a.team_id ?? '']));
    const byTeam = new Map<string, Sums>();
    for (const r of rows) {
      const team = teamOf.get(r.k) ?? '';
      const s = toSums(r);
      const acc = byTeam.get(team);
      if (!acc) byTeam.set(team, s);
      else for (const key of Object.keys(s) as (keyof Sums)[]) acc[key] += s[key];
    }
    return [...byTeam].map(([k, s]) => ({ k, s }));
  }

  async function namesOf(orgId: OrgId, groupBy: CostGroupBy, keys: string[]) {
    if (!keys.length) return new Map<string, string>();
    if (groupBy === 'agent') return new Map(await registry.forOrg(orgId).namesOf(keys));
    if (groupBy === 'team') {
      const names = await orgs.forOrg(orgId).teamNames(keys.filter(Boolean));
      return new Map([...names, ['', 'No team']]);
    }
    return new Map(keys.map((k) => [k, k]));
  }

  return { orgTimezone, sums, namesOf };
}
export type CostStore = ReturnType<typeof createCostStore>;
