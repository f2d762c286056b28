/**
 * @module approvals
 * Approvals: what a `require_approval` policy creates, and who decided it.
 *
 * @example
 * const a = ApprovalSchema.parse(await (await fetch(`${hub}/v1/approvals/${id}`, { headers })).json());
 * if (a.decided_by_actor?.type === 'user') console.log(`${a.decided_by} decided`);
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';
import { ActorSchema } from './platform.ts';
import { ApproversSchema } from './policies.ts';

export const ApprovalStatuses = ['pending', 'approved', 'rejected', 'expired'] as const;

export const ApprovalSchema = z.object({
  id: z.string(),
  status: z.enum(ApprovalStatuses),
  policy_id: z.string().nullable(),
  agent_id: z.string(),
  run_id: z.string().nullable(),
  decision_id: z.string(),
  action: z.record(z.string(), z.unknown()),
  approvers: ApproversSchema,
  message: z.string().nullable(),
  requested_at: IsoDate,
  expires_at: IsoDate,
  decided_at: IsoDate.nullable(),
  /** The decider's display name (kept for compatibility); `decided_by_actor` says who exactly. */
  decided_by: z.string().nullable(),
  /** Who decided: a person (`user`), never a key for a restricted approval. Null while pending or expired. */
  decided_by_actor: ActorSchema.nullable(),
  comment: z.string().nullable(),
  used: z.boolean(),
  escalate_to: ApproversSchema.nullable(),
  escalate_at: IsoDate.nullable(),
  escalated_at: IsoDate.nullable(),
  callback_url: z.string().nullable(),
});
export type Approval = z.infer<typeof ApprovalSchema>;
