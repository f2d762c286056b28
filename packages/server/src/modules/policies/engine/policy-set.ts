/**
 * The compiled, indexed set of an org's active policies, and the decision over it.
 *
 * Index: most rules name one agent and one action type, so a request should only run the rules that
 * could apply to it. A rule is filed under the agent it pins (`agent.name`/`agent.id` with `eq`, or `in`
 * over strings, as the whole condition or a direct child of a top-level `all`) and under the action type
 * it pins (`action.type` likewise); rules that pin neither go to wildcard buckets. Skipping a rule is safe
 * only when the pinned comparison is FALSE (never UNKNOWN) for the request, which holds when the request's
 * value is a string (string-vs-string equality is exact); otherwise every rule is scanned.
 *
 * The set is immutable: when a policy changes the caller compiles a new set and swaps one reference, so an
 * evaluation in flight never sees half an update.
 */
import type { Condition, DecisionValue, PolicyEffect, PolicyRule } from '@agentops-hub/contracts';
import { compileCondition } from './compile.ts';
import { type CompiledCondition, type EvalInput, FALSE, TRUE } from './condition-types.ts';
import { unknownFields } from './interpreter.ts';

export interface PolicyInput {
  id: string;
  name: string;
  priority: number;
  status: 'active' | 'inactive' | string;
  rule: PolicyRule;
}

/** A matching rule, as reported in `reasons`/`monitors`. */
export interface PolicyMatch {
  policy_id: string;
  name: string;
  effect: PolicyEffect;
  priority: number;
  message?: string;
  approvers?: PolicyRule['approvers'];
  approval_timeout_s?: number;
  /** Present when the rule matched by failing closed: the fields that could not be evaluated. */
  unknown_fields?: string[];
}

export interface CompiledRule {
  readonly id: string;
  readonly effect: PolicyEffect;
  readonly priority: number;
  /** Position in the set's reporting order (effect rank, priority desc, id), so sorting matches is numeric. */
  readonly order: number;
  readonly when: Condition;
  readonly test: CompiledCondition;
  /** The frozen match reported when this rule matches definitely (reused, so matching allocates nothing). */
  readonly match: Readonly<PolicyMatch>;
}

interface Bucket {
  readonly byType: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly anyType: readonly CompiledRule[];
}

export interface CompiledPolicySet {
  /** Number of active rules. */
  readonly size: number;
  readonly rules: readonly CompiledRule[];
  readonly byAgentName: ReadonlyMap<string, Bucket>;
  readonly byAgentId: ReadonlyMap<string, Bucket>;
  readonly anyAgent: Bucket;
}

export type { DecisionValue };

export interface Evaluation {
  decision: DecisionValue;
  /** Every matching block/require_approval/allow rule: most restrictive effect first, then priority desc, then id. */
  reasons: PolicyMatch[];
  /** The highest-priority rule of the winning effect (its message and approvers are used); null by default. */
  primary: PolicyMatch | null;
  /** Matching log_only rules: what monitors saw, never part of the decision. */
  monitors: PolicyMatch[];
  /** Fields that were missing or unusable in rules that matched by failing closed. */
  unknownFields?: string[];
  /** How many rules the index let through to evaluation (for metrics and tests). */
  evaluated: number;
}

const RANK: Record<PolicyEffect, number> = { block: 0, require_approval: 1, allow: 2, log_only: 3 };
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The string values a top-level comparison pins `field` to, or null when it does not pin it. */
function pinnedValues(when: Condition, field: string): string[] | null {
  const leaves = 'all' in when ? when.all : [when];
  for (const c of leaves) {
    if (!('field' in c) || c.field !== field) continue;
    if (c.op === 'eq' && typeof c.value === 'string') return [c.value];
    if (c.op === 'in' && Array.isArray(c.value) && c.value.every((v) => typeof v === 'string'))
      return [...new Set(c.value as string[])];
  }
  return null;
}

function compileRule(p: PolicyInput, order: number): CompiledRule {
  const { rule } = p;
  const match: PolicyMatch = { policy_id: p.id, name: p.name, effect: rule.then, priority: p.priority };
  if (rule.message !== undefined) match.message = rule.message;
  if (rule.approvers !== undefined) match.approvers = rule.approvers;
  if (rule.approval_timeout_s !== undefined) match.approval_timeout_s = rule.approval_timeout_s;
  return Object.freeze({
    id: p.id,
    effect: rule.then,
    priority: p.priority,
    order,
    when: rule.when,
    test: compileCondition(rule.when),
    match: Object.freeze(match),
  });
}

interface MutableBucket {
  byType: Map<string, CompiledRule[]>;
  anyType: CompiledRule[];
}
const newBucket = (): MutableBucket => ({ byType: new Map(), anyType: [] });

function file(bucket: MutableBucket, types: string[] | null, rule: CompiledRule) {
  if (!types) return void bucket.anyType.push(rule);
  for (const t of types) {
    const list = bucket.byType.get(t);
    if (list) list.push(rule);
    else bucket.byType.set(t, [rule]);
  }
}

/**
 * Compiles the active policies into an indexed, immutable set. Inactive policies are left out.
 * @example
 * const set = compilePolicySet(await store.forOrg(orgId).active().then((rows) => rows.map(toPolicyInput)));
 * current = set; // one reference swap
 */
