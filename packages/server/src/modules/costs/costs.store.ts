/**
 * The SQL of cost analytics (costs.service.ts): rollup sums per grouping; the org's time zone and the
 * names of the agents and teams a result lists come from their owners' stores. Every query is scoped by
 * org. The sums still read ingestion's `rollups_hourly` (joined to `agents` for a team) directly: on the
 * list in test/table-ownership.test.ts until ingestion's door offers them.
 */
import type { CostGroupBy, CostsQuery } from '@agentops-hub/contracts';
import { type Kysely, sql } from 'kysely';
import { orgScope } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createOrgStore } from '../../platform/orgs/orgs.store.ts';
import { createAgentStore } from '../agents/index.ts';

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

  /** The rollup rows of the range, summed per grouping column (and per hour for calendar groupings). */
  async function sums(orgId: OrgId, groupBy: CostGroupBy, start: number, end: number, q: CostsQuery) {
    const byModel = groupBy === 'model';
    // Agents join in only where a team is needed (its team); the agent's current team is what counts.
    const needsTeam = Boolean(q.team_id) || groupBy === 'team';
    const scope = orgScope(db, orgId);
    let query = scope
      .selectFrom('rollups_hourly as r')
      .leftJoin('agents as a', (j) =>
        needsTeam ? j.onRef('a.id', '=', 'r.agent_id').on(scope.sameOrg('a', 'r')) : j.on(sql.lit(false)),
      )
      .select((eb) => [
        eb.fn.sum<number>('r.cost_nano').as('cost'),
        eb.fn.sum<number>('r.input_tokens').as('input'),
        eb.fn.sum<number>('r.output_tokens').as('output'),
        eb.fn.sum<number>('r.llm_calls').as('calls'),
        eb.fn.sum<number>('r.runs').as('runs'),
        eb.fn.sum<number>('r.unpriced_calls').as('unpriced'),
      ])
      .where('r.model', byModel ? '!=' : '=', '')
      .where('r.hour', '>=', start)
      .where('r.hour', '<', end);
    if (q.agent_id) query = query.where('r.agent_id', '=', q.agent_id);
    if (q.team_id) query = query.where('a.team_id', '=', q.team_id);
    const n = (v: unknown) => Number(v ?? 0);
    const toSums = (r: {
      cost: unknown;
      input: unknown;
      output: unknown;
      calls: unknown;
      runs: unknown;
      unpriced: unknown;
    }) => ({
      cost: n(r.cost),
      input: n(r.input),
      output: n(r.output),
      calls: n(r.calls),
      runs: byModel ? 0 : n(r.runs),
      unpriced: n(r.unpriced),
    });
    if (groupBy === 'agent')
      return (await query.select('r.agent_id as k').groupBy('r.agent_id').execute()).map((r) => ({
        k: r.k,
        s: toSums(r),
      }));
    if (groupBy === 'model')
      return (await query.select('r.model as k').groupBy('r.model').execute()).map((r) => ({ k: r.k, s: toSums(r) }));
    if (groupBy === 'team')
      return (await query.select('a.team_id as k').groupBy('a.team_id').execute()).map((r) => ({
        k: r.k ?? '',
        s: toSums(r),
      }));
    return (await query.select('r.hour as k').groupBy('r.hour').execute()).map((r) => ({
      k: String(r.k),
      s: toSums(r),
    }));
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
