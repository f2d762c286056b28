/**
 * `POST /v1/policy/evaluate`, the second hot path. Order: emergency controls (kill switch, paused
 * agent, paused category) → an `approval_id` the agent brings back → the org's compiled policy set.
 * Every decision is recorded (inputs, matched rules, latency) and linked to the run; an idempotency key
 * returns the same decision (and approval) for a retried call. The compiled set is cached per org and
 * swapped whole when a policy changes.
 *
 * It is longer than 400 lines because the promise-free hot path is kept whole, to read and profile as one.
 */
import type { Insertable, Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { Database, DecisionsTable } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { createGroupCommit } from '../../platform/group-commit.ts';
import { chain, type MaybePromise } from '../../platform/maybe-promise.ts';
import type { ApprovalService, Approvers } from '../approvals/index.ts';
import type { AgentResolver, ResolvedAgent } from '../ingestion/index.ts';
import { storedJson, storedValue } from './stored-action.ts';

export type Decision = 'ALLOW' | 'BLOCK' | 'REQUIRE_APPROVAL';
export interface Reason {
  policy_id: string | null;
  name: string;
  effect: string;
  message?: string;
}

/** What the evaluator needs from the policy engine (modules/policies/engine). */
export interface PolicyEngine<Set> {
  compile(policies: { id: string; name: string; priority: number; status: string; rule: unknown }[]): Set;
  evaluate(
    set: Set,
    input: { agent: Record<string, unknown>; action: Record<string, unknown>; context: Record<string, unknown> },
    opts: { defaultDeny: boolean },
  ): {
    decision: Decision;
    reasons: Reason[];
    primary: {
      policy_id: string;
      name: string;
      approvers?: Approvers;
      approval_timeout_s?: number;
      message?: string;
    } | null;
    monitors: Reason[];
  };
  actionHash(agentId: string, action: unknown): string;
  context(now: Date, timezone: string, environment: string): Record<string, unknown>;
}

/** The emergency controls' answer for an agent (modules/controls). */
export interface ControlCheck {
  check(
    orgId: OrgId,
    agent: { id: string; type: string | null; tags: string[] },
  ): MaybePromise<{ reason: string; mode: string; message: string } | null>;
}

export interface EvaluateInput {
  agent: string;
  action: { type: string; [k: string]: unknown };
  context?: Record<string, unknown>;
  run_id?: string;
  approval_id?: string;
  idempotency_key?: string;
}

const DEFAULT_APPROVAL_TIMEOUT_S = 24 * 3600;

interface OrgInfo {
  at: number;
  timezone: string;
  defaultDeny: boolean;
}

type DecisionRow = Insertable<DecisionsTable>;

/**
 * Plain decisions (no approval, nothing to audit) are recorded by group commit, like ingestion: the
 * caller still waits for its row to be durable, but concurrent evaluations share one transaction.
 */
function createDecisionWriter(db: Kysely<Database>, sqlite?: import('better-sqlite3').Database) {
  const cols = [
    'id',
    'org_id',
    'agent_id',
    'run_id',
    'action_type',
    'action',
    'context',
    'decision',
    'reasons',
    'monitors',
    'approval_id',
    'idempotency_key',
    'latency_us',
    'created_at',
  ] as const;
  const insert = sqlite?.prepare(
    `insert into decisions (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`,
  );
  const writeSqlite = sqlite?.transaction((rows: DecisionRow[]) => {
    for (const r of rows)
      insert!.run(
        r.id,
        r.org_id,
        r.agent_id,
        r.run_id ?? null,
        r.action_type,
        r.action,
        r.context,
        r.decision,
        r.reasons,
        r.monitors,
        r.approval_id ?? null,
        r.idempotency_key ?? null,
        r.latency_us,
        r.created_at,
      );
  });
  return createGroupCommit<DecisionRow>({
    write: async (rows) => {
      if (writeSqlite) await db.connection().execute(async () => writeSqlite(rows));
      else await db.insertInto('decisions').values(rows).execute();
    },
  });
}

export function createEvaluator<Set>(deps: {
  db: Kysely<Database>;
  /** The raw SQLite handle for the prepared-statement decision writer (absent on PostgreSQL). */
  sqlite?: import('better-sqlite3').Database;
  engine: PolicyEngine<Set>;
  loadActive: (
    orgId: OrgId,
  ) => Promise<{ id: string; name: string; priority: number; status: string; rule: unknown }[]>;
  resolver: AgentResolver;
  controls: ControlCheck;
  /** Budgets with on_exceed "pause": BLOCK when spent, or when the action's estimated cost would pass them. */
  budgets?: {
    check(
      orgId: OrgId,
      agent: { id: string; team_id?: string | null },
      estimatedCostUsd?: number | null,
    ): MaybePromise<{ budget_id: string; message: string } | null>;
  };
  approvals: ApprovalService;
  audit: AuditStore;
  clock: () => number;
}) {
  const { db, clock } = deps;
  const decisionWriter = createDecisionWriter(db, deps.sqlite);
  const sets = new Map<string, Promise<Set>>();
  /** Compiled sets that have finished loading, read without a promise on the hot path. */
  const ready = new Map<string, Set>();
  const orgInfo = new Map<string, OrgInfo>();
  const hits = new Map<string, { org: string; n: number; at: number }>();
  const agentViews = new WeakMap<ResolvedAgent, Record<string, unknown>>();

  function compiled(orgId: OrgId): MaybePromise<Set> {
    const done = ready.get(orgId);
    if (done !== undefined) return done;
    let s = sets.get(orgId);
    if (!s) {
      const loading: Promise<Set> = deps.loadActive(orgId).then((ps) => {
        const set = deps.engine.compile(ps);
        // Only the latest load may publish: an invalidation while it ran started a newer one.
        if (sets.get(orgId) === loading) ready.set(orgId, set);
        return set;
      });
      s = loading;
      sets.set(orgId, s);
      s.catch(() => sets.delete(orgId));
    }
    return s;
  }

  /** A spent (or about to be overspent) pause budget holds the agent like a pause does. */
  function budgetHold(orgId: OrgId, agent: ResolvedAgent, action: EvaluateInput['action']) {
    if (!deps.budgets) return null;
    const estimate = typeof action.estimated_cost_usd === 'number' ? action.estimated_cost_usd : null;
    return chain(deps.budgets.check(orgId, agent, estimate), (hold) =>
      hold ? { reason: 'budget', mode: 'block' as const, message: hold.message } : null,
    );
  }

  function settings(orgId: OrgId): MaybePromise<OrgInfo> {
    const hit = orgInfo.get(orgId);
    if (hit && clock() - hit.at < 5000) return hit;
    return loadSettings(orgId);
  }
  async function loadSettings(orgId: OrgId): Promise<OrgInfo> {
    const org = await db.selectFrom('orgs').select(['timezone', 'settings']).where('id', '=', orgId).executeTakeFirst();
    const info = {
      at: clock(),
      timezone: org?.timezone ?? 'UTC',
      defaultDeny: Boolean((JSON.parse(org?.settings ?? '{}') as { default_deny?: boolean }).default_deny),
    };
    orgInfo.set(orgId, info);
    return info;
  }

  function countHits(orgId: string, matched: readonly Reason[], now: number) {
    for (const r of matched) {
      if (!r.policy_id) continue;
      const h = hits.get(r.policy_id);
      if (h) {
        h.n++;
        h.at = now;
      } else hits.set(r.policy_id, { org: orgId, n: 1, at: now });
    }
  }

  // Hit counts are advisory: counted in memory and written every few seconds, off the hot path.
  const flushTimer = setInterval(() => void flushHits(), 3000);
  flushTimer.unref();
  async function flushHits() {
    const batch = [...hits.entries()];
    hits.clear();
    for (const [policyId, h] of batch) {
      await db
        .updateTable('policies')
        .set((eb) => ({ hit_count: eb('hit_count', '+', h.n), last_hit_at: h.at }))
        .where('org_id', '=', h.org)
        .where('id', '=', policyId)
        .execute()
        .catch(() => {});
    }
  }

  return {
    /** Drop an org's compiled set; the next evaluation compiles the current policies. */
    invalidate(orgId: string) {
      sets.delete(orgId);
      ready.delete(orgId);
      orgInfo.delete(orgId);
    },
    flushHits,
    stop: () => clearInterval(flushTimer),
    drain: () => decisionWriter.drain(),

    /** The decision for `input`, recorded. */
    evaluate(caller: Pick<Caller, 'orgId' | 'actor'>, input: EvaluateInput): Promise<Answer> {
      return new Promise((resolve, reject) =>
        evaluateInto(caller, input, (error, answer) => (error === null ? resolve(answer!) : reject(error))),
      );
    },
    evaluateInto,
  };

  /**
   * The decision for `input`, recorded, then handed to `done`. The HTTP route's way in: when every step
   * answers from memory and the decision is plain (the usual case), no promise is made on the way, and
   * with Better Auth's AsyncLocalStorage active on Node 20, each promise also runs the async hooks.
   */
  function evaluateInto(
    caller: Pick<Caller, 'orgId' | 'actor'>,
    input: EvaluateInput,
    done: (error: unknown, answer?: Answer) => void,
  ): void {
    const started = process.hrtime.bigint();
    const orgId = caller.orgId;
    if (input.idempotency_key) {
      const key = input.idempotency_key;
      priorDecision(orgId, key).then((prior) => {
        if (prior) return done(null, prior);
        proceed(caller, input, started, gather(orgId, caller.actor, input), done);
      }, done);
      return;
    }
    proceed(caller, input, started, gather(orgId, caller.actor, input), done);
  }

  function proceed(
    caller: Pick<Caller, 'orgId' | 'actor'>,
    input: EvaluateInput,
    started: bigint,
    gathered: MaybePromise<Gathered<Set>>,
    done: (error: unknown, answer?: Answer) => void,
  ) {
    if (gathered instanceof Promise) {
      gathered.then((g) => proceed(caller, input, started, g, done), done);
      return;
    }
    try {
      const orgId = caller.orgId;
      const { agent, info, control, set } = gathered;
      const now = clock();
      // The hub's keys win over the caller's (see engine/context.ts).
      const context = { ...input.context, ...deps.engine.context(new Date(now), info.timezone, agent.environment) };
      const decisionId = newId('dec', now);
      const decided: Decided = { orgId, agent, input, context, decisionId, started, now };
      const outcome: Outcome = control
        ? controlOutcome(control)
        : deps.engine.evaluate(set!, { agent: agentView(agent), action: input.action, context }, info);
      const { decision, reasons, monitors } = outcome;
      if (decision === 'ALLOW' && !monitors.length && !input.approval_id && !input.idempotency_key) {
        // A plain decision: no approval, nothing to audit. Grouped with its neighbours' in one commit.
        const row = decisionRow(decided, decision, reasons, monitors, null);
        decisionWriter.submitWith([row], (error) => {
          if (error !== undefined) return done(error);
          countHits(orgId, reasons, now);
          done(null, answer(decisionId, decision, reasons, null, false));
        });
        return;
      }
      recordGuarded(caller.actor, decided, outcome, control !== null).then((a) => done(null, a), done);
    } catch (e) {
      done(e);
    }
  }

  /**
   * What a decision needs, in order: the agent, the org's settings, the emergency controls and pause
   * budgets, then (unless one holds the agent) the compiled policy set. Each answers from memory on the
   * hot path, so this returns a plain value; a promise only when one of them has to be loaded.
   */
  function gather(orgId: OrgId, actor: Caller['actor'], input: EvaluateInput): MaybePromise<Gathered<Set>> {
    return chain(deps.resolver.resolve(orgId, actor, input.agent), (agent) =>
      chain(settings(orgId), (info) =>
        chain(
          chain(deps.controls.check(orgId, agent), (control) => control ?? budgetHold(orgId, agent, input.action)),
          (control): MaybePromise<Gathered<Set>> =>
            control
              ? { agent, info, control, set: null }
              : chain(compiled(orgId), (set) => ({ agent, info, control: null, set })),
        ),
      ),
    );
  }

  /** A decision that involves an approval, a block or a monitor: recorded with its audit entry in one transaction. */
  async function recordGuarded(actor: Caller['actor'], decided: Decided, outcome: Outcome, byControl: boolean) {
    const { orgId, agent, input, decisionId, now } = decided;
    const { monitors, primary } = outcome;
    let { decision, reasons } = outcome;
    let approvalId: string | null = null;
    let approvalToAnnounce: Awaited<ReturnType<ApprovalService['create']>> | null = null;
    // Only approvals need the action's hash (canonical JSON + SHA-256): computed when one is involved.
    let hash: string | null = null;
    const actionHash = () => {
      hash ??= deps.engine.actionHash(agent.id, input.action);
      return hash;
    };
    try {
      await db.transaction().execute(async (trx) => {
        if (!byControl && input.approval_id && decision === 'REQUIRE_APPROVAL') {
          // The agent comes back with the approval it waited for.
          const used = await deps.approvals.consume(trx, orgId, input.approval_id, agent.id, actionHash());
          if (used.outcome === 'allowed') {
            decision = 'ALLOW';
            approvalId = input.approval_id;
            reasons = [...reasons, { policy_id: used.row.policy_id, name: 'approval', effect: 'approved' }];
          } else if (used.outcome === 'rejected' || used.outcome === 'expired') {
            decision = 'BLOCK';
            approvalId = input.approval_id;
            reasons = [...reasons, { policy_id: used.row.policy_id, name: 'approval', effect: used.outcome }];
          } else if (used.outcome === 'pending') {
            approvalId = input.approval_id; // still waiting: the same approval, not a new one
          }
        }
        if (decision === 'REQUIRE_APPROVAL' && !approvalId) {
          const approval = await deps.approvals.create(trx, orgId, {
            policyId: primary?.policy_id ?? null,
            agentId: agent.id,
            runId: input.run_id ?? null,
            decisionId,
            action: storedValue(input.action), // what approvers see; the hash binds the full action
            actionHash: actionHash(),
            approvers: primary?.approvers ?? {},
            message: primary?.message ?? null,
            timeoutS: primary?.approval_timeout_s ?? DEFAULT_APPROVAL_TIMEOUT_S,
            requestedBy: actor,
          });
          approvalId = approval.id;
          approvalToAnnounce = approval;
        }
        await trx
          .insertInto('decisions')
          .values(decisionRow(decided, decision, reasons, monitors, approvalId))
          .execute();
        // Blocks and approvals are what an auditor looks for; allows stay in the decisions table.
        if (decision !== 'ALLOW' || monitors.length)
          await deps.audit.append(trx, orgId, {
            actor,
            action: `policy.decision.${decision.toLowerCase()}`,
            entityType: 'decision',
            entityId: decisionId,
            changes: {
              agent: agent.name,
              action: storedValue(input.action),
              reasons,
              monitors,
              approval_id: approvalId,
              run_id: input.run_id ?? null,
            },
          });
      });
    } catch (e) {
      // The same idempotency key evaluated twice at once: the loser answers what the winner decided.
      if (input.idempotency_key && /unique|duplicate key/i.test(String((e as Error).message))) {
        const prior = await priorDecision(orgId, input.idempotency_key);
        if (prior) return prior;
      }
      throw e;
    }
    countHits(orgId, reasons, now);
    countHits(orgId, monitors, now);
    if (approvalToAnnounce) void deps.approvals.announce(orgId, approvalToAnnounce, agent.name, primary?.name ?? null);
    return answer(decisionId, decision, reasons, approvalId, false, monitors);
  }

  /** The answer already given for an idempotency key, replayed. */
  async function priorDecision(orgId: OrgId, idempotencyKey: string) {
    const prior = await db
      .selectFrom('decisions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    return prior
      ? answer(prior.id, prior.decision as Decision, JSON.parse(prior.reasons), prior.approval_id, true)
      : null;
  }

  /** What a policy may read of an agent: made once per resolved (cached) agent, not per evaluation. */
  function agentView(agent: ResolvedAgent): Record<string, unknown> {
    let view = agentViews.get(agent);
    if (!view) {
      view = {
        id: agent.id,
        name: agent.name,
        type: agent.type,
        tags: agent.tags,
        environment: agent.environment,
        team_id: agent.team_id,
      };
      agentViews.set(agent, view);
    }
    return view;
  }
}

type Outcome = ReturnType<PolicyEngine<unknown>['evaluate']>;
type Answer = ReturnType<typeof answer>;
/** One evaluation's facts, decided before it is recorded (plainly or with its audit entry). */
interface Decided {
  orgId: OrgId;
  agent: ResolvedAgent;
  input: EvaluateInput;
  context: Record<string, unknown>;
  decisionId: string;
  started: bigint;
  now: number;
}
type Hold = { reason: string; mode: string; message: string };
interface Gathered<Set> {
  agent: ResolvedAgent;
  info: OrgInfo;
  control: Hold | null;
  /** Null when a control or budget holds the agent (no rule runs). */
  set: Set | null;
}

/** An emergency control or a spent budget holds the agent before any rule runs. */
function controlOutcome(control: { reason: string; mode: string; message: string }): Outcome {
  return {
    decision: 'BLOCK',
    reasons: [
      {
        policy_id: null,
        name: control.reason,
        effect: control.mode === 'failsafe' ? 'failsafe' : 'block',
        message: control.message,
      },
    ],
    monitors: [],
    primary: null,
  };
}

/** The decisions row (a module function, not a closure per request: see maybe-promise.ts on the hot path). */
function decisionRow(
  d: Decided,
  decision: Decision,
  reasons: Reason[],
  monitors: Reason[],
  approvalId: string | null,
): DecisionRow {
  const { input } = d;
  return {
    id: d.decisionId,
    org_id: d.orgId,
    agent_id: d.agent.id,
    run_id: input.run_id ?? null,
    action_type: input.action.type,
    // Bounded (stored-action.ts): the decision above was made on the full action.
    action: storedJson(input.action),
    context: storedJson(d.context),
    decision,
    reasons: reasons.length ? JSON.stringify(reasons) : '[]',
    monitors: monitors.length ? JSON.stringify(monitors) : '[]',
    approval_id: approvalId,
    idempotency_key: input.idempotency_key ?? null,
    latency_us: Number((process.hrtime.bigint() - d.started) / 1000n),
    created_at: d.now,
  };
}

function answer(
  id: string,
  decision: Decision,
  reasons: Reason[],
  approvalId: string | null,
  replayed: boolean,
  monitors: Reason[] = [],
) {
  return {
    decision,
    decision_id: id,
    reasons,
    ...(approvalId ? { approval_id: approvalId } : {}),
    ...(monitors.length ? { monitors } : {}),
    ...(replayed ? { replayed: true } : {}),
  };
}
export type Evaluator = ReturnType<typeof createEvaluator>;
