/**
 * Gather, the first step of an evaluation: everything a decision is made from, in order: the agent,
 * the org's settings, the emergency controls, the pause budgets and (unless one of those holds the
 * agent) the org's compiled policy set. Each step answers from memory on the hot path; a step that has
 * to load returns a promise and the steps after it wait for it. So a usual evaluation makes no promise
 * at all (with Better Auth's AsyncLocalStorage active on Node 20, each promise also runs the async
 * hooks); `npm run bench -- policy` measures this path against a bare Fastify route.
 *
 * The approval an agent brings back (`approval_id`) is not read here: it is read and used in one
 * compare-and-set inside the transaction that records the decision (`approvals.settle`), so two
 * retries cannot both pass.
 */
import type { Decision, EvaluateBody } from '@agentops-hub/contracts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import type { EgressGuard } from '../../platform/egress/egress.ts';
import { invalid } from '../../platform/errors.ts';
import type { MaybePromise } from '../../platform/maybe-promise.ts';
import type { AgentResolver, ResolvedAgent } from '../ingestion/index.ts';
import type { PolicyEngine } from './policy-engine.ts';

export type EvaluateInput = EvaluateBody;
/** How an evaluation answers: `(null, decision)` or `(error)`. */
export type Done = (error: unknown, answer?: Decision) => void;

/** An emergency control or a spent pause budget that holds the agent before any rule runs. */
export interface Hold {
  reason: string;
  mode: string;
  message: string;
}

export interface OrgSettings {
  at: number;
  timezone: string;
  defaultDeny: boolean;
}

/** One evaluation: what was asked, then what gather found (one object per request, filled in place). */
export interface Evaluation<Set> {
  readonly caller: Pick<Caller, 'orgId' | 'actor'>;
  readonly input: EvaluateInput;
  /** process.hrtime.bigint() when the request reached the evaluator (the decision's latency_us). */
  readonly started: bigint;
  readonly done: Done;
  agent: ResolvedAgent;
  /** What a policy may read of the agent (`agent.*`). */
  agentView: Record<string, unknown>;
  settings: OrgSettings;
  hold: Hold | null;
  /** Null when a hold stops the agent (no rule runs). */
  set: Set | null;
}

/** The emergency controls' answer for an agent (modules/controls). */
export interface ControlCheck {
  check(orgId: OrgId, agent: { id: string; type: string | null; tags: string[] }): MaybePromise<Hold | null>;
}

/** Budgets with on_exceed "pause": a hold when spent, or when the action's estimated cost would pass them. */
export interface BudgetCheck {
  check(
    orgId: OrgId,
    agent: { id: string; team_id?: string | null },
    estimatedCostUsd?: number | null,
  ): MaybePromise<{ budget_id: string; message: string } | null>;
}

export interface GatherDeps<Set> {
  engine: Pick<PolicyEngine<Set>, 'compile'>;
  resolver: AgentResolver;
  controls: ControlCheck;
  budgets?: BudgetCheck;
  /** The org's active policies, compiled into the set the cache keeps. */
  loadActive: (
    orgId: OrgId,
  ) => Promise<{ id: string; name: string; priority: number; status: string; rule: unknown }[]>;
  /** The org: its timezone and default-deny setting (cached a few seconds). */
  orgs: { get(orgId: OrgId): Promise<{ timezone: string | null; settings: { default_deny?: boolean } }> };
  /** Refuses a `callback_url` the hub would never call (loopback, private, metadata…). */
  callbackUrls: Pick<EgressGuard, 'checkUrl'>;
  clock: () => number;
}

const SETTINGS_TTL_MS = 5000;

