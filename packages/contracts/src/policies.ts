// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
/**
 * @module policies
 * Policies (condition → effect), the evaluate call and its decision, and policy validation.
 *
 * Conditions are validated by a hand-written checker rather than a Zod union: a union of four object
 * shapes reports "Invalid input" at the top of the tree, while a person fixing a YAML file needs the
 * exact path (`rule.when.all.1.op`) and a sentence that says what is allowed there.
 */
import { RE2JS } from 're2js';
import { z } from 'zod';
import { IsoDate } from './common.ts';

export const ConditionOps = [
  'eq',
  'ne',
  'in',
  'not_in',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'starts_with',
  'matches',
  'exists',
] as const;
export type ConditionOp = (typeof ConditionOps)[number];

/** Agent attributes a condition can read; `action.<path>` and `context.<path>` are open-ended. */
export const AgentFields = ['name', 'id', 'type', 'tags', 'environment', 'team_id'] as const;

export const PolicyEffects = ['block', 'require_approval', 'log_only', 'allow'] as const;
export const PolicyEffectSchema = z.enum(PolicyEffects);
export type PolicyEffect = z.infer<typeof PolicyEffectSchema>;

/** A literal a condition compares against. */
export type ConditionScalar = string | number | boolean;

/** A comparison of one field against a value. */
export interface FieldCondition {
  field: string;
  op: ConditionOp;
  value?: ConditionScalar | ConditionScalar[];
}

export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | FieldCondition;

/** Limits that keep a single policy cheap to evaluate and to store. */
export const PolicyLimits = {
  maxDepth: 12,
  maxNodes: 500,
  maxChildren: 100,
  maxInValues: 1000,
  maxStringValue: 1000,
  maxPathSegments: 8,
  maxRegexLength: 200,
  /**
   * RE2 instructions a pattern may compile to. RE2's time is linear in the subject but proportional to
   * the program: `(?:a{0,1000}){0,1}a{0,1000}$` compiles to ~4,000 and took ~0.4 s on 1,024 characters.
   */
  maxRegexProgram: 500,
  /** `matches` on a longer string is UNKNOWN instead of running the regex (with the program cap, bounds its time). */
  maxRegexSubject: 4096,
} as const;

export interface FieldError {
  path: string;
  message: string;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);
const FIELD_HELP =
  'use agent.name, agent.id, agent.type, agent.tags, agent.environment, agent.team_id, action.type, action.<attribute> or context.<attribute>';

/** Why `field` is not a valid condition field, or null when it is. */
export function fieldProblem(field: string): string | null {
  const parts = field.split('.');
  const [root, ...rest] = parts;
  if (root === 'agent') {
    if (rest.length === 1 && (AgentFields as readonly string[]).includes(rest[0])) return null;
    return `unknown agent field "${field}"; agent fields are ${AgentFields.map((f) => `agent.${f}`).join(', ')}`;
  }
  if (root !== 'action' && root !== 'context') return `unknown field "${field}"; ${FIELD_HELP}`;
  if (rest.length === 0) return `"${field}" needs an attribute name, e.g. ${root}.amount`;
  if (parts.length > PolicyLimits.maxPathSegments)
    return `"${field}" is nested too deeply (at most ${PolicyLimits.maxPathSegments} parts)`;
  for (const seg of rest) {
    if (!SEGMENT.test(seg)) return `"${field}": each part of the path must be letters, digits, "_" or "-"`;
    if (FORBIDDEN_SEGMENTS.has(seg)) return `"${field}": "${seg}" is not allowed in a field path`;
  }
  return null;
}

/**
 * Compiles a `matches` pattern the way the policy engine runs it, or throws an Error saying why it is
 * refused. Patterns are written in JavaScript syntax without flags (case-sensitive, `.` stops at a
 * newline, `^`/`$` anchor the whole string), translated to RE2 syntax and run by RE2 (re2js), whose time
 * is linear in the subject. A backtracking engine (JavaScript's RegExp) takes exponential time on
 * patterns such as `^(.|.)*Q$`, and no syntactic check finds every such pattern; RE2 has none, at the
 * price of backreferences and lookaround, which are refused.
 * @example
 * compilePolicyPattern('@competitor\\.com$').test('ann@competitor.com'); // true
 * compilePolicyPattern('(a)\\1'); // throws: backreferences are not allowed in policy patterns
 */
