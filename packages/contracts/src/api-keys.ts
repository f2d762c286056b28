/**
 * @module api-keys
 * API keys: scopes, expiry, and an optional binding to agents.
 *
 * @example
 * // An ingest key that may act only as one agent (and reads only the approvals it asked for):
 * CreateApiKeyBody.parse({ name: 'support-bot', scopes: ['ingest'], agent_ids: ['agt_01…'] });
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';
import { KeyScopeSchema } from './rbac.ts';

export const CreateApiKeyBody = z.object({
  name: z.string().trim().min(1).max(120),
  scopes: z.array(KeyScopeSchema).min(1),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  /**
   * Agent ids of the org this key may act as (ingest, OTLP, evaluate); it can register no other agent
   * and reads only the approvals it asked for. Needs the `ingest` scope; not with `admin` or `full`.
   */
  agent_ids: z.array(z.string().min(1).max(100)).min(1).max(100).optional(),
});
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(KeyScopeSchema),
  /** The agents this key is bound to; null: any agent of the org. */
  agent_ids: z.array(z.string()).nullable(),
  expires_at: IsoDate.nullable(),
  last_used_at: IsoDate.nullable(),
  revoked_at: IsoDate.nullable(),
  created_at: IsoDate,
});
export type ApiKey = z.infer<typeof ApiKeySchema>;

/** Only the creation answer carries `key`: it is shown once and stored as a hash. */
export const CreatedApiKeySchema = ApiKeySchema.extend({ key: z.string() });
