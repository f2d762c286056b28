/**
 * @module governance
 * Policy packs (ready-made sets of policies, budgets and notification settings, applied in one call with
 * parameters) and the org's data rights (export everything, delete everything).
 *
 * A pack is a readable YAML file shipped with the hub (`packages/server/policy-packs/*.yaml`). Its
 * parameters are written `{{name}}` anywhere in a string; a string that is only `{{name}}` takes the
 * parameter's typed value (a number stays a number).
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';

/** One tunable value of a pack, e.g. the discount above which a person must approve. */
export const PackParamSchema = z.strictObject({
  type: z.enum(['number', 'integer', 'string', 'boolean', 'string_list']),
  default: z.union([z.number(), z.string(), z.boolean(), z.array(z.string())]),
  description: z.string().min(1).max(500),
  min: z.number().optional(),
  max: z.number().optional(),
  /** For `string`: the allowed values. */
  enum: z.array(z.string()).optional(),
});
export type PackParam = z.infer<typeof PackParamSchema>;

const PackKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and "-" (at most 63 characters)');

/** A policy as the pack file writes it; `rule` is a policy rule once parameters are filled in. */
export const PackPolicySchema = z.strictObject({
  /** Stable within the pack: how an applied policy is recognized across pack versions. */
  key: PackKey,
  name: z.string().min(1).max(120),
  description: z.string().max(2000).optional(),
  /** What the policy does, in plain words, for people who do not read rules. */
  summary: z.string().min(1).max(500),
  priority: z.int().optional(),
  status: z.enum(['active', 'inactive']).optional(),
  rule: z.record(z.string(), z.unknown()),
});

export const PackBudgetSchema = z.strictObject({
  key: PackKey,
  name: z.string().min(1).max(200),
  summary: z.string().min(1).max(500),
  scope: z.literal('org'),
  amount_usd: z.union([z.number(), z.string()]),
  period: z.union([z.enum(['day', 'week', 'month']), z.string()]),
  thresholds: z.union([z.array(z.union([z.number(), z.string()])), z.string()]),
  on_exceed: z.union([z.enum(['notify', 'throttle', 'pause']), z.string()]),
});

const TopicFlags = z.record(z.string(), z.union([z.boolean(), z.string()]));
/** Org-wide default notification settings (per topic and channel) the pack turns on or off. */
export const PackNotificationsSchema = z.strictObject({
  summary: z.string().min(1).max(500),
  in_app: TopicFlags.optional(),
  email: TopicFlags.optional(),
});

/** A pack file, as written in YAML. */
export const PolicyPackFileSchema = z.strictObject({
  id: PackKey,
  name: z.string().min(1).max(120),
  version: z.int().min(1),
  description: z.string().min(1).max(2000),
  /** A starting point to review with an expert (healthcare, fintech), not a finished compliance set. */
  starter: z.boolean().default(false),
  /** Fits any org (a baseline): recommended even when nothing else matches. */
  baseline: z.boolean().default(false),
  industries: z.array(z.string()).default([]),
  agent_types: z.array(z.string()).default([]),
  agent_tags: z.array(z.string()).default([]),
  params: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/), PackParamSchema).default({}),
  policies: z.array(PackPolicySchema).min(1),
  budgets: z.array(PackBudgetSchema).default([]),
  notifications: PackNotificationsSchema.optional(),
});
export type PolicyPackFile = z.infer<typeof PolicyPackFileSchema>;

/** Parameter values for apply and preview: `{discount_threshold: 15}`. */
export const PackParamValues = z.record(
  z.string().max(63),
  z.union([z.number(), z.string().max(1000), z.boolean(), z.array(z.string().max(200)).max(200)]),
);

/**
 * Apply a pack. Applying again with the same parameters changes nothing. With other parameters, the
 * pack's items nobody changed are updated; items a person changed are kept and reported as conflicts.
 * When the pack has a newer version than the one applied, apply answers `upgrade_available` with the
 * diff and changes nothing, unless `upgrade: true`.
 * @example
 * { "params": { "discount_threshold": 15 } }
 */
export const ApplyPackBody = z.object({
  params: PackParamValues.optional(),
  upgrade: z.boolean().optional(),
});
export type ApplyPackBody = z.infer<typeof ApplyPackBody>;

export const PackPreviewBody = z.object({ params: PackParamValues.optional() });

/** One line of a pack diff: what applying (or upgrading) would do to one item. */
export const PackChangeSchema = z.object({
  key: z.string(),
  kind: z.enum(['policy', 'budget', 'notification']),
  change: z.enum(['create', 'update', 'remove', 'unchanged', 'conflict', 'restore']),
  entity_id: z.string().nullable(),
  summary: z.string(),
});
export type PackChange = z.infer<typeof PackChangeSchema>;

export const ApplyPackResultSchema = z.object({
  pack_id: z.string(),
  version: z.int(),
  status: z.enum(['applied', 'unchanged', 'updated', 'upgraded', 'upgrade_available']),
  policies: z.array(z.string()),
  budgets: z.array(z.string()),
  changes: z.array(PackChangeSchema),
  applied_version: z.int().nullable().optional(),
});
export type ApplyPackResult = z.infer<typeof ApplyPackResultSchema>;

export const UnapplyPackResultSchema = z.object({
  pack_id: z.string(),
  removed: z.array(z.object({ key: z.string(), kind: z.string(), entity_id: z.string().nullable() })),
  /** Items a person changed since the pack added them: left in place. */
  kept: z.array(z.object({ key: z.string(), kind: z.string(), entity_id: z.string().nullable(), reason: z.string() })),
});

export const PackRecommendationSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  starter: z.boolean(),
  score: z.number(),
  /** Why this pack fits this org, one sentence each. */
  reasons: z.array(z.string()),
  applied: z.boolean(),
  upgrade_available: z.boolean(),
});

/** Org export: a durable job writing JSONL files of everything the org owns into a tar.gz archive. */
export const OrgExportSchema = z.object({
  id: z.string(),
  status: z.enum(['pending', 'running', 'completed', 'failed']),
  requested_by: z.string().nullable(),
  created_at: IsoDate,
  completed_at: IsoDate.nullable(),
  size_bytes: z.int().nullable(),
  sha256: z.string().nullable(),
  files: z.array(z.object({ name: z.string(), rows: z.int() })),
  error: z.string().nullable(),
  download_url: z.string().nullable(),
});
export type OrgExport = z.infer<typeof OrgExportSchema>;

/**
 * Delete the org and all its data. `confirm` must be the org's exact name.
 * @example
 * { "confirm": "Acme" }
 */
export const DeleteOrgBody = z.object({ confirm: z.string().min(1).max(200) });