export function compilePolicyPattern(pattern: string): RE2JS {
  if (pattern.length > PolicyLimits.maxRegexLength)
    throw new Error(`the pattern is too long (at most ${PolicyLimits.maxRegexLength} characters)`);
  try {
    new RegExp(pattern);
  } catch (e) {
    throw new Error(`not a valid regular expression: ${(e as Error).message}`);
  }
  if (/\\[1-9]|\\k</.test(pattern)) throw new Error('backreferences are not allowed in policy patterns');
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (e) {
    throw new Error(
      `policy patterns run on RE2 (linear time), which has no backreferences or lookaround: ${(e as Error).message}`,
    );
  }
  // RE2's time is linear in the subject but proportional to the program (see maxRegexProgram).
  if (re.programSize() > PolicyLimits.maxRegexProgram)
    throw new Error(
      `the pattern expands to ${re.programSize()} steps (at most ${PolicyLimits.maxRegexProgram}); use smaller repetition counts`,
    );
  return re;
}

/** Why a `matches` pattern is refused (see `compilePolicyPattern`), or null when it is accepted. */
export function regexProblem(pattern: string): string | null {
  try {
    compilePolicyPattern(pattern);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const isScalar = (v: unknown): v is ConditionScalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

const scalarProblem = (v: unknown): string | null => {
  if (!isScalar(v)) return 'must be a string, a finite number or a boolean';
  if (typeof v === 'string' && v.length > PolicyLimits.maxStringValue)
    return `is too long (at most ${PolicyLimits.maxStringValue} characters)`;
  return null;
};

const OP_HELP = ConditionOps.join(', ');
const COMBINATORS = ['all', 'any', 'not'] as const;
const CONDITION_SHAPES = '{all: [...]}, {any: [...]}, {not: {...}} or {field, op, value}';

/**
 * Every problem in a condition tree, each with its path relative to the condition (e.g. `all.1.op`).
 * @example
 * conditionErrors({ field: 'action.amount', op: 'bigger', value: 1 })
 * // → [{ path: 'op', message: 'unknown operator "bigger"; valid operators: eq, ne, in, …' }]
 */
export function conditionErrors(input: unknown): FieldError[] {
  const errors: FieldError[] = [];
  let nodes = 0;
  const add = (path: (string | number)[], message: string): void => {
    errors.push({ path: path.join('.'), message });
  };

  const visit = (c: unknown, path: (string | number)[], depth: number) => {
    nodes++;
    if (nodes === PolicyLimits.maxNodes + 1)
      add(path, `the rule has too many conditions (at most ${PolicyLimits.maxNodes})`);
    if (nodes > PolicyLimits.maxNodes) return;
    if (depth > PolicyLimits.maxDepth)
      return add(path, `conditions are nested too deeply (at most ${PolicyLimits.maxDepth} levels)`);
    if (c === undefined || c === null) return add(path, `a condition is required: ${CONDITION_SHAPES}`);
    if (typeof c !== 'object' || Array.isArray(c))
      return add(path, `a condition must be an object: ${CONDITION_SHAPES}`);
    const obj = c as Record<string, unknown>;
    const keys = Object.keys(obj);
    const combinators = COMBINATORS.filter((k) => k in obj);
    if (combinators.length > 0) {
      if (combinators.length > 1 || keys.length > 1)
        return add(path, `a condition has exactly one of all, any, not or field/op/value; found ${keys.join(', ')}`);
      const key = combinators[0];
      const body = obj[key];
      if (key === 'not') return visit(body, [...path, 'not'], depth + 1);
      if (!Array.isArray(body)) return add([...path, key], `"${key}" takes a list of conditions`);
      if (body.length === 0)
        return add(
          [...path, key],
          `"${key}" needs at least one condition (an empty list would match everything or nothing)`,
        );
      if (body.length > PolicyLimits.maxChildren)
        return add([...path, key], `"${key}" takes at most ${PolicyLimits.maxChildren} conditions`);
      body.forEach((child, i) => {
        visit(child, [...path, key, i], depth + 1);
      });
      return;
    }
    for (const k of keys)
      if (k !== 'field' && k !== 'op' && k !== 'value')
        add([...path, k], `unknown key "${k}"; a condition is ${CONDITION_SHAPES}`);
    const { field, op, value } = obj;
    if (typeof field !== 'string' || field === '') add([...path, 'field'], `a field is required; ${FIELD_HELP}`);
    else {
      const problem = fieldProblem(field);
      if (problem) add([...path, 'field'], problem);
    }
    if (op === undefined) return add([...path, 'op'], `an operator is required; valid operators: ${OP_HELP}`);
    if (typeof op !== 'string' || !(ConditionOps as readonly string[]).includes(op))
      return add([...path, 'op'], `unknown operator ${JSON.stringify(op)}; valid operators: ${OP_HELP}`);
    const vpath = [...path, 'value'];
    switch (op as ConditionOp) {
      case 'eq':
      case 'ne':
      case 'contains': {
        if (value === undefined) return add(vpath, `"${op}" needs a value`);
        const p = scalarProblem(value);
        if (p) add(vpath, `the value of "${op}" ${p}`);
        return;
      }
      case 'in':
      case 'not_in': {
        if (!Array.isArray(value) || value.length === 0) return add(vpath, `"${op}" needs a non-empty list of values`);
        if (value.length > PolicyLimits.maxInValues)
          return add(vpath, `"${op}" takes at most ${PolicyLimits.maxInValues} values`);
        value.forEach((v, i) => {
          const p = scalarProblem(v);
          if (p) add([...vpath, i], `each value ${p}`);
        });
        return;
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (typeof value !== 'number' || !Number.isFinite(value))
          add(vpath, `"${op}" compares numbers: the value must be a number`);
        return;
      case 'starts_with':
        if (typeof value !== 'string' || value === '')
          return add(vpath, '"starts_with" needs a non-empty string value');
        if (value.length > PolicyLimits.maxStringValue)
          add(vpath, `the value is too long (at most ${PolicyLimits.maxStringValue} characters)`);
        return;
      case 'matches': {
        if (typeof value !== 'string' || value === '')
          return add(vpath, '"matches" needs a regular expression as a string');
        const p = regexProblem(value);
        if (p) add(vpath, p);
        return;
      }
      case 'exists':
        if (value !== undefined && typeof value !== 'boolean')
          add(vpath, '"exists" takes no value, or true/false (false means "is missing")');
        return;
    }
  };
  visit(input, [], 0);
  return errors;
}

/**
 * A condition tree. Kleene three-valued logic: a missing field or a type mismatch makes a comparison
 * UNKNOWN; `block` and `require_approval` rules treat UNKNOWN as a match (fail closed).
 * @example
 * { "all": [
 *   { "field": "agent.name", "op": "eq", "value": "OutreachBot" },
 *   { "field": "action.type", "op": "eq", "value": "send_email" },
 *   { "field": "action.discount", "op": "gt", "value": 10 } ] }
 */
export const ConditionSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    for (const e of conditionErrors(value))
      ctx.addIssue({ code: 'custom', message: e.message, path: e.path === '' ? [] : e.path.split('.') });
  })
  .meta({
    description: `A condition: ${CONDITION_SHAPES}; ops ${OP_HELP}`,
  }) as unknown as z.ZodType<Condition>;

/** Roles that may approve; viewers never approve. */
export const ApproverRoleSchema = z.enum(['owner', 'admin', 'team_lead', 'member'], {
  error: (iss) =>
    iss.input === 'viewer'
      ? 'viewers never approve; use owner, admin, team_lead or member'
      : 'unknown role; use owner, admin, team_lead or member',
});

/**
 * Who may decide an approval this rule creates: anyone holding one of `roles`, optionally limited to the
 * members of `team_id`.
 * @example
 * { "roles": ["team_lead", "admin"], "team_id": "team_sales" }
 */
export const ApproversSchema = z.strictObject({
  roles: z.array(ApproverRoleSchema).min(1).max(4).optional(),
  team_id: z.string().min(1).max(64).optional(),
});
export type Approvers = z.infer<typeof ApproversSchema>;

/** The timeout of an approval whose rule sets no `approval_timeout_s` (24 hours). */
export const DEFAULT_APPROVAL_TIMEOUT_S = 24 * 3600;

/**
 * A rule: when the condition holds, apply the effect. `approvers`, `approval_timeout_s`, `escalate_after_s`
 * and `escalate_to` belong to `require_approval` rules only.
 * @example
 * { "when": { "field": "action.amount", "op": "gt", "value": 500 }, "then": "block",
 *   "message": "Refunds over 500 need finance" }
 * @example
 * { "when": { "field": "action.discount", "op": "gt", "value": 10 }, "then": "require_approval",
 *   "approvers": { "roles": ["team_lead"] }, "approval_timeout_s": 3600,
 *   "escalate_after_s": 900, "escalate_to": { "roles": ["admin"] } }
 */
export const PolicyRuleSchema = z
  .strictObject({
    when: ConditionSchema,
    then: PolicyEffectSchema,
    approvers: ApproversSchema.optional(),
    /** Seconds before a pending approval expires (then BLOCK): 60 s to 30 days. */
    approval_timeout_s: z
      .int()
      .min(60, 'at least 60 seconds')
      .max(30 * 86_400, 'at most 30 days (2592000 seconds)')
      .optional(),
    message: z.string().max(500).optional(),
    /** Seconds after the request when a still-pending approval is also offered to `escalate_to`. */
    escalate_after_s: z
      .int()
      .min(60, 'at least 60 seconds')
      .max(30 * 86_400, 'at most 30 days (2592000 seconds)')
      .optional(),
    /** Who is added to the approvers at `escalate_after_s` (the first approvers keep their right). */
    escalate_to: ApproversSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    const approvalOnly = ['approvers', 'approval_timeout_s', 'escalate_after_s', 'escalate_to'] as const;
    if (rule.then !== 'require_approval') {
      for (const key of approvalOnly)
        if (rule[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" only applies to require_approval rules` });
      return;
    }
    // Escalation is a pair: a delay without a target (or the reverse) would silently do nothing.
    if (rule.escalate_after_s !== undefined && rule.escalate_to === undefined)
      ctx.addIssue({ code: 'custom', path: ['escalate_to'], message: 'required when escalate_after_s is set' });
    if (rule.escalate_to !== undefined && rule.escalate_after_s === undefined)
      ctx.addIssue({ code: 'custom', path: ['escalate_after_s'], message: 'required when escalate_to is set' });
    if (rule.escalate_to && !rule.escalate_to.roles && !rule.escalate_to.team_id)
      ctx.addIssue({ code: 'custom', path: ['escalate_to'], message: 'name roles or a team_id to escalate to' });
    const timeout = rule.approval_timeout_s ?? DEFAULT_APPROVAL_TIMEOUT_S;
    if (rule.escalate_after_s !== undefined && rule.escalate_after_s >= timeout)
      ctx.addIssue({
        code: 'custom',
        path: ['escalate_after_s'],
        message: `must be less than approval_timeout_s (${timeout} seconds): an escalation after expiry reaches no one`,
      });
  });
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

export const PolicyStatusSchema = z.enum(['active', 'inactive']);
export type PolicyStatus = z.infer<typeof PolicyStatusSchema>;

/**
 * Create or replace a policy (JSON, or YAML with `Content-Type: application/yaml`). `status` defaults to
 * `inactive`: a new policy changes no decision until someone activates it (`policies:activate`).
 * @example
 * { "name": "No refunds over 500", "status": "active", "priority": 50,
 *   "rule": { "when": { "all": [
 *       { "field": "action.type", "op": "eq", "value": "refund" },
 *       { "field": "action.amount", "op": "gt", "value": 500 } ] },
 *     "then": "block" } }
 */
export const PolicyBody = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().max(2000).optional(),
  status: PolicyStatusSchema.default('inactive'),
  /** Picks whose message and approvers are used among rules of the winning effect; never the effect itself. */
  priority: z.int().min(-1_000_000).max(1_000_000).default(0),
  rule: PolicyRuleSchema,
});
export type PolicyBody = z.infer<typeof PolicyBody>;

/**
 * A stored policy as the API returns it.
 * @example
 * { "id": "pol_…", "name": "No refunds over 500", "description": "", "status": "active", "priority": 50,
 *   "rule": { "when": { "field": "action.amount", "op": "gt", "value": 500 }, "then": "block" },
 *   "version": 3, "created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-02T00:00:00.000Z",
 *   "created_by": "usr_…", "hit_count": 12 }
 */
export const PolicySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  status: PolicyStatusSchema,
  priority: z.int(),
  rule: PolicyRuleSchema,
  version: z.int().min(1),
  created_at: IsoDate,
  updated_at: IsoDate,
  created_by: z.string().nullable(),
  hit_count: z.int().min(0).optional(),
});
export type Policy = z.infer<typeof PolicySchema>;

