/**
 * The sentence builder's model and its two-way mapping to a policy rule:
 * "When [agent] does [action] and [field] [is more than] [value] → [require approval]" is
 * `{when: {all: [agent.name eq …, action.type eq …, {field, op, value}…]}, then}`. A rule with `any` or
 * `not` groups cannot be shown as one sentence: `fromRule` then answers null and the code editor rules.
 */
import type { Condition, ConditionOp, FieldCondition, PolicyRule } from '@agentops-hub/contracts';

export interface SentenceCondition {
  field: string;
  op: string;
  value: string;
}

export interface Sentence {
  agent: string;
  action: string;
  conditions: SentenceCondition[];
  then: PolicyRule['then'];
}

export const OPS: { value: string; label: string }[] = [
  { value: 'eq', label: 'is' },
  { value: 'ne', label: 'is not' },
  { value: 'gt', label: 'is more than' },
  { value: 'gte', label: 'is at least' },
  { value: 'lt', label: 'is less than' },
  { value: 'lte', label: 'is at most' },
  { value: 'contains', label: 'contains' },
  { value: 'starts_with', label: 'starts with' },
  { value: 'in', label: 'is one of' },
  { value: 'not_in', label: 'is not one of' },
  { value: 'matches', label: 'matches (regex)' },
  { value: 'exists', label: 'is present' },
];

export const EFFECTS: { value: PolicyRule['then']; label: string }[] = [
  { value: 'require_approval', label: 'require approval' },
  { value: 'block', label: 'block' },
  { value: 'log_only', label: 'only log it' },
  { value: 'allow', label: 'allow' },
];

export const FIELD_SUGGESTIONS = [
  'action.amount',
  'action.currency',
  'action.recipient',
  'action.discount_percent',
  'agent.type',
  'agent.tags',
  'agent.environment',
  'context.hour',
  'context.weekday',
  'context.environment',
];

export const effectLabel = (e: string) => EFFECTS.find((x) => x.value === e)?.label ?? e;
export const effectColor = (e: string) =>
  e === 'block' ? 'red' : e === 'require_approval' ? 'yellow' : e === 'allow' ? 'teal' : 'gray';

export const emptySentence = (): Sentence => ({
  agent: '',
  action: '',
  conditions: [{ field: 'action.amount', op: 'gt', value: '' }],
  then: 'require_approval',
});

/** A typed value from what the person typed: numbers and booleans as such, lists for in/not_in. */
export function parseValue(op: string, raw: string): FieldCondition['value'] {
  if (op === 'exists') return true;
  if (op === 'in' || op === 'not_in')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => scalar(s));
  if (op === 'matches' || op === 'contains' || op === 'starts_with') return raw;
  return scalar(raw);
}

function scalar(s: string): string | number | boolean {
  if (/^-?\d+(\.\d+)?$/.test(s.trim())) return Number(s);
  if (s === 'true') return true;
  if (s === 'false') return false;
  return s;
}

const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') : v === undefined || v === null ? '' : String(v));

export function toRule(s: Sentence, base?: PolicyRule): PolicyRule {
  const all: Condition[] = [];
  if (s.agent.trim()) all.push({ field: 'agent.name', op: 'eq', value: s.agent.trim() });
  if (s.action.trim()) all.push({ field: 'action.type', op: 'eq', value: s.action.trim() });
  for (const c of s.conditions) {
    if (!c.field.trim()) continue;
    // The builder offers only the contracts' operators; the hub validates the rule anyway.
    all.push({ field: c.field.trim(), op: c.op as ConditionOp, value: parseValue(c.op, c.value) });
  }
  const when: Condition = all.length === 1 ? all[0] : { all };
  return { ...(base ?? {}), when, then: s.then };
}

export function fromRule(rule: PolicyRule | undefined): Sentence | null {
  if (!rule?.when) return null;
  const w = rule.when;
  const list: Condition[] = 'all' in w ? w.all : 'field' in w ? [w] : [];
  if (!('all' in w) && !('field' in w)) return null;
  const s: Sentence = { agent: '', action: '', conditions: [], then: rule.then };
  for (const c of list) {
    if (!('field' in c)) return null;
    if (c.field === 'agent.name' && c.op === 'eq' && !s.agent) s.agent = show(c.value);
    else if (c.field === 'action.type' && c.op === 'eq' && !s.action) s.action = show(c.value);
    else s.conditions.push({ field: c.field, op: c.op, value: c.op === 'exists' ? '' : show(c.value) });
  }
  return s;
}
