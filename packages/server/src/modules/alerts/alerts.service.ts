/**
 * Alert rules: create, read, change, delete (audited in the same transaction), their history, and a
 * test-fire that sends a marked notice through the rule's channels without touching its state. The
 * evaluation pass lives in alerts-evaluator.ts.
 */
import type {
  Alert,
  AlertChannel,
  AlertEvent,
  AlertScope,
  AlertSignal,
  CreateAlertBody,
  UpdateAlertBody,
} from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { AlertEventsTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { invalid, notFound } from '../../platform/errors.ts';
import { assertBelowOrgCap } from '../../platform/org-caps.ts';
import { agentsInScope } from './alert-facts.ts';
import { type NoticeDeps, type NoticeRule, noticeText, sendNotice } from './alert-notice.ts';
import type { AlertStore, RuleRow } from './alerts.store.ts';

type Recipients = { roles: string[] } | { team_id: string };

/** What the alerts module needs to know about the org's people, teams and webhooks. */
export interface AlertDirectory {
  members(orgId: OrgId): Promise<{ user_id: string; role: string; team_ids: string[] }[]>;
  teams(orgId: OrgId): Promise<{ id: string }[]>;
  webhook(orgId: OrgId, id: string): Promise<{ format: string } | null>;
}

export interface AlertDeps extends NoticeDeps {
  db: Kysely<Database>;
  store: AlertStore;
  audit: Pick<AuditStore, 'append'>;
  directory: AlertDirectory;
  clock: () => number;
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
const num = (v: number | null) => (v === null ? null : Number(v));

export function toAlert(r: RuleRow): Alert {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    scope: JSON.parse(r.scope) as AlertScope,
    signal: r.signal as AlertSignal,
    window_minutes: Number(r.window_minutes),
    threshold: Number(r.threshold),
    channels: JSON.parse(r.channels) as AlertChannel[],
    recipients: JSON.parse(r.recipients) as Recipients as Alert['recipients'],
    cooldown_minutes: Number(r.cooldown_minutes),
    enabled: Number(r.enabled) === 1,
    state: r.state as Alert['state'],
    state_since: iso(r.state_since),
    last_value: num(r.last_value),
    last_evaluated_at: iso(r.last_evaluated_at),
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  };
}

export function toAlertEvent(r: AlertEventsTable): AlertEvent {
  return {
    id: r.id,
    alert_id: r.rule_id,
    kind: r.kind as AlertEvent['kind'],
    value: num(r.value),
    threshold: Number(r.threshold),
    title: r.title,
    created_at: iso(r.created_at)!,
  };
}

export const noticeRule = (r: RuleRow): NoticeRule => {
  const a = toAlert(r);
  return { ...a };
};

/** The user ids a rule's recipients name: members with one of the roles, or the team's members. */
export async function recipientIds(directory: AlertDirectory, orgId: OrgId, recipients: Recipients) {
  const members = await directory.members(orgId);
  const chosen =
    'roles' in recipients
      ? members.filter((m) => recipients.roles.includes(m.role))
      : members.filter((m) => m.team_ids.includes(recipients.team_id));
  return chosen.map((m) => m.user_id);
}

/** What the audit log keeps of a rule: its settings, not its moving state. */
const describe = (a: Alert) => ({
  name: a.name,
  scope: a.scope,
  signal: a.signal,
  window_minutes: a.window_minutes,
  threshold: a.threshold,
  channels: a.channels,
  recipients: a.recipients,
  cooldown_minutes: a.cooldown_minutes,
  enabled: a.enabled,
});

export function createAlertService(deps: AlertDeps) {
  const { db, store, audit, directory } = deps;

  /** Checks what the schema cannot: ids that must exist in the org, and a rate's range. 400 names the field. */
  async function validate(orgId: OrgId, a: Pick<Alert, 'scope' | 'signal' | 'threshold' | 'channels' | 'recipients'>) {
    if (a.signal === 'failure_rate' && a.threshold > 1)
      throw invalid('threshold', 'a failure rate is between 0 and 1 (0.2 = 20%)');
    if (a.scope.type === 'agent' && (await agentsInScope(db, orgId, a.scope))?.length === 0)
      throw invalid('scope.value', 'no agent with this id or name in the org');
    const teams = a.scope.type === 'team' || 'team_id' in a.recipients ? await directory.teams(orgId) : [];
    if (a.scope.type === 'team' && !teams.some((t) => t.id === (a.scope as { value: string }).value))
      throw invalid('scope.value', 'no team with this id in the org');
    if ('team_id' in a.recipients && !teams.some((t) => t.id === (a.recipients as { team_id: string }).team_id))
      throw invalid('recipients.team_id', 'no team with this id in the org');
    for (const [i, c] of a.channels.entries()) {
      if (c.type !== 'webhook' && c.type !== 'slack') continue;
      const hook = await directory.webhook(orgId, c.webhook_id);
      if (!hook) throw invalid(`channels.${i}.webhook_id`, 'no webhook with this id in the org');
      if (c.type === 'slack' && hook.format !== 'slack')
        throw invalid(`channels.${i}.webhook_id`, 'a Slack channel needs a webhook registered with format "slack"');
    }
  }

  async function mustGet(orgId: OrgId, id: string) {
    const row = await store.forOrg(orgId).get(id);
    if (!row) throw notFound('Alert');
    return row;
  }

  return {
    async list(orgId: OrgId) {
      return (await store.forOrg(orgId).list()).map(toAlert);
    },

    async get(orgId: OrgId, id: string) {
      return toAlert(await mustGet(orgId, id));
    },

    async create(caller: Caller, body: CreateAlertBody) {
      const b = body as Required<Omit<CreateAlertBody, 'description'>> & { description?: string };
      await validate(caller.orgId, b as unknown as Alert);
      const t = deps.clock();
      const row = {
        id: newId('alr', t),
        name: b.name,
        description: b.description ?? '',
        scope: JSON.stringify(b.scope),
        signal: b.signal,
        window_minutes: b.window_minutes,
        threshold: b.threshold,
        channels: JSON.stringify(b.channels),
        recipients: JSON.stringify(b.recipients),
        cooldown_minutes: b.cooldown_minutes,
        enabled: b.enabled ? 1 : 0,
        state: 'ok',
        state_seq: 0,
        state_since: null,
        last_value: null,
        last_evaluated_at: null,
        created_by: caller.actor.id ?? null,
        created_at: t,
        updated_at: t,
      };
      const alert = toAlert({ ...row, org_id: caller.orgId });
      await db.transaction().execute(async (trx) => {
        const rules = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('alert rules', rules.count);
        await rules.insert(row);
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'alert.created',
            entityType: 'alert',
            entityId: row.id,
            changes: describe(alert),
          },
          t,
        );
      });
      return alert;
    },

    async update(caller: Caller, id: string, patch: UpdateAlertBody) {
      const before = toAlert(await mustGet(caller.orgId, id));
      const after: Alert = { ...before, ...patch } as Alert;
      await validate(caller.orgId, after);
      const t = deps.clock();
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        if (!(await s.get(id))) throw notFound('Alert');
        await s.update(id, {
          name: after.name,
          description: after.description,
          scope: JSON.stringify(after.scope),
          signal: after.signal,
          window_minutes: after.window_minutes,
          threshold: after.threshold,
          channels: JSON.stringify(after.channels),
          recipients: JSON.stringify(after.recipients),
          cooldown_minutes: after.cooldown_minutes,
          enabled: after.enabled ? 1 : 0,
          updated_at: t,
        });
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'alert.updated',
            entityType: 'alert',
            entityId: id,
            changes: { before: describe(before), after: describe(after) },
          },
          t,
        );
      });
      return toAlert(await mustGet(caller.orgId, id));
    },

    async remove(caller: Caller, id: string) {
      const t = deps.clock();
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        const row = await s.get(id);
        if (!row) throw notFound('Alert');
        await s.remove(id);
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'alert.deleted',
            entityType: 'alert',
            entityId: id,
            changes: describe(toAlert(row)),
          },
          t,
        );
      });
    },

    async events(orgId: OrgId, id: string, page: { limit: number; cursor?: string }) {
      await mustGet(orgId, id);
      const rows = await store.forOrg(orgId).events(id, page.limit + 1, page.cursor);
      const data = rows.slice(0, page.limit);
      return {
        data: data.map(toAlertEvent),
        next_cursor: rows.length > page.limit ? data[data.length - 1]!.id : null,
      };
    },

    /**
     * Sends a marked test notice through every channel of the rule, with its last seen value, and records
     * it in the history. The rule's state does not move. Audited: it sends mail and webhooks.
     */
    async testFire(caller: Caller, id: string) {
      const row = await mustGet(caller.orgId, id);
      const rule = noticeRule(row);
      const userIds = await recipientIds(directory, caller.orgId, JSON.parse(row.recipients) as Recipients);
      const t = deps.clock();
      const value = num(row.last_value);
      const event = {
        id: newId('ale', t),
        rule_id: id,
        seq: null,
        kind: 'test',
        value,
        threshold: Number(row.threshold),
        title: noticeText(rule, 'test', value).title,
        created_at: t,
      };
      await db.transaction().execute(async (trx) => {
        await store.forOrg(caller.orgId, trx).insertEvent(event);
        await sendNotice(deps, trx, caller.orgId, rule, 'test', value, userIds);
        await audit.append(
          trx,
          caller.orgId,
          { actor: caller.actor, action: 'alert.test_fired', entityType: 'alert', entityId: id, changes: {} },
          t,
        );
      });
      return toAlertEvent({ ...event, org_id: caller.orgId });
    },
  };
}
export type AlertService = ReturnType<typeof createAlertService>;
