// biome-ignore-all lint/suspicious/noThenProperty: `then` is the field name of a policy rule in the public API.
/**
 * Policies are stored as JSON but read and written as YAML too (`Content-Type: application/yaml`).
 * Parsing only turns YAML into a plain object; the caller validates it with `PolicyBody` like JSON, so
 * both paths report the same `{path, message}` errors. YAML syntax errors use the path `(yaml)` and say
 * where (line and column), since there is no field path yet.
 */
import type { FieldError, PolicyBody } from '@agentops-hub/contracts';
import { Document, isMap, LineCounter, parseDocument, visit } from 'yaml';

export type YamlParse = { ok: true; value: Record<string, unknown> } | { ok: false; errors: FieldError[] };

/** Aliases can expand a small document into a huge one ("billion laughs"); policies never need many. */
const MAX_ALIASES = 20;

/**
 * Parses one YAML document into a plain object (YAML 1.2 core schema: `yes` stays a string, no dates,
 * duplicate keys are errors).
 * @example
 * parsePolicyYaml('name: x\nrule:\n  when: { field: action.amount, op: gt, value: 500 }\n  then: block\n')
 * // → { ok: true, value: { name: 'x', rule: { … } } }
 */
export function parsePolicyYaml(source: string): YamlParse {
  const lines = new LineCounter();
  const doc = parseDocument(source, {
    uniqueKeys: true,
    merge: false,
    prettyErrors: false,
    schema: 'core',
    lineCounter: lines,
  });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return { path: '(yaml)', message: `line ${at.line}, column ${at.col}: ${firstLine(e.message)}` };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return { ok: false, errors: [{ path: '(yaml)', message: (e as Error).message }] };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return {
      ok: false,
      errors: [{ path: '(yaml)', message: 'a policy document must be a mapping (name:, rule:, …)' }],
    };
  return { ok: true, value: value as Record<string, unknown> };
}

const firstLine = (s: string) => s.split('\n')[0];

/** A policy to render: a body, or the stored form (its id and version go in a comment). */
export type YamlPolicy = PolicyBody & { id?: string; version?: number };

/**
 * Renders a policy as YAML in a fixed key order, with each comparison on one line
 * (`- { field: action.amount, op: gt, value: 500 }`) as people write them.
 * @example
 * toYaml({ name: 'No refunds over 500', status: 'active', priority: 50, rule }) // 'name: No refunds over 500\n…'
 */
export function toYaml(policy: YamlPolicy): string {
  const { rule } = policy;
  const body = dropUndefined({
    name: policy.name,
    description: policy.description,
    status: policy.status,
    priority: policy.priority,
    rule: dropUndefined({
      when: rule.when,
      then: rule.then,
      approvers: rule.approvers,
      approval_timeout_s: rule.approval_timeout_s,
      escalate_after_s: rule.escalate_after_s,
      escalate_to: rule.escalate_to,
      message: rule.message,
    }),
  });
  const doc = new Document(body);
  visit(doc, {
    Map(_, node) {
      if (isMap(node) && node.has('field') && node.has('op')) node.flow = true;
    },
  });
  if (policy.id) doc.commentBefore = ` ${policy.id}${policy.version ? ` · version ${policy.version}` : ''}`;
  return doc.toString({ lineWidth: 0 });
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
