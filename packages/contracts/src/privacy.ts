/**
 * @module privacy
 * What the hub keeps of what agents send: the capture level (per org, overridable per agent), the
 * built-in detectors and the org's own redaction rules. Redaction happens at ingestion, before any
 * write, so what is not kept never reaches the database.
 *
 * @example
 * const body: PutPrivacyBody = {
 *   capture: 'redacted',
 *   detectors: { email: 'hash' },
 *   rules: [{ name: 'customer address', key: 'customer.address', action: 'remove' }],
 * };
 */
import { z } from 'zod';

/** `full`: kept as sent (org rules still apply). `redacted`: rules + detectors. `metadata_only`: no text. */
export const CaptureLevels = ['full', 'redacted', 'metadata_only'] as const;
export const CaptureLevelSchema = z.enum(CaptureLevels);
export type CaptureLevel = z.infer<typeof CaptureLevelSchema>;

/** `label`: `[EMAIL]`; `hash`: a keyed hash (equal values stay joinable); `remove`: dropped; `off`. */
export const RedactionActions = ['label', 'hash', 'remove'] as const;
export const RedactionActionSchema = z.enum(RedactionActions);
export type RedactionAction = z.infer<typeof RedactionActionSchema>;

export const DetectorKinds = ['email', 'phone', 'card', 'iban', 'secret'] as const;
export type DetectorKind = (typeof DetectorKinds)[number];
export const DetectorSettingSchema = z.enum(['label', 'hash', 'remove', 'off']);
export const DetectorSettingsSchema = z
  .object({
    email: DetectorSettingSchema,
    phone: DetectorSettingSchema,
    card: DetectorSettingSchema,
    iban: DetectorSettingSchema,
    secret: DetectorSettingSchema,
  })
  .strict();
export type DetectorSettings = z.infer<typeof DetectorSettingsSchema>;

export const PrivacyLimits = { maxRules: 50, maxPatternLength: 500, maxPayloadTestChars: 100_000 } as const;

/**
 * One org rule: a `key` (an attribute name anywhere; a dotted path such as `customer.address` or
 * `messages.*.content`, matched wherever a value's path ends with it; `$.customer.address` from the
 * field's root only) or a `pattern` (RE2 syntax: linear time), never both.
 */
export const RedactionRuleSchema = z
  .object({
    name: z.string().min(1).max(100),
    key: z.string().min(1).max(200).optional(),
    pattern: z.string().min(1).max(PrivacyLimits.maxPatternLength).optional(),
    action: RedactionActionSchema,
    /** The replacement for `label` (default `[REDACTED]`). */
    label: z.string().min(1).max(40).optional(),
  })
  .strict();
export type RedactionRule = z.infer<typeof RedactionRuleSchema>;

/**
 * A re-redaction of what is already stored (runs, events, decisions, approvals, cold archives) under the
 * current settings: asked for with `POST /v1/privacy/redact-stored`, or started when the settings were
 * tightened. `phase` and `counts` show its progress.
 */
export const RedactionJobSchema = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  reason: z.enum(['requested', 'tightened']),
  phase: z.enum(['runs', 'events', 'decisions', 'approvals', 'archives', 'done']),
  /** Per phase: rows (or archive files) scanned, and how many of them changed. */
  counts: z.record(z.string(), z.object({ scanned: z.number(), changed: z.number() })),
  requested_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  error: z.string().nullable(),
});
export type RedactionJob = z.infer<typeof RedactionJobSchema>;

export const PrivacySettingsSchema = z.object({
  capture: CaptureLevelSchema,
  detectors: DetectorSettingsSchema,
  rules: z.array(RedactionRuleSchema),
  /** Agents whose capture level differs from the org's. */
  agents: z.array(z.object({ agent_id: z.string(), capture: CaptureLevelSchema })),
  updated_at: z.string().nullable(),
  /** The latest re-redaction of stored data, if any. */
  redaction: RedactionJobSchema.nullable(),
});
export type PrivacySettings = z.infer<typeof PrivacySettingsSchema>;

/**
 * `GET` and `PUT /v1/privacy/agents/{id}`: the agent's own capture level (`null`: it follows the org's)
 * and the level in force for it.
 * @example { "agent_id": "agt_…", "capture": "metadata_only", "effective": "metadata_only" }
 */
export const AgentPrivacySchema = z.object({
  agent_id: z.string(),
  capture: CaptureLevelSchema.nullable(),
  effective: CaptureLevelSchema,
});
export type AgentPrivacy = z.infer<typeof AgentPrivacySchema>;

export const PutPrivacyBody = z
  .object({
    capture: CaptureLevelSchema.optional(),
    detectors: DetectorSettingsSchema.partial().optional(),
    rules: z.array(RedactionRuleSchema).max(PrivacyLimits.maxRules).optional(),
  })
  .strict();
export type PutPrivacyBody = z.infer<typeof PutPrivacyBody>;

/** `capture: null` removes the agent's own level (it follows the org again). */
export const PutAgentPrivacyBody = z.object({ capture: CaptureLevelSchema.nullable() }).strict();
export type PutAgentPrivacyBody = z.infer<typeof PutAgentPrivacyBody>;

/** `POST /v1/privacy/test`: what a pasted payload would become under these (or the stored) settings. */
export const PrivacyTestBody = z
  .object({
    payload: z.unknown(),
    capture: CaptureLevelSchema.optional(),
    agent_id: z.string().min(1).max(200).optional(),
  })
  .strict();
export type PrivacyTestBody = z.infer<typeof PrivacyTestBody>;
