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
 * Read from decisions (indexed by org and time, or by org and run) joined to their approvals.
 */
import type { Kysely } from 'kysely';
import { orgScope } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';

export interface Adherence {
  score: number | null;
  evaluated: number;
  adherent: number;
  blocked: number;
  rejected: number;
  overridden: number;
  pending: number;
}

interface Row {
  decision: string;
  monitors: string;
  approval_status: string | null;
  approval_expires_at: number | null;
}

/** Counts one group of decisions; `now` tells a pending approval that has run out from a live one. */
export function adherenceOf(rows: readonly Row[], now: number): Adherence {
  const a = { evaluated: 0, adherent: 0, blocked: 0, rejected: 0, overridden: 0, pending: 0 };
  for (const r of rows) {
    if (r.decision === 'REQUIRE_APPROVAL') {
      const expired = r.approval_status === 'pending' && Number(r.approval_expires_at) <= now;
      if (r.approval_status === 'pending' && !expired) {
        a.pending++;
        continue;
      }
      a.evaluated++;
      if (expired || r.approval_status === 'rejected' || r.approval_status === 'expired') {
        a.rejected++;
        continue;
      }
    } else a.evaluated++;
    if (r.decision === 'BLOCK') a.blocked++;
    else if (r.monitors !== '[]' && r.monitors !== '') a.overridden++;
    else a.adherent++;
  }
  return { score: a.evaluated ? a.adherent / a.evaluated : null, ...a };
}

function decisions(db: Kysely<Database>, orgId: OrgId) {
  const scope = orgScope(db, orgId);
  return scope
    .selectFrom('decisions')
    .leftJoin('approvals', (j) =>
      j.onRef('approvals.id', '=', 'decisions.approval_id').on(scope.sameOrg('approvals', 'decisions')),
    )
    .select([
      'decisions.run_id',
      'decisions.decision',
      'decisions.monitors',
      'approvals.status as approval_status',
      'approvals.expires_at as approval_expires_at',
    ]);
}

/** One agent's adherence over `[from, to)`. */
export async function agentAdherence(
  db: Kysely<Database>,
  orgId: OrgId,
  agentId: string,
  from: number,
  to: number,
  now: number,
): Promise<Adherence> {
  const rows = await decisions(db, orgId)
    .where('decisions.agent_id', '=', agentId)
    .where('decisions.created_at', '>=', from)
    .where('decisions.created_at', '<', to)
    .execute();
  return adherenceOf(rows, now);
}

/** Each run's adherence (runs without decisions are absent from the map). */
export async function runAdherence(db: Kysely<Database>, orgId: OrgId, runIds: readonly string[], now: number) {
  const out = new Map<string, Adherence>();
  if (!runIds.length) return out;
  const rows = await decisions(db, orgId).where('decisions.run_id', 'in', runIds).execute();
  const byRun = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byRun.get(r.run_id!) ?? [];
    list.push(r);
    byRun.set(r.run_id!, list);
  }
  for (const [id, list] of byRun) out.set(id, adherenceOf(list, now));
  return out;
}