/**
 * Ask before acting. `agent` is the agent's id (`agt_…`) or name; `action.type` is required and every other
 * action attribute is available to conditions as `action.<attribute>`. Re-evaluating with an approved
 * `approval_id` for the same agent and action answers ALLOW once.
 * @example
 * { "agent": "OutreachBot", "action": { "type": "send_email", "discount": 15, "to": "a@b.test" },
 *   "context": { "campaign": "spring" }, "run_id": "run-42", "callback_url": "https://agent.test/approved" }
 */
export const EvaluateBody = z.object({
  agent: z.string().min(1).max(200),
  action: z.looseObject({
    type: z.string().min(1).max(200),
    /** What the action is expected to cost; BLOCKed when it would take a `pause` budget past its amount. */
    estimated_cost_usd: z.number().min(0).max(1e9).optional(),
  }),
  context: z.record(z.string(), z.unknown()).optional(),
  run_id: z.string().min(1).max(200).optional(),
  approval_id: z.string().min(1).max(200).optional(),
  idempotency_key: z.string().min(1).max(200).optional(),
  /**
   * When this call creates (or waits on) an approval, the hub POSTs `{event: "approval.decided", approval}`
   * here once it is approved, rejected or expired, signed `X-Hub-Signature-256: sha256=<hex HMAC>` with the
   * `callback_secret` returned in the answer. http(s) only.
   */
  callback_url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .max(2000)
    .optional(),
});
export type EvaluateBody = z.infer<typeof EvaluateBody>;

