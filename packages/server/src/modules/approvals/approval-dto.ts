/** The approval as the API shows it (`toApproval(row, now)`): a pending one past its expiry reads `expired`. */
import type { Actor } from '@agentops-hub/contracts';
import type { Selectable } from 'kysely';
import type { ApprovalsTable } from '../../db/schema.ts';
import type { Approvers } from './approvals.store.ts';

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function toApproval(r: Selectable<ApprovalsTable>, now: number) {
  const expired = r.status === 'pending' && Number(r.expires_at) <= now;
  return {
    id: r.id,
    status: (expired ? 'expired' : r.status) as 'pending' | 'approved' | 'rejected' | 'expired',
    policy_id: r.policy_id,
    agent_id: r.agent_id,
    run_id: r.run_id,
    decision_id: r.decision_id,
    action: JSON.parse(r.action),
    approvers: JSON.parse(r.approvers) as Approvers,
    message: r.message,
    requested_at: iso(r.requested_at)!,
    expires_at: iso(r.expires_at)!,
    decided_at: iso(r.decided_at),
    decided_by: r.decided_by,
    /** Who decided, exactly (null for rows decided before 011-security, and while undecided). */
    decided_by_actor:
      r.decided_by_type && r.decided_by_id
        ? ({ type: r.decided_by_type, id: r.decided_by_id, name: r.decided_by } as Actor)
        : null,
    comment: r.comment,
    used: r.used_at !== null,
    /** Added to the approvers when `escalated_at` is set. */
    escalate_to: r.escalate_to ? (JSON.parse(r.escalate_to) as Approvers) : null,
    escalate_at: iso(r.escalate_at ?? null),
    escalated_at: iso(r.escalated_at ?? null),
    callback_url: r.callback_url ?? null,
  };
}
export type Approval = ReturnType<typeof toApproval>;