export function compilePolicySet(policies: readonly PolicyInput[]): CompiledPolicySet {
  const rules: CompiledRule[] = [];
  const byAgentName = new Map<string, MutableBucket>();
  const byAgentId = new Map<string, MutableBucket>();
  const anyAgent = newBucket();
  const active = policies
    .filter((p) => p.status === 'active')
    .sort((a, b) => RANK[a.rule.then] - RANK[b.rule.then] || b.priority - a.priority || byId(a.id, b.id));
  for (let n = 0; n < active.length; n++) {
    const p = active[n];
    const rule = compileRule(p, n);
    rules.push(rule);
    const types = pinnedValues(p.rule.when, 'action.type');
    const names = pinnedValues(p.rule.when, 'agent.name');
    const ids = names ? null : pinnedValues(p.rule.when, 'agent.id');
    const [index, keys] = names ? [byAgentName, names] : ids ? [byAgentId, ids] : [null, null];
    if (!index || !keys) {
      file(anyAgent, types, rule);
      continue;
    }
    for (const key of keys) {
      let bucket = index.get(key);
      if (!bucket) {
        bucket = newBucket();
        index.set(key, bucket);
      }
      file(bucket, types, rule);
    }
  }
  return Object.freeze({ size: rules.length, rules, byAgentName, byAgentId, anyAgent });
}

// Per-call scratch state lives in module variables rather than an object per call: evaluate() is
// synchronous and a rule's test never calls back into it, so one set of buffers serves every call and a
// decision allocates only what it returns.
let input: EvalInput;
const hits: CompiledRule[] = [];
const monitors: CompiledRule[] = [];
let evaluated = 0;
/** Fields that were unknown, per rule that matched by failing closed (rare, so off the fast path). */
let unknown: Map<CompiledRule, string[]> | null = null;

function runRules(list: readonly CompiledRule[] | undefined): void {
  if (list === undefined) return;
  evaluated += list.length;
  for (let k = 0; k < list.length; k++) {
    const rule = list[k];
    const tri = rule.test(input);
    if (tri === FALSE) continue;
    if (tri === TRUE) {
      if (rule.effect === 'log_only') monitors.push(rule);
      else hits.push(rule);
    } else if (rule.effect === 'block' || rule.effect === 'require_approval') {
      // Fail closed. Explaining which fields were unknown walks the tree again, only in this case.
      hits.push(rule);
      unknown ??= new Map();
      unknown.set(rule, unknownFields(rule.when, input));
    }
  }
}

function runBucket(bucket: Bucket | undefined, type: string): void {
  if (bucket === undefined) return;
  runRules(bucket.byType.get(type));
  runRules(bucket.anyType);
}

/**
 * Sorts by reporting order. Each bucket list is already in that order, so the hits are a few sorted
 * runs: insertion sort is near-linear here and, unlike Array#sort with a comparator, allocates nothing.
 */
function sortByOrder(list: CompiledRule[]): void {
  for (let k = 1; k < list.length; k++) {
    const rule = list[k];
    let j = k - 1;
    while (j >= 0 && list[j].order > rule.order) {
      list[j + 1] = list[j];
      j--;
    }
    list[j + 1] = rule;
  }
}

/**
 * Decides a request: most restrictive effect wins (BLOCK > REQUIRE_APPROVAL > ALLOW); priority only picks
 * the primary rule within the winning effect; an `allow` rule never overrides a block or an approval;
 * nothing matching → ALLOW, or BLOCK with `defaultDeny`.
 * @example
 * evaluate(set, { agent: { id: 'agt_1', name: 'SupportBot' }, action: { type: 'refund', amount: 900 } })
 * // → { decision: 'BLOCK', reasons: [{ policy_id: 'pol_…', effect: 'block', … }], primary: {…}, monitors: [], evaluated: 2 }
 */
export function evaluate(set: CompiledPolicySet, request: EvalInput, opts: { defaultDeny?: boolean } = {}): Evaluation {
  input = request;
  hits.length = 0;
  monitors.length = 0;
  evaluated = 0;
  unknown = null;
  try {
    const agent = request.agent;
    const name = agent?.name;
    const id = agent?.id;
    const type = request.action?.type;
    if (typeof name === 'string' && typeof id === 'string' && typeof type === 'string') {
      // A rule is filed under names or ids (never both), so these buckets never share a rule.
      runBucket(set.byAgentName.get(name), type);
      runBucket(set.byAgentId.get(id), type);
      runBucket(set.anyAgent, type);
    } else {
      runRules(set.rules);
    }
    return decide(opts.defaultDeny === true);
  } finally {
    input = undefined as unknown as EvalInput; // do not keep the request alive
  }
}

function decide(defaultDeny: boolean): Evaluation {
  if (hits.length > 1) sortByOrder(hits);
  if (monitors.length > 1) sortByOrder(monitors);
  const reasons: PolicyMatch[] = new Array(hits.length);
  let unknownAll: Set<string> | undefined;
  for (let k = 0; k < hits.length; k++) {
    const fields = unknown?.get(hits[k]);
    if (fields === undefined) reasons[k] = hits[k].match;
    else {
      reasons[k] = { ...hits[k].match, unknown_fields: fields };
      unknownAll ??= new Set();
      for (const f of fields) unknownAll.add(f);
    }
  }
  const seen: PolicyMatch[] = new Array(monitors.length);
  for (let k = 0; k < monitors.length; k++) seen[k] = monitors[k].match;
  const primary = reasons.length > 0 ? reasons[0] : null;
  const decision: DecisionValue = primary
    ? primary.effect === 'block'
      ? 'BLOCK'
      : primary.effect === 'require_approval'
        ? 'REQUIRE_APPROVAL'
        : 'ALLOW'
    : defaultDeny
      ? 'BLOCK'
      : 'ALLOW';
  const out: Evaluation = { decision, reasons, primary, monitors: seen, evaluated };
  if (unknownAll) out.unknownFields = [...unknownAll];
  return out;
}
