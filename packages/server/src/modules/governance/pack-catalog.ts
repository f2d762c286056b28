/**
 * Policy packs as files: reads the YAML packs shipped in `packages/server/policy-packs/`, validates each
 * one completely at load (its shape, its parameters, and every policy and budget it renders with its
 * defaults), and fills parameters in.
 *
 * Parameters are `{{name}}` in any string. A string that is only `{{name}}` becomes the parameter's typed
 * value (`value: "{{discount_threshold}}"` → `value: 20`); inside a longer string the value is written as
 * text ("Discounts over {{discount_threshold}}%" → "Discounts over 20%").
 *
 * @example
 * const catalog = loadShippedPacks();
 * const rendered = renderPack(catalog.get('conservative-discounts')!, { discount_threshold: 15 });
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateBudgetBody,
  type PackParam,
  PolicyBody,
  type PolicyPackFile,
  PolicyPackFileSchema,
} from '@agentops-hub/contracts';
import { parseDocument } from 'yaml';
import { AppError, type FieldError } from '../../platform/errors.ts';

export type ParamValue = number | string | boolean | string[];
export type ParamValues = Record<string, ParamValue>;

export const SHIPPED_PACKS_DIR = fileURLToPath(new URL('../../../policy-packs/', import.meta.url));

export interface RenderedPolicy {
  key: string;
  summary: string;
  body: PolicyBody;
}
export interface RenderedBudget {
  key: string;
  summary: string;
  body: CreateBudgetBody;
}
export interface RenderedNotifications {
  summary: string;
  in_app: Record<string, boolean>;
  email: Record<string, boolean>;
}
export interface RenderedPack {
  pack: PolicyPackFile;
  params: ParamValues;
  policies: RenderedPolicy[];
  budgets: RenderedBudget[];
  notifications: RenderedNotifications | null;
}

const WHOLE = /^\{\{\s*([a-z][a-z0-9_]*)\s*\}\}$/;
const INLINE = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;

/** Replaces `{{param}}` everywhere in `value`; unknown names are collected in `missing`. */
function fill(value: unknown, params: ParamValues, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      const name = whole[1]!;
      if (!(name in params)) missing.add(name);
      return params[name] ?? value;
    }
    return value.replace(INLINE, (m, name: string) => {
      if (!(name in params)) {
        missing.add(name);
        return m;
      }
      const v = params[name]!;
      return Array.isArray(v) ? v.join(', ') : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, params, missing));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, params, missing)]));
  return value;
}