/** What evaluate decides: go ahead, stop, or wait for a person. */
export const DecisionValues = ['ALLOW', 'BLOCK', 'REQUIRE_APPROVAL'] as const;
export const DecisionValueSchema = z.enum(DecisionValues);
export type DecisionValue = z.infer<typeof DecisionValueSchema>;

/**
 * Why a decision was made: a rule that matched, an emergency control or budget that holds the agent, or
 * the approval an agent brought back. The one definition the hub, its engine and the SDK share.
 * @example
 * { "policy_id": "pol_…", "name": "Discounts over 10% need a human", "effect": "require_approval" }
 * { "policy_id": null, "name": "kill_switch", "effect": "block", "message": "Incident 42" }
 */
export const ReasonSchema = z.object({
  /** The policy that decided; null for emergency controls (kill switch, pauses) and budgets. */
  policy_id: z.string().nullable(),
  name: z.string(),
  effect: z
    .string()
    .describe(
      'block | require_approval | allow | log_only, a control (block, failsafe), or approved | rejected | expired',
    ),
  message: z.string().optional(),
  /** The rule's priority (rules only). */
  priority: z.number().optional(),
  /** Present when a rule matched by failing closed: the fields it could not evaluate. */
  unknown_fields: z.array(z.string()).optional(),
});
export type Reason = z.infer<typeof ReasonSchema>;

