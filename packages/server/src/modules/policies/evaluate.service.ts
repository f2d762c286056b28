/**
 * `POST /v1/policy/evaluate`, the second hot path, in three steps that read top to bottom:
 * 1. gather (evaluate-gather.ts): the agent, the org's settings, the emergency controls and pause
 *    budgets, the org's compiled policy set; from memory on the hot path, loaded on a miss.
 * 2. decide (evaluate-decide.ts): a pure function of what was gathered.
 * 3. record (evaluate-record.ts): the decision row (group-committed when plain), and for an approval,
 *    block or monitor its audit entry and the one call into the approvals module, in one transaction.
 * A call with an idempotency key answers the decision already made for that key, if any.
 *
 * One API, a callback: `evaluate(caller, input, done)`. A usual evaluation (everything cached, a plain
 * ALLOW) makes no promise from the route to the group commit's callback, which is what the bench
 * (`npm run bench -- policy`) measures against a bare Fastify route.
 *
 * @example
 * evaluator.evaluate(callerOf(req), req.body, (error, answer) => reply.send(error ?? answer));
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { ApprovalService } from '../approvals/index.ts';
import type { AgentResolver } from '../ingestion/index.ts';
import { createDecisionStore } from './decisions.store.ts';
import { decide } from './evaluate-decide.ts';
import {
  type BudgetCheck,
  type ControlCheck,
  createGather,
  type Done,
  type EvaluateInput,
  type Evaluation,
  type GatherDeps,
} from './evaluate-gather.ts';
import { createRecord, type RecordDeps } from './evaluate-record.ts';
import type { PolicyStore } from './policies.store.ts';
import type { PolicyEngine } from './policy-engine.ts';

export type { PolicyEngine } from './policy-engine.ts';

/** How often the advisory hit counts are written. */
const HIT_FLUSH_MS = 3000;

export function createEvaluator<Set>(deps: {
  db: Kysely<Database>;
  /** The raw SQLite handle for the prepared-statement decision writer (absent on PostgreSQL). */
  sqlite?: import('better-sqlite3').Database;
  engine: PolicyEngine<Set>;
  /** The org's active policies (policies.service `active`). */
  loadActive: GatherDeps<Set>['loadActive'];
  orgs: GatherDeps<Set>['orgs'];
  /** Where the hit counts are written. */
  policies: Pick<PolicyStore, 'forOrg'>;
  resolver: AgentResolver;
  controls: ControlCheck;
  budgets?: BudgetCheck;
  approvals: Pick<ApprovalService, 'settle'>;
  audit: AuditStore;
  callbackUrls: GatherDeps<Set>['callbackUrls'];
  clock: () => number;
  privacy?: RecordDeps['privacy'];
}) {
  const { clock, engine } = deps;
  const hits = new Map<string, { orgId: OrgId; n: number; at: number }>();
  const decisions = createDecisionStore(deps.db, deps.sqlite);
  const gather = createGather<Set>(deps);
  const record = createRecord({ ...deps, decisions, engine, countHits });

  /** The decision for `input`, recorded, then handed to `done`. */
  function evaluate(caller: Evaluation<Set>['caller'], input: EvaluateInput, done: Done): void {
    const ev = gather.begin(caller, input, done);
    if (!ev) return;
    // A call with an idempotency key is decided too; its row's key answers a retry (evaluate-record.ts).
    gather.run(ev, decideAndRecord);
  }

  function decideAndRecord(ev: Evaluation<Set>): void {
    const now = clock();
    let decided: ReturnType<typeof decide>;
    try {
      decided = decide(ev, engine, now);
    } catch (e) {
      ev.done(e);
      return;
    }
    record.record(ev, decided, now);
  }

  // Hit counts are advisory: counted in memory and written every few seconds, off the hot path.
  function countHits(orgId: OrgId, matched: readonly { policy_id: string | null }[], now: number) {
    for (const r of matched) {
      if (!r.policy_id) continue;
      const h = hits.get(r.policy_id);
      if (h) {
        h.n++;
        h.at = now;
      } else hits.set(r.policy_id, { orgId, n: 1, at: now });
    }
  }
  async function flushHits() {
    const batch = [...hits.entries()];
    hits.clear();
    for (const [policyId, h] of batch)
      await deps.policies
        .forOrg(h.orgId)
        .addHits(policyId, h.n, h.at)
        .catch(() => {});
  }
  const flushTimer = setInterval(() => void flushHits(), HIT_FLUSH_MS);
  flushTimer.unref();

  return {
    evaluate,
    /** Drop an org's compiled set; the next evaluation compiles the current policies. */
    invalidate: (orgId: string) => gather.invalidate(orgId),
    flushHits,
    stop: () => clearInterval(flushTimer),
    drain: () => decisions.drain(),
  };
}
export type Evaluator = ReturnType<typeof createEvaluator>;
