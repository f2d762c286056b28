/**
 * `POST /v1/policies/simulate`: what a draft policy would have decided over the actions recorded in a
 * window (past evaluations, and tool calls and external actions from runs), before anyone activates it.
 * The draft is evaluated alone, as if it were the only active policy.
 *
 * The caller writes both the draft and (through its agents) the recorded actions, so the work is bounded
 * like a request's, not like a report's: at most `maxActions` rows and `budgetMs` of wall time, read in
 * pages and evaluated in slices that yield to the event loop, so /healthz and other tenants keep being
 * answered. An answer cut short says so (`truncated`, `truncated_reason`, `rows_examined`).
 */
import type { Kysely } from 'kysely';
import { orgScope } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { createAgentStore } from '../agents/index.ts';
import { recordedActions } from '../ingestion/index.ts';
import type { PolicyEngine } from './policy-engine.ts';

export interface SimulationLimits {
  /** Recorded actions examined at most (evaluations first, then run events). */
  maxActions: number;
  /** Wall time after which the simulation stops and answers what it has. */
  budgetMs: number;
  /** Rows read per query. */
  pageSize: number;
  /** Evaluation time between two yields to the event loop. */
  sliceMs: number;
}
export const SIMULATION_LIMITS: SimulationLimits = { maxActions: 10_000, budgetMs: 2_000, pageSize: 250, sliceMs: 10 };

/** A recorded action as read; its JSON is parsed when it is judged, inside the time budget. */
type Recorded = {
  source: 'evaluation' | 'external_action' | 'tool_called';
  id: string;
  agent_id: string;
  at: number;
  json: string;
  context: string | null;
  was: string | null;
};
type Cursor = { at: number; id: string } | null;

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createSimulator<Set>(deps: {
  db: Kysely<Database>;
  engine: Pick<PolicyEngine<Set>, 'compile' | 'evaluate'>;
  limits?: Partial<SimulationLimits>;
}) {
  const { db } = deps;
  const registry = createAgentStore(db);
  const defaults = { ...SIMULATION_LIMITS, ...deps.limits };

  /** One page of past evaluations after `cursor`, in (created_at, id) order. */
  async function decisionsPage(orgId: OrgId, from: number, to: number, cursor: Cursor, n: number) {
    let q = orgScope(db, orgId)
      .selectFrom('decisions')
      .select(['id', 'agent_id', 'action', 'context', 'decision', 'created_at'])
      .where('created_at', '>=', from)
      .where('created_at', '<', to);
    if (cursor)
      q = q.where((eb) =>
        eb.or([eb('created_at', '>', cursor.at), eb.and([eb('created_at', '=', cursor.at), eb('id', '>', cursor.id)])]),
      );
    const rows = await q.orderBy('created_at').orderBy('id').limit(n).execute();
    return rows.map(
      (d): Recorded => ({
        source: 'evaluation',
        id: d.id,
        agent_id: d.agent_id,
        at: Number(d.created_at),
        json: d.action,
        context: d.context,
        was: d.decision,
      }),
    );
  }

  /** One page of tool calls and external actions from runs after `cursor`, in (ts, id) order (ingestion's door). */
  async function eventsPage(orgId: OrgId, from: number, to: number, cursor: Cursor, n: number) {
    const rows = await recordedActions(db, orgId, from, to, cursor, n);
    return rows.map(
      (e): Recorded => ({
        source: e.type,
        id: e.id,
        agent_id: e.agent_id,
        at: e.ts,
        json: e.payload,
        context: null,
        was: null,
      }),
    );
  }

  /** The action a recorded row stands for: a decision's action, or a run event's payload typed by its tool. */
  function actionOf(r: Recorded): Record<string, unknown> {
    const parsed = JSON.parse(r.json) as Record<string, unknown>;
    if (r.source === 'evaluation') return parsed;
    return { ...parsed, type: String(parsed.action ?? parsed.tool ?? r.source) };
  }

  /**
   * @example
   * await simulate(orgId, { name: 'draft', rule: { when: {...}, then: 'block' } }, from, to, { maxActions: 500 });
   */
  return async function simulate(
    orgId: OrgId,
    draft: { name: string; priority?: number; rule: unknown },
    from: number,
    to: number,
    opts: { maxActions?: number } = {},
  ) {
    const started = performance.now();
    const maxActions = Math.min(opts.maxActions ?? defaults.maxActions, defaults.maxActions);
    const set = deps.engine.compile([
      { id: 'draft', name: draft.name, priority: draft.priority ?? 0, status: 'active', rule: draft.rule },
    ]);
    const agents = new Map(
      (await registry.forOrg(orgId).all()).map(({ id, name, type, tags, environment, team_id }) => [
        id,
        { id, name, type, environment, team_id, tags: JSON.parse(tags) as string[] },
      ]),
    );

    const counts = { ALLOW: 0, BLOCK: 0, REQUIRE_APPROVAL: 0 };
    const samples: unknown[] = [];
    let changed = 0;
    let matched = 0;
    let examined = 0;
    let stopped: 'max_actions' | 'time_budget' | null = null;
    let slice = performance.now();

    const judge = (r: Recorded) => {
      const agent = agents.get(r.agent_id);
      if (!agent) return;
      const action = actionOf(r);
      const context = r.context === null ? {} : (JSON.parse(r.context) as Record<string, unknown>);
      const out = deps.engine.evaluate(
        set,
        { agent: { ...agent }, action: action as { type: string }, context },
        { defaultDeny: false },
      );
      counts[out.decision]++;
      if (!out.reasons.length && !out.monitors.length) return;
      matched++;
      if (r.was && r.was !== out.decision) changed++;
      if (samples.length < 50)
        samples.push({
          source: r.source,
          id: r.id,
          agent: agent.name,
          at: new Date(r.at).toISOString(),
          action,
          would_decide: out.monitors.length ? `LOG_ONLY(${out.monitors[0]!.effect})` : out.decision,
          was: r.was,
        });
    };

    for (const page of [decisionsPage, eventsPage]) {
      let cursor: Cursor = null;
      while (stopped === null) {
        // One row more than the budget allows tells a cut-short answer from an exact one.
        const left = maxActions - examined;
        const rows = await page(orgId, from, to, cursor, Math.min(defaults.pageSize, left + 1));
        for (const r of rows) {
          if (examined === maxActions) stopped = 'max_actions';
          else if (performance.now() - started > defaults.budgetMs) stopped = 'time_budget';
          if (stopped) break;
          judge(r);
          examined++;
          // Yield between slices (setImmediate lets queued I/O, e.g. /healthz, run first).
          if (performance.now() - slice > defaults.sliceMs) {
            await nextTick();
            slice = performance.now();
          }
        }
        const last = rows.at(-1);
        if (!last || rows.length < Math.min(defaults.pageSize, left + 1)) break;
        cursor = { at: last.at, id: last.id };
        await nextTick(); // SQLite reads block the thread: never two pages in one turn
        slice = performance.now();
      }
    }

    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      actions: examined,
      matched,
      would_decide: counts,
      changed_from_recorded: changed,
      samples,
      truncated: stopped !== null,
      /** Why the simulation stopped before the end of the window, or null when it saw every action. */
      truncated_reason: stopped,
      rows_examined: examined,
      elapsed_ms: Math.round(performance.now() - started),
    };
  };
}
