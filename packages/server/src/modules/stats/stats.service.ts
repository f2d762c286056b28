/**
 * Dashboard figures, read from the hourly rollups only (through the ingestion door), so their cost grows with hours × agents, not
 * with raw events. Ranges are aligned to whole hours. Outcomes are disjoint, as the console shows them
 * (`RunOutcomes`): the rollups' `failed` counts every failed run, of which `blocked` and `paused` were
 * stopped on purpose; `failed` here is the rest. Success and failure rates leave the stopped ones out.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import { notFound } from '../../platform/errors.ts';
import { mergeSketches, quantile, type Sketch } from '../../platform/latency-sketch.ts';
import { createAgentStore } from '../agents/index.ts';
import { agentHours, HOUR_MS, latestRunsOfAgent, outcomeSumsByAgent } from '../ingestion/index.ts';
import { rangeAdherence, runAdherence } from '../policies/index.ts';
import { toRun } from '../runs/index.ts';

const DAY_MS = 24 * HOUR_MS;

/** A rollup sum's runs by outcome: `failed` without the blocked and paused runs it includes. */
function outcomes(r: { runs: unknown; completed: unknown; failed: unknown; blocked: unknown; paused: unknown }) {
  const n = (v: unknown) => Number(v ?? 0);
  const blocked = n(r.blocked);
  const paused = n(r.paused);
  return { runs: n(r.runs), completed: n(r.completed), failed: n(r.failed) - blocked - paused, blocked, paused };
}

export function resolveRange(from?: string, to?: string, now = Date.now()) {
  const end = to ? Date.parse(to) : now;
  const start = from ? Date.parse(from) : end - 30 * DAY_MS;
  return { start: Math.floor(start / HOUR_MS) * HOUR_MS, end };
}

