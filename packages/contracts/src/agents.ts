/**
 * @module agents
 * The agent registry: what an agent is, and the bodies that create, change and list them.
 */
import { z } from 'zod';
import { IsoDate, Tag } from './common.ts';

export const Environments = ['prod', 'staging', 'test'] as const;
export const EnvironmentSchema = z.enum(Environments);

export const AgentStatusSchema = z.enum(['active', 'paused']);

/** Known provider kinds; any other lowercase identifier is accepted too (custom orchestrators). */
export const ProviderKindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,40}$/, 'lowercase identifier such as openai_assistants, mcp or custom');

export const ProviderInput = z.object({
  kind: ProviderKindSchema,
  external_id: z.string().max(200).optional(),
  /** Secret connection fields (tokens, URLs with credentials). Encrypted at rest, never returned. */
  connection: z.record(z.string(), z.string().max(4000)).optional(),
});

export const ProviderSchema = z.object({
  kind: z.string(),
  external_id: z.string().nullable(),
  /** Names of the stored connection fields, never their values. */
  connection_fields: z.array(z.string()),
});

const name = z.string().trim().min(1).max(120);
const type = z.string().regex(/^[a-z][a-z0-9_-]{0,40}$/, 'lowercase identifier such as support, outreach or billing');

/**
 * @example
 * { "name": "SupportBot", "environment": "prod", "type": "support", "tags": ["support", "tier1"] }
 */
export const CreateAgentBody = z.object({
  name,
  description: z.string().max(2000).optional(),
  type: type.optional(),
  team_id: z.string().max(64).nullable().optional(),
  tags: z.array(Tag).max(50).optional(),
  environment: EnvironmentSchema,
  provider: ProviderInput.optional(),
});
export type CreateAgentBody = z.infer<typeof CreateAgentBody>;

export const UpdateAgentBody = CreateAgentBody.partial().extend({
  provider: ProviderInput.nullable().optional(),
});
export type UpdateAgentBody = z.infer<typeof UpdateAgentBody>;

export const ListAgentsQuery = z.object({
  tag: z.string().optional(),
  type: z.string().optional(),
  environment: EnvironmentSchema.optional(),
  status: AgentStatusSchema.optional(),
  team_id: z.string().optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const AgentSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  type: z.string().nullable(),
  team_id: z.string().nullable(),
  tags: z.array(z.string()),
  environment: EnvironmentSchema,
  status: AgentStatusSchema,
  provider: ProviderSchema.nullable(),
  auto_registered: z.boolean(),
  created_at: IsoDate,
  updated_at: IsoDate,
});
export type Agent = z.infer<typeof AgentSchema>;
