/**
 * Notifications: one `notify(orgId, …)` call tells the right people about something, through every
 * channel they want — an in-app row each, an email each, and the org's webhooks. Modules call this,
 * never the tables.
 *
 * Preferences per topic and channel resolve as: built-in default ← org default row (user_id '') ←
 * the user's own row. Built-in: in-app on for every topic; email on for approvals and budgets (the
 * two that need someone to act), off for the noisier policy violations and ingestion errors.
 *
 * @example
 * await notifications.notify(orgId, {
 *   topic: 'budget_thresholds', type: 'budget.threshold',
 *   title: 'CostBot reached 80% of its daily budget ($0.80 of $1.00)', body: '…',
 *   entityType: 'budget', entityId: budget.id, webhookEvent: 'budget.threshold',
 * }, { exec: trx });
 */
import type { NotificationTopics, WebhookEvent } from '@agentops-hub/contracts';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { NotificationsTable } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';
import { notFound } from '../errors.ts';
import type { Exec, Log } from '../jobs/job-runner.ts';
import type { WebhookService } from '../webhooks/webhooks.service.ts';
import type { Mailer } from './mailer.ts';
import { createNotificationStore, type Recipient } from './notifications.store.ts';

export type NotificationTopic = (typeof NotificationTopics)[number];
const TOPICS: readonly NotificationTopic[] = [
  'budget_thresholds',
  'policy_violations',
  'ingestion_errors',
  'approvals',
  'alerts',
];

export interface NotificationPreferences {
  in_app: Record<NotificationTopic, boolean>;
  email: Record<NotificationTopic, boolean>;
}
export type PreferencesPatch = {
  in_app?: Partial<Record<NotificationTopic, boolean>>;
  email?: Partial<Record<NotificationTopic, boolean>>;
};

export const DEFAULT_PREFERENCES: NotificationPreferences = {
  in_app: { budget_thresholds: true, policy_violations: true, ingestion_errors: true, approvals: true, alerts: true },
  // Alerts: a rule's own channels choose in-app and email; a person can still switch either off here.
  email: { budget_thresholds: true, policy_violations: false, ingestion_errors: false, approvals: true, alerts: true },
};

