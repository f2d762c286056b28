/**
 * The `policy.violation` event the webhook contract names: a BLOCK decision, or a `log_only` rule that
 * matched. Read by the alerts job from the recorded decisions after they are written, so the policy
 * evaluation hot path does nothing more than it did.
 *
 * Each org has a cursor `(at, last_id)` over its decisions. A pass reads what came after it, groups it by
 * subject (agent, action type, and block or monitor), and sends one notice per subject: in-app and email
 * per the `policy_violations` preferences, and the `policy.violation` webhook, carrying how many decisions
 * it covers. Passes run once a minute, so that is the rate limit: at most one notice per org and subject
 * a minute, however many decisions. Moving the cursor is a conditional update in the notices'
 * transaction, so a decision is announced once even when the job runs twice.
 */
import type { Kysely } from 'kysely';
import { orgScope } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { Log } from '../../platform/jobs/job-runner.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import { everyOrg } from '../../platform/orgs/every-org.system.ts';
import { createAgentStore } from '../agents/index.ts';
import { violationsAfter } from '../policies/index.ts';

const CURSOR = 'policy.violation';
/** A new org's first pass looks back this far, not over its whole history. */
const FIRST_LOOK_BACK_MS = 60 * 60_000;
const BATCH = 1000;

interface Violation {
  id: string;
  agent_id: string;
  action_type: string;
  decision: string;
  reasons: string;
  monitors: string;
  created_at: number;
}

const ruleNames = (json: string) => {
  try {
    return (JSON.parse(json) as { name?: string }[]).map((r) => r.name).filter((n): n is string => !!n);
  } catch {
    return [];
  }
};

export function createViolationNotifier(deps: {
  db: Kysely<Database>;
  notifications: Pick<NotificationService, 'notify'>;
  clock: () => number;
  log: Log;
}) {
  const { db } = deps;
  const agents = createAgentStore(db);

  /** Announces one org's new violations; returns how many notices were sent. */
  async function runOrg(orgId: OrgId): Promise<number> {
    const scope = orgScope(db, orgId);
    const now = deps.clock();
    let cursor = await scope
      .selectFrom('alert_cursors')
      .select(['at', 'last_id'])
      .where('name', '=', CURSOR)
      .executeTakeFirst();
    if (!cursor) {
      cursor = { at: now - FIRST_LOOK_BACK_MS, last_id: '' };
      await scope
        .insertInto('alert_cursors', { name: CURSOR, ...cursor })
        .onConflict((oc) => oc.columns(['org_id', 'name']).doNothing())
        .execute();
      cursor = await scope
        .selectFrom('alert_cursors')
        .select(['at', 'last_id'])
        .where('name', '=', CURSOR)
        .executeTakeFirstOrThrow();
    }
    const from = { at: Number(cursor.at), id: cursor.last_id };
    const rows: Violation[] = await violationsAfter(db, orgId, from, BATCH);
    if (!rows.length) return 0;
    const last = rows[rows.length - 1]!;
    const groups = new Map<string, Violation[]>();
    for (const r of rows) {
      const key = `${r.agent_id}|${r.action_type}|${r.decision === 'BLOCK' ? 'block' : 'monitor'}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const names = await agents.forOrg(orgId).namesOf([...new Set(rows.map((r) => r.agent_id))]);
    return db.transaction().execute(async (trx) => {
      const moved = await orgScope(trx, orgId)
        .updateTable('alert_cursors')
        .set({ at: Number(last.created_at), last_id: last.id })
        .where('name', '=', CURSOR)
        .where('at', '=', from.at)
        .where('last_id', '=', from.id)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return 0; // another process announced these
      for (const list of groups.values()) {
        const first = list[0]!;
        const blocked = first.decision === 'BLOCK';
        const agent = names.get(first.agent_id) ?? first.agent_id;
        const times = list.length === 1 ? '' : ` (${list.length} times)`;
        const rules = [...new Set(list.flatMap((v) => ruleNames(blocked ? v.reasons : v.monitors)))];
        const title = blocked
          ? `${agent} was blocked from ${first.action_type}${times}`
          : `A monitoring rule matched ${agent}'s ${first.action_type}${times}`;
        await deps.notifications.notify(
          orgId,
          {
            topic: 'policy_violations',
            type: 'policy.violation',
            title,
            body: `${blocked ? 'Blocked by' : 'Matched (log only, not enforced)'}: ${rules.join(', ') || 'a control'}.`,
            entityType: 'agent',
            entityId: first.agent_id,
            webhookEvent: 'policy.violation',
            data: {
              kind: blocked ? 'block' : 'log_only',
              agent_id: first.agent_id,
              agent_name: agent,
              action_type: first.action_type,
              count: list.length,
              rules,
              decision_ids: list.slice(0, 20).map((v) => v.id),
              first_at: new Date(Number(first.created_at)).toISOString(),
            },
          },
          { exec: trx },
        );
      }
      return groups.size;
    });
  }

  return {
    runOrg,
    /** Every org, one after another (a system job: the orgs come from alerts.system.ts). */
    async runPass() {
      let sent = 0;
      for (const orgId of await everyOrg(db)) {
        try {
          sent += await runOrg(orgId);
        } catch (e) {
          deps.log.error({ err: e, org: orgId }, 'policy violation notices failed');
        }
      }
      return sent;
    },
  };
}
export type ViolationNotifier = ReturnType<typeof createViolationNotifier>;