export function createStatsService(deps: { db: Kysely<Database>; clock: () => number }) {
  const { db } = deps;
  const agents = createAgentStore(db);
  return {
    async overview(orgId: OrgId, from?: string, to?: string) {
      const { start, end } = resolveRange(from, to, deps.clock());
      // The all-models rows (model '') hold each agent-hour's runs and its LLM totals.
      const rows = await outcomeSumsByAgent(db, orgId, start, end);
      const n = (v: unknown) => Number(v ?? 0);
      const total = rows.reduce(
        (t, r) => {
          const o = outcomes(r);
          return {
            runs: t.runs + o.runs,
            completed: t.completed + o.completed,
            failed: t.failed + o.failed,
            blocked: t.blocked + o.blocked,
            paused: t.paused + o.paused,
            cost: t.cost + n(r.cost_nano),
            in: t.in + n(r.input_tokens),
            out: t.out + n(r.output_tokens),
            unpriced: t.unpriced + n(r.unpriced_calls),
          };
        },
        { runs: 0, completed: 0, failed: 0, blocked: 0, paused: 0, cost: 0, in: 0, out: 0, unpriced: 0 },
      );
      const top = rows.sort((a, b) => n(b.runs) - n(a.runs) || n(b.cost_nano) - n(a.cost_nano)).slice(0, 5);
      const names = await agents.forOrg(orgId).namesOf(top.map((t) => t.agent_id));
      const judged = total.completed + total.failed;
      const finished = judged + total.blocked + total.paused;
      return {
        from: new Date(start).toISOString(),
        to: new Date(end).toISOString(),
        runs: total.runs,
        completed: total.completed,
        failed: total.failed,
        blocked: total.blocked,
        paused: total.paused,
        running: Math.max(0, total.runs - finished),
        // Blocked and paused runs did what they were told: they count neither for nor against.
        success_rate: judged ? total.completed / judged : 0,
        cost_usd: total.cost / 1e9,
        input_tokens: total.in,
        output_tokens: total.out,
        unpriced_llm_calls: total.unpriced,
        top_agents: top.map((t) => {
          const o = outcomes(t);
          return {
            id: t.agent_id,
            name: names.get(t.agent_id) ?? '',
            runs: o.runs,
            failed: o.failed,
            blocked: o.blocked,
            paused: o.paused,
            cost_usd: n(t.cost_nano) / 1e9,
          };
        }),
      };
    },

    /**
     * The org's adherence over a range, every agent together (docs/policies.md, Adherence). Apart from
     * the overview because it reads decisions, not rollups: its cost grows with the decisions in the
     * range, so the overview (and the reports that call it) keep a cost that does not.
     */
    async adherence(orgId: OrgId, from?: string, to?: string) {
      const { start, end } = resolveRange(from, to, deps.clock());
      return {
        from: new Date(start).toISOString(),
        to: new Date(end).toISOString(),
        ...(await rangeAdherence(db, orgId, null, start, end, deps.clock())),
      };
    },

    async agent(orgId: OrgId, idOrName: string, from?: string, to?: string, bucket: 'hour' | 'day' = 'day') {
      const agent = await agents.forOrg(orgId).find(idOrName);
      if (!agent) throw notFound('Agent');
      const { start, end } = resolveRange(from, to, deps.clock());
      const rows = await agentHours(db, orgId, agent.id, start, end);
      const size = bucket === 'hour' ? HOUR_MS : DAY_MS;
      type Totals = ReturnType<typeof outcomes> & { cost: number; latSum: number; latN: number; hist: Sketch };
      const empty = (): Totals => ({
        runs: 0,
        completed: 0,
        failed: 0,
        blocked: 0,
        paused: 0,
        cost: 0,
        latSum: 0,
        latN: 0,
        hist: {},
      });
      const add = (t: Totals, r: (typeof rows)[number], hist: Sketch) => {
        const o = outcomes(r);
        t.runs += o.runs;
        t.completed += o.completed;
        t.failed += o.failed;
        t.blocked += o.blocked;
        t.paused += o.paused;
        t.cost += Number(r.cost_nano);
        t.latSum += Number(r.latency_sum_ms);
        t.latN += Number(r.latency_count);
        mergeSketches(t.hist, hist);
      };
      const series = new Map<number, Totals>();
      const all = empty();
      for (const r of rows) {
        const b = Math.floor(Number(r.hour) / size) * size;
        const s = series.get(b) ?? empty();
        const hist = JSON.parse(r.latency_hist) as Sketch;
        add(s, r, hist);
        add(all, r, hist);
        series.set(b, s);
      }
      const { runs, completed, failed, blocked, paused, cost, latSum, latN } = all;
      const latest = await latestRunsOfAgent(db, orgId, agent.id, 10);
      const terminal = completed + failed;
      const now = deps.clock();
      const adherence = await rangeAdherence(db, orgId, agent.id, start, end, now);
      const byRun = await runAdherence(
        db,
        orgId,
        latest.map((r) => r.id),
        now,
      );
      return {
        agent: { id: agent.id, name: agent.name },
        from: new Date(start).toISOString(),
        to: new Date(end).toISOString(),
        bucket,
        runs,
        completed,
        failed,
        blocked,
        paused,
        // Blocked and paused runs are not failures: the rate is of the runs that finished on their own.
        failure_rate: terminal ? failed / terminal : 0,
        latency_avg_ms: latN ? Math.round(latSum / latN) : null,
        latency_p95_ms: quantile(all.hist, 0.95),
        cost_usd: cost / 1e9,
        series: [...series.entries()].map(([b, s]) => ({
          at: new Date(b).toISOString(),
          runs: s.runs,
          completed: s.completed,
          failed: s.failed,
          blocked: s.blocked,
          paused: s.paused,
          failure_rate: s.completed + s.failed ? s.failed / (s.completed + s.failed) : 0,
          latency_avg_ms: s.latN ? Math.round(s.latSum / s.latN) : null,
          latency_p95_ms: quantile(s.hist, 0.95),
          cost_usd: s.cost / 1e9,
        })),
        // Share of policy-evaluated actions that went through without a block, rejection or override.
        adherence,
        latest_runs: latest.map((r) => ({ ...toRun(r, agent.name), adherence: byRun.get(r.id) ?? null })),
      };
    },
  };
}
export type StatsService = ReturnType<typeof createStatsService>;