export interface NotifyInput {
  topic: NotificationTopic;
  /** Machine name shown as `type`, e.g. 'budget.threshold'. */
  type: string;
  /** What happened, in words: "CostBot reached 80% of its daily budget ($0.80 of $1.00)". */
  title: string;
  body: string;
  entityType?: string;
  entityId?: string;
  /** Also emit this event to the org's subscribed webhooks. */
  webhookEvent?: WebhookEvent;
  /** Extra fields for the webhook's `data`. */
  data?: Record<string, unknown>;
  /** Who to tell; default every owner and admin (and team leads for approvals). Non-members are ignored. */
  userIds?: string[];
  /** Only these channels (an alert rule's choice); preferences still apply within them. Default: both. */
  channels?: { inApp: boolean; email: boolean };
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function toNotification(row: NotificationsTable) {
  return {
    id: row.id,
    type: row.type,
    title: row.title,
    body: row.body,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    created_at: iso(row.created_at)!,
    read_at: iso(row.read_at),
  };
}

function parsePrefs(text: string | undefined): PreferencesPatch {
  if (!text) return {};
  try {
    return JSON.parse(text) as PreferencesPatch;
  } catch {
    return {};
  }
}

/** Layers patches over the defaults, topic by topic; unknown topics and non-booleans are ignored. */
export function resolvePreferences(...layers: PreferencesPatch[]): NotificationPreferences {
  const out: NotificationPreferences = {
    in_app: { ...DEFAULT_PREFERENCES.in_app },
    email: { ...DEFAULT_PREFERENCES.email },
  };
  for (const layer of layers) {
    for (const channel of ['in_app', 'email'] as const) {
      for (const topic of TOPICS) {
        const v = layer[channel]?.[topic];
        if (typeof v === 'boolean') out[channel][topic] = v;
      }
    }
  }
  return out;
}

function mergePatch(base: PreferencesPatch, patch: PreferencesPatch): PreferencesPatch {
  return { in_app: { ...base.in_app, ...patch.in_app }, email: { ...base.email, ...patch.email } };
}

export function createNotificationService(deps: {
  db: Db;
  mailer: Pick<Mailer, 'send'>;
  webhooks: Pick<WebhookService, 'emit'>;
  clock?: () => number;
  log: Log;
}) {
  const db = deps.db.db;
  const now = deps.clock ?? Date.now;
  const store = createNotificationStore(db);

  async function preferencesOf(orgId: OrgId, userIds: string[], exec: Exec) {
    const rows = await store.forOrg(orgId, exec).prefsRows(userIds);
    const byUser = new Map(rows.map((r) => [r.user_id, parsePrefs(r.prefs)]));
    const orgDefault = byUser.get('') ?? {};
    return (userId: string) => resolvePreferences(orgDefault, userId ? (byUser.get(userId) ?? {}) : {});
  }

  return {
    /**
     * Tells the recipients through each channel they keep on. Pass the caller's transaction as `exec`
     * so rows, outbox mails and webhook deliveries exist only if the change that caused them commits.
     */
    async notify(orgId: OrgId, input: NotifyInput, opts: { exec?: Exec } = {}) {
      const run = async (exec: Exec) => {
        const orgStore = store.forOrg(orgId, exec);
        const roles = input.topic === 'approvals' ? ['owner', 'admin', 'team_lead'] : ['owner', 'admin'];
        const people: Recipient[] = input.userIds
          ? await orgStore.membersByUserIds([...new Set(input.userIds)])
          : await orgStore.membersWithRoles(roles);
        const prefsFor = await preferencesOf(
          orgId,
          people.map((p) => p.user_id),
          exec,
        );
        // One timestamp for the whole call: the org-wide feed groups a call's rows by it.
        const t = now();
        const rows: Omit<NotificationsTable, 'org_id'>[] = [];
        let emailed = 0;
        for (const person of people) {
          const prefs = prefsFor(person.user_id);
          if (prefs.in_app[input.topic] && input.channels?.inApp !== false) {
            rows.push({
              id: newId('ntf', t),
              user_id: person.user_id,
              type: input.type,
              title: input.title,
              body: input.body,
              entity_type: input.entityType ?? null,
              entity_id: input.entityId ?? null,
              created_at: t,
              read_at: null,
            });
          }
          if (prefs.email[input.topic] && input.channels?.email !== false && person.email) {
            await deps.mailer.send(
              {
                to: person.email,
                subject: input.title,
                text: `${input.body}\n\n—\nAgentOps Hub. You get this email because of your notification settings; change them in the console under Settings › Notifications.`,
                orgId,
              },
              { exec },
            );
            emailed++;
          }
        }
        await orgStore.insertMany(rows);
        const deliveryIds = input.webhookEvent
          ? await deps.webhooks.emit(
              orgId,
              input.webhookEvent,
              {
                title: input.title,
                body: input.body,
                type: input.type,
                entity_type: input.entityType ?? null,
                entity_id: input.entityId ?? null,
                ...input.data,
              },
              { exec },
            )
          : [];
        return { notificationIds: rows.map((r) => r.id), emailed, deliveryIds };
      };
      return opts.exec ? run(opts.exec) : db.transaction().execute(run);
    },

    /**
     * Newest first. With a `userId`, that person's notifications; with null (an API-key caller, which is
     * no person), the org-wide feed: one entry per event, whoever received it.
     */
    async list(orgId: OrgId, userId: string | null, f: { unread?: boolean; limit: number; cursor?: string }) {
      const q = { unread: f.unread ?? false, limit: f.limit + 1, cursor: f.cursor };
      const rows =
        userId === null ? await store.forOrg(orgId).listOrgWide(q) : await store.forOrg(orgId).listForUser(userId, q);
      const page = rows.slice(0, f.limit);
      return { data: page.map(toNotification), next_cursor: rows.length > f.limit ? page[page.length - 1]!.id : null };
    },

    async markRead(orgId: OrgId, userId: string, id: string) {
      const s = store.forOrg(orgId);
      await s.markRead(userId, id, now());
      const row = await s.getForUser(userId, id);
      if (!row) throw notFound('Notification');
      return toNotification(row);
    },

    async markAllRead(orgId: OrgId, userId: string) {
      return { updated: await store.forOrg(orgId).markAllRead(userId, now()) };
    },

    /** The effective preferences of `userId` ('' for the org default). */
    async getPreferences(orgId: OrgId, userId: string): Promise<NotificationPreferences> {
      return (await preferencesOf(orgId, userId ? [userId] : [], db))(userId);
    },

    /**
     * Merges `patch` into the user's own row ('' sets the org default) and returns the effective result.
     * Personal settings: not audited, like read marks.
     */
    async setPreferences(orgId: OrgId, userId: string, patch: PreferencesPatch): Promise<NotificationPreferences> {
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(orgId, trx);
        const current = (await s.prefsRows([userId])).find((r) => r.user_id === userId);
        const merged = mergePatch(parsePrefs(current?.prefs), patch);
        await s.upsertPrefs(userId, JSON.stringify(merged), now());
      });
      return (await preferencesOf(orgId, userId ? [userId] : [], db))(userId);
    },
  };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
