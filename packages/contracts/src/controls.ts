/**
 * @module controls
 * Emergency controls: pause one agent, pause a category of agents (an agent type or tag), or stop every
 * agent of the org with the kill switch. They are checked before any policy rule.
 */
import { z } from 'zod';
import { AgentSchema } from './agents.ts';
import { IsoDate } from './common.ts';
import { ActorSchema } from './platform.ts';

/** 'block': every action is refused. 'failsafe': the agent may log, but takes no external action. */
export const PauseModes = ['block', 'failsafe'] as const;
export const PauseModeSchema = z.enum(PauseModes);
export type PauseMode = z.infer<typeof PauseModeSchema>;

/** Who holds a pause: a person or key ('manual') or the budget engine ('budget'). Each is released on its own. */
export const PauseSources = ['manual', 'budget'] as const;
export const PauseSourceSchema = z.enum(PauseSources);
export type PauseSource = z.infer<typeof PauseSourceSchema>;

const reason = z.string().trim().max(1000);

/** A category is an agent type or one of its tags, e.g. `outbound_email`. */
export const CategorySchema = z.string().trim().min(1).max(64);

/**
 * `POST /v1/agents/{id}/pause`
 * @example
 * { "reason": "investigating a refund loop", "mode": "block" }
 */
export const PauseAgentBody = z.object({
  reason: reason.optional(),
  mode: PauseModeSchema.default('block'),
});
export type PauseAgentBody = z.infer<typeof PauseAgentBody>;

/**
 * `POST /v1/agents/{id}/resume`: releases the pause of one source (default: the manual one). A budget
 * pause is released by the budget engine, or explicitly with `{"source": "budget"}`.
 * @example
 * {}
 */
export const ResumeAgentBody = z.object({
  source: PauseSourceSchema.default('manual'),
});
export type ResumeAgentBody = z.infer<typeof ResumeAgentBody>;

/**
 * `POST /v1/controls/kill-switch`
 * @example
 * { "engaged": true, "reason": "drill" }
 */
export const KillSwitchBody = z.object({
  engaged: z.boolean(),
  reason: reason.optional(),
});
export type KillSwitchBody = z.infer<typeof KillSwitchBody>;

/**
 * `POST /v1/controls/categories/{category}/pause`
 * @example
 * { "reason": "spam complaint" }
 */
export const PauseCategoryBody = z.object({ reason: reason.optional() });
export type PauseCategoryBody = z.infer<typeof PauseCategoryBody>;

export const KillSwitchStateSchema = z.object({
  engaged: z.boolean(),
  reason: z.string().nullable(),
  at: IsoDate.nullable(),
  by: ActorSchema.nullable(),
});

/** One pause of one agent; an agent paused by a person and by its budget appears twice. */
export const AgentPauseSchema = z.object({
  agent_id: z.string(),
  name: z.string(),
  mode: PauseModeSchema,
  reason: z.string().nullable(),
  source: PauseSourceSchema,
  at: IsoDate,
  by: ActorSchema,
});
export type AgentPause = z.infer<typeof AgentPauseSchema>;

export const CategoryPauseSchema = z.object({
  category: z.string(),
  reason: z.string().nullable(),
  at: IsoDate,
  by: ActorSchema,
});
export type CategoryPause = z.infer<typeof CategoryPauseSchema>;

/**
 * `GET /v1/controls`, and the answer of every kill-switch and category change.
 * @example
 * { "kill_switch": { "engaged": false, "reason": null, "at": null, "by": null },
 *   "paused_agents": [], "paused_categories": [{ "category": "outbound_email", "reason": "spam complaint",
 *   "at": "2025-01-01T00:00:00.000Z", "by": { "type": "user", "id": "usr_…", "name": "owner@acme.test" } }] }
 */
export const ControlsStateSchema = z.object({
  kill_switch: KillSwitchStateSchema,
  paused_agents: z.array(AgentPauseSchema),
  paused_categories: z.array(CategoryPauseSchema),
});
export type ControlsState = z.infer<typeof ControlsStateSchema>;

/** The answer of an agent pause or resume: the agent, with the pauses that hold it now. */
export const PausedAgentSchema = AgentSchema.extend({
  pauses: z.array(AgentPauseSchema.omit({ agent_id: true, name: true })),
});
export type PausedAgent = z.infer<typeof PausedAgentSchema>;

/** Why the controls stop an agent right now (checked before any policy rule); null when nothing does. */
export const ControlHoldSchema = z.object({
  reason: z.enum(['kill_switch', 'agent_paused', 'category_paused']),
  mode: PauseModeSchema,
  message: z.string(),
});
export type ControlHold = z.infer<typeof ControlHoldSchema>;