/** Why `value` does not fit parameter `p`, or null. */
function paramProblem(p: PackParam, value: unknown): string | null {
  switch (p.type) {
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (p.type === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
      if (p.min !== undefined && value < p.min) return `must be at least ${p.min}`;
      if (p.max !== undefined && value > p.max) return `must be at most ${p.max}`;
      return null;
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (p.enum && !p.enum.includes(value)) return `must be one of ${p.enum.join(', ')}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'string_list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return 'must be a list of strings';
      if (value.length === 0) return 'must name at least one value';
      return null;
  }
}

/** The pack's defaults overlaid with `given`; 400 with every problem when a value is unknown or wrong. */
export function resolveParams(pack: PolicyPackFile, given: ParamValues = {}): ParamValues {
  const errors: FieldError[] = [];
  for (const name of Object.keys(given))
    if (!(name in pack.params))
      errors.push({
        path: `params.${name}`,
        message: `unknown parameter; this pack takes ${Object.keys(pack.params).join(', ') || 'no parameters'}`,
      });
  const out: ParamValues = {};
  for (const [name, p] of Object.entries(pack.params)) {
    const v = name in given ? given[name] : p.default;
    const problem = paramProblem(p, v);
    if (problem) errors.push({ path: `params.${name}`, message: problem });
    else out[name] = v as ParamValue;
  }
  if (errors.length)
    throw new AppError('validation_failed', `The parameters of pack ${pack.id} are not valid.`, { errors });
  return out;
}

/** Fills the parameters in and validates every policy and budget as the API would. */
export function renderPack(pack: PolicyPackFile, given: ParamValues = {}): RenderedPack {
  const params = resolveParams(pack, given);
  const missing = new Set<string>();
  const errors: FieldError[] = [];
  const policies = pack.policies.map((p, i) => {
    const filled = fill(p, params, missing) as typeof p;
    const parsed = PolicyBody.safeParse({
      name: filled.name,
      description: filled.description ?? filled.summary,
      status: filled.status ?? 'active',
      priority: filled.priority ?? 0,
      rule: filled.rule,
    });
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        errors.push({ path: `policies.${i}.${issue.path.join('.')}`, message: issue.message });
    return { key: p.key, summary: filled.summary, body: parsed.data as PolicyBody };
  });
  const budgets = pack.budgets.map((b, i) => {
    const filled = fill(b, params, missing) as Record<string, unknown>;
    const parsed = CreateBudgetBody.safeParse({
      name: filled.name,
      scope: filled.scope,
      amount_usd: filled.amount_usd,
      period: filled.period,
      thresholds: filled.thresholds,
      on_exceed: filled.on_exceed,
    });
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        errors.push({ path: `budgets.${i}.${issue.path.join('.')}`, message: issue.message });
    return { key: b.key, summary: String(filled.summary), body: parsed.data as CreateBudgetBody };
  });
  let notifications: RenderedNotifications | null = null;
  if (pack.notifications) {
    const n = fill(pack.notifications, params, missing) as Record<string, unknown>;
    const flags = (channel: 'in_app' | 'email') => {
      const out: Record<string, boolean> = {};
      for (const [topic, v] of Object.entries((n[channel] ?? {}) as Record<string, unknown>)) {
        if (!NOTIFICATION_TOPICS.includes(topic))
          errors.push({
            path: `notifications.${channel}.${topic}`,
            message: `unknown topic; use ${NOTIFICATION_TOPICS.join(', ')}`,
          });
        else if (typeof v !== 'boolean')
          errors.push({ path: `notifications.${channel}.${topic}`, message: 'must be true or false' });
        else out[topic] = v;
      }
      return out;
    };
    notifications = { summary: String(n.summary), in_app: flags('in_app'), email: flags('email') };
  }
  for (const name of missing) errors.push({ path: `params.${name}`, message: 'used in the pack but not declared' });
  if (errors.length)
    throw new AppError('validation_failed', `Pack ${pack.id} does not render to valid policies.`, { errors });
  return { pack, params, policies, budgets, notifications };
}

const NOTIFICATION_TOPICS = ['budget_thresholds', 'policy_violations', 'ingestion_errors', 'approvals'];

/** Parses and fully validates one pack file; throws an Error naming the file and each problem. */
export function parsePackYaml(text: string, source = 'pack'): PolicyPackFile {
  const doc = parseDocument(text, { uniqueKeys: true, schema: 'core', merge: false });
  if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
  const parsed = PolicyPackFileSchema.safeParse(doc.toJS({ maxAliasCount: 20 }));
  if (!parsed.success)
    throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const pack = parsed.data;
  const keys = new Set<string>();
  for (const item of [...pack.policies, ...pack.budgets]) {
    if (keys.has(item.key)) throw new Error(`${source}: the key "${item.key}" is used twice`);
    keys.add(item.key);
  }
  try {
    renderPack(pack);
  } catch (e) {
    const errs = e instanceof AppError ? (e.details.errors ?? []) : [];
    throw new Error(`${source}: ${errs.map((x) => `${x.path}: ${x.message}`).join('; ') || (e as Error).message}`);
  }
  return pack;
}

export interface PackCatalog {
  list(): PolicyPackFile[];
  get(id: string): PolicyPackFile | undefined;
}

/** Loads every `*.yaml` in `dir`; a broken pack stops the hub at start, never at apply time. */
export function loadPackDir(dir: string): PackCatalog {
  const packs = new Map<string, PolicyPackFile>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()) {
    const pack = parsePackYaml(readFileSync(join(dir, file), 'utf8'), file);
    if (packs.has(pack.id)) throw new Error(`${file}: pack id "${pack.id}" is used by another file`);
    packs.set(pack.id, pack);
  }
  return catalogOf([...packs.values()]);
}

export function catalogOf(packs: PolicyPackFile[]): PackCatalog {
  const byId = new Map(packs.map((p) => [p.id, p]));
  return { list: () => [...byId.values()], get: (id) => byId.get(id) };
}

export const loadShippedPacks = () => loadPackDir(SHIPPED_PACKS_DIR);