/**
 * The answer to `POST /v1/policy/evaluate` (the route's response schema). `reasons` lists every matching
 * rule, most restrictive first; `monitors` lists `log_only` rules that matched (they never change the
 * decision); `replayed` marks the answer already given to the same `idempotency_key`; `callback_secret`
 * signs the callback to the `callback_url` of a call that waits on an approval.
 * @example
 * { "decision": "REQUIRE_APPROVAL", "decision_id": "dec_…", "approval_id": "apr_…",
 *   "reasons": [{ "policy_id": "pol_…", "name": "Discounts over 10% need a human", "effect": "require_approval" }] }
 */
export const DecisionSchema = z.object({
  decision: DecisionValueSchema,
  decision_id: z.string(),
  reasons: z.array(ReasonSchema),
  approval_id: z.string().optional(),
  monitors: z.array(ReasonSchema).optional(),
  replayed: z.literal(true).optional(),
  callback_secret: z.string().optional(),
});
export type Decision = z.infer<typeof DecisionSchema>;

/**
 * `POST /v1/policies/validate` answer.
 * @example
 * { "valid": false, "errors": [{ "path": "rule.when.all.1.op", "message": "unknown operator \"bigger\"; …" }] }
 */
export const ValidateResult = z.object({
  valid: z.boolean(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type ValidateResult = z.infer<typeof ValidateResult>;

/** Zod issues as `{path, message}` with dotted paths (`rule.when.all.1.op`); the root is `(root)`. */
export const issuesToErrors = (issues: readonly z.core.$ZodIssue[]): FieldError[] =>
  issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));

/**
 * Validates a policy body without saving it.
 * @example
 * validatePolicy({ name: 'x', rule: { when: { field: 'action.amount', op: 'gt', value: 1 }, then: 'block' } })
 * // → { valid: true, errors: [] }
 */
export function validatePolicy(input: unknown): ValidateResult {
  const r = PolicyBody.safeParse(input);
  return r.success ? { valid: true, errors: [] } : { valid: false, errors: issuesToErrors(r.error.issues) };
}
