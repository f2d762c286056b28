/**
 * Adherence: of the actions an agent asked the policy engine about, the share that went through without
 * a block, a rejection or an override (docs/policies.md, section Adherence, has the formula).
 *
 * - blocked: the decision was BLOCK.
 * - rejected: the decision asked a person, and the approval was rejected or expired.
 * - overridden: a rule in monitor mode (`log_only`) matched: the action went through only because that
 *   rule does not enforce.
 * - pending: an approval still waiting; neither counted for nor against until it is decided.
 *
 * `score = adherent / evaluated`, with `evaluated = decisions − pending` and
 * `adherent = evaluated − blocked − rejected − overridden`; null when nothing was evaluated.
 *
 * Read from the decisions table alone (indexed by org and time, or by org and run): each decision row
 * keeps its approval's status and expiry (migration 020). Evaluate writes them with the row, and the
 * approvals module reports every later outcome through `recordApprovalOutcome` (wired in context.ts),
 * in the transaction that decides or expires the approval. Counted in the database by group
 * (decision × monitored × approval state), so a range of a million decisions sends a dozen rows.
 */
import type { Adherence } from '@agentops-hub/contracts';
import { sql } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';

export type { Adherence };

/** A group of decisions alike for adherence, and how many there are. */
interface Group {
  decision: string;
  /** A monitor-mode (`log_only`) rule matched. */
  monitored: number;
  approval_status: string | null;
  /** A still-pending approval whose time has run out (it counts as expired). */
  lapsed: number;
  n: number;
}

/**
 * An approval was decided or expired: every decision naming it keeps the new status. Called by the
 * approvals module in the transaction that changed the approval, so both commit together.
 */
export async function recordApprovalOutcome(
  exec: Exec,
  orgId: OrgId,
  approvalId: string,
  status: 'approved' | 'rejected' | 'expired',
): Promise<void> {
  await orgScope(exec, orgId)
    .updateTable('decisions')
    .set({ approval_status: status })
    .where('approval_id', '=', approvalId)
    .execute();
}

/** Counts groups of decisions into an adherence. */
export function adherenceOf(groups: readonly Group[]): Adherence {
  const a = { evaluated: 0, adherent: 0, blocked: 0, rejected: 0, overridden: 0, pending: 0 };
  for (const g of groups) {
    const n = Number(g.n);
    if (g.decision === 'REQUIRE_APPROVAL') {
      const waiting = g.approval_status === 'pending';
      if (waiting && !Number(g.lapsed)) {
        a.pending += n;
        continue;
      }
      a.evaluated += n;
      if (waiting || g.approval_status === 'rejected' || g.approval_status === 'expired') {
        a.rejected += n;
        continue;
      }
    } else a.evaluated += n;
    if (g.decision === 'BLOCK') a.blocked += n;
    else if (Number(g.monitored)) a.overridden += n;
    else a.adherent += n;
  }
  return { score: a.evaluated ? a.adherent / a.evaluated : null, ...a };
}

/**
 * Decisions grouped as `Group`; `now` tells a lapsed approval from a live one. `now` is a literal, not a
 * parameter: PostgreSQL groups only by an expression identical to the selected one.
 */
function grouped(exec: Exec, orgId: OrgId, now: number) {
  const monitored = sql<number>`case when monitors <> '[]' and monitors <> '' then 1 else 0 end`;
  const lapsed = sql<number>`case when approval_status = 'pending' and approval_expires_at <= ${sql.lit(now)} then 1 else 0 end`;
  return orgScope(exec, orgId)
    .selectFrom('decisions')
    .select((eb) => [
      'decision',
      monitored.as('monitored'),
      'approval_status',
      lapsed.as('lapsed'),
      eb.fn.countAll<number>().as('n'),
    ])
    .groupBy(['decision', monitored, 'approval_status', lapsed]);
}

/** Adherence over `[from, to)`: one agent's, or the whole org's when `agentId` is null. */
export async function rangeAdherence(
  exec: Exec,
  orgId: OrgId,
  agentId: string | null,
  from: number,
  to: number,
  now: number,
): Promise<Adherence> {
  let q = grouped(exec, orgId, now).where('created_at', '>=', from).where('created_at', '<', to);
  if (agentId !== null) q = q.where('agent_id', '=', agentId);
  return adherenceOf(await q.execute());
}

/** Each run's adherence (runs without decisions are absent from the map). */
export async function runAdherence(exec: Exec, orgId: OrgId, runIds: readonly string[], now: number) {
  const out = new Map<string, Adherence>();
  if (!runIds.length) return out;
  const rows = await grouped(exec, orgId, now)
    .select('run_id')
    .where('run_id', 'in', runIds)
    .groupBy('run_id')
    .execute();
  const byRun = new Map<string, Group[]>();
  for (const r of rows) {
    const list = byRun.get(r.run_id!) ?? [];
    list.push(r);
    byRun.set(r.run_id!, list);
  }
  for (const [id, list] of byRun) out.set(id, adherenceOf(list));
  return out;
}