export function createGather<Set>(deps: GatherDeps<Set>) {
  const { clock } = deps;
  /** Compiled sets that have finished loading, read without a promise on the hot path. */
  const ready = new Map<string, Set>();
  const loading = new Map<string, Promise<Set>>();
  const settings = new Map<string, OrgSettings>();
  const agentViews = new WeakMap<ResolvedAgent, Record<string, unknown>>();

  // The steps, in order. Each fills its part of the evaluation; a promise means "wait for me".
  type Step = (ev: Evaluation<Set>) => Promise<void> | undefined;
  /** The agent named by id or name (cached; auto-registered when the org allows it). */
  const resolveAgent: Step = (ev) =>
    put(ev, 'agent', deps.resolver.resolve(ev.caller.orgId, ev.caller.actor, ev.input.agent));
  /** What policies may read of it (`agent.*`), made once per cached agent. */
  const describeAgent: Step = (ev) => {
    ev.agentView = agentView(ev.agent);
    return undefined;
  };
  /** The org's time zone and default-deny setting (cached a few seconds). */
  const readSettings: Step = (ev) => put(ev, 'settings', orgSettings(ev.caller.orgId));
  /** Emergency controls: the kill switch, a paused agent or category (an in-memory snapshot). */
  const checkControls: Step = (ev) => put(ev, 'hold', deps.controls.check(ev.caller.orgId, ev.agent));
  /** Pause budgets, unless a control already holds the agent. */
  const checkBudgets: Step = (ev) => (ev.hold ? undefined : put(ev, 'hold', budgetHold(ev)));
  /** The org's compiled policy set, unless something holds the agent (then no rule runs). */
  const loadPolicySet: Step = (ev) => (ev.hold ? undefined : put(ev, 'set', compiledSet(ev.caller.orgId)));
  const STEPS: readonly Step[] = [
    resolveAgent,
    describeAgent,
    readSettings,
    checkControls,
    checkBudgets,
    loadPolicySet,
  ];

  /** Runs the steps from `from` on; then `next(ev)`, or `ev.done(error)`. */
  function run(ev: Evaluation<Set>, next: (ev: Evaluation<Set>) => void, from = 0): void {
    for (let i = from; i < STEPS.length; i++) {
      let pending: Promise<void> | undefined;
      try {
        pending = STEPS[i]!(ev);
      } catch (e) {
        ev.done(e);
        return;
      }
      if (pending) {
        pending.then(() => run(ev, next, i + 1), ev.done);
        return;
      }
    }
    next(ev);
  }

  /** A spent (or about to be overspent) pause budget holds the agent like a pause does. */
  function budgetHold(ev: Evaluation<Set>): MaybePromise<Hold | null> {
    if (!deps.budgets) return null;
    const cost = ev.input.action.estimated_cost_usd;
    const hold = deps.budgets.check(ev.caller.orgId, ev.agent, typeof cost === 'number' ? cost : null);
    return hold instanceof Promise ? hold.then(budgetToHold) : budgetToHold(hold);
  }

  function orgSettings(orgId: OrgId): MaybePromise<OrgSettings> {
    const hit = settings.get(orgId);
    if (hit && clock() - hit.at < SETTINGS_TTL_MS) return hit;
    return deps.orgs.get(orgId).then((org) => {
      const fresh = { at: clock(), timezone: org.timezone ?? 'UTC', defaultDeny: Boolean(org.settings.default_deny) };
      settings.set(orgId, fresh);
      return fresh;
    });
  }

  function compiledSet(orgId: OrgId): MaybePromise<Set> {
    const done = ready.get(orgId);
    if (done !== undefined) return done;
    let pending = loading.get(orgId);
    if (!pending) {
      const load: Promise<Set> = deps.loadActive(orgId).then((ps) => {
        const set = deps.engine.compile(ps);
        // Only the latest load may publish: an invalidation while it ran started a newer one.
        if (loading.get(orgId) === load) ready.set(orgId, set);
        return set;
      });
      pending = load;
      loading.set(orgId, load);
      load.catch(() => loading.delete(orgId));
    }
    return pending;
  }

  /** What a policy may read of an agent: made once per resolved (cached) agent, not per evaluation. */
  function agentView(agent: ResolvedAgent): Record<string, unknown> {
    let view = agentViews.get(agent);
    if (!view) {
      const { id, name, type, tags, environment, team_id } = agent;
      view = { id, name, type, tags, environment, team_id };
      agentViews.set(agent, view);
    }
    return view;
  }

  return {
    /**
     * A new evaluation, or undefined when `done` was already told why not: a `callback_url` the hub
     * would never call is refused before anything is decided (so no approval waits on a callback that
     * cannot come; names are checked again when the job sends).
     */
    begin(caller: Evaluation<Set>['caller'], input: EvaluateInput, done: Done): Evaluation<Set> | undefined {
      const started = process.hrtime.bigint();
      if (input.callback_url) {
        const refused = deps.callbackUrls.checkUrl(input.callback_url);
        if (refused) return void done(invalid('callback_url', refused));
      }
      // Filled by the steps in order; nothing reads a field before its step has run. Every field is
      // there from the start, so each evaluation has one shape (no hidden-class change per step).
      return {
        caller,
        input,
        started,
        done,
        agent: undefined,
        agentView: undefined,
        settings: undefined,
        hold: null,
        set: null,
      } as unknown as Evaluation<Set>;
    },
    /** Gathers into `ev`, then calls `next(ev)` (errors go to `ev.done`). */
    run: (ev: Evaluation<Set>, next: (ev: Evaluation<Set>) => void) => run(ev, next),
    /** Drop an org's compiled set and settings; the next evaluation loads the current ones. */
    invalidate(orgId: string) {
      loading.delete(orgId);
      ready.delete(orgId);
      settings.delete(orgId);
    },
  };
}

const budgetToHold = (b: { message: string } | null): Hold | null =>
  b ? { reason: 'budget', mode: 'block', message: b.message } : null;

/** Sets `ev[key]` now when `value` is plain; returns the promise that sets it when it is not. */
function put<E, K extends keyof E>(ev: E, key: K, value: MaybePromise<E[K]>): Promise<void> | undefined {
  if (value instanceof Promise)
    return value.then((v) => {
      ev[key] = v;
    });
  ev[key] = value;
  return undefined;
}
