/**
 * What an alert says and where it goes. A notice is written inside the transition's transaction, so the
 * in-app rows, the outbox mails and the webhook deliveries exist exactly when the transition committed.
 */
import type { AlertChannel, AlertScope, AlertSignal } from '@agentops-hub/contracts';
import type { Exec } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import type { WebhookService } from '../../platform/webhooks/webhooks.service.ts';

export type NoticeKind = 'firing' | 'resolved' | 'test';

export interface NoticeRule {
  id: string;
  name: string;
  scope: AlertScope;
  signal: AlertSignal;
  window_minutes: number;
  threshold: number;
  channels: AlertChannel[];
}

const usd = (v: number) => `$${v.toFixed(2)}`;
const count = (v: number) => String(Math.round(v));

/** The signal's value and threshold in words a person reads at a glance. */
export function describeValue(signal: AlertSignal, value: number | null, threshold: number, windowMinutes: number) {
  const w = windowMinutes % 60 === 0 ? `${windowMinutes / 60} h` : `${windowMinutes} min`;
  const v = value ?? 0;
  switch (signal) {
    case 'failure_rate':
      return `failure rate ${Math.round(v * 100)}% over the last ${w} (threshold ${Math.round(threshold * 100)}%)`;
    case 'failed_runs':
      return `${count(v)} failed runs over the last ${w} (threshold ${count(threshold)})`;
    case 'latency_p95_ms':
      return `p95 latency ${value === null ? 'n/a' : `${count(v)} ms`} over the last ${w} (threshold ${count(threshold)} ms)`;
    case 'cost_usd':
      return `${usd(v)} spent over the last ${w} (threshold ${usd(threshold)})`;
    case 'cost_spike':
      return `spend over the last ${w} is ${v.toFixed(1)}× its 7-day baseline (threshold ${threshold}×)`;
    case 'blocked_actions':
      return `${count(v)} actions BLOCKed by policy over the last ${w} (threshold ${count(threshold)})`;
    case 'approvals_waiting':
      return `${count(v)} approvals waiting longer than ${w} (threshold ${count(threshold)})`;
    case 'agent_silent':
      return `${count(v)} agents silent for ${w} or more (threshold ${count(threshold)})`;
  }
}

const scopeWords = (s: AlertScope) => (s.type === 'org' ? 'all agents' : `${s.type} ${s.value}`);

export function noticeText(rule: NoticeRule, kind: NoticeKind, value: number | null) {
  const what = describeValue(rule.signal, value, rule.threshold, rule.window_minutes);
  const title =
    kind === 'firing'
      ? `Alert firing: ${rule.name}`
      : kind === 'resolved'
        ? `Alert resolved: ${rule.name}`
        : `Test alert: ${rule.name}`;
  const body =
    kind === 'test'
      ? `This is a test of the alert "${rule.name}" (${scopeWords(rule.scope)}). Now: ${what}.`
      : kind === 'firing'
        ? `${rule.name} (${scopeWords(rule.scope)}): ${what}.`
        : `${rule.name} (${scopeWords(rule.scope)}) is back under its threshold: ${what}.`;
  return { title, body };
}

export interface NoticeDeps {
  notifications: Pick<NotificationService, 'notify'>;
  webhooks: Pick<WebhookService, 'emit'>;
}

/**
 * Sends one notice through the rule's channels: in-app and email to `userIds` (resolved before the
 * transaction opens), and one delivery to each chosen webhook (JSON or Slack, per the webhook's format).
 */
export async function sendNotice(
  deps: NoticeDeps,
  exec: Exec,
  orgId: OrgId,
  rule: NoticeRule,
  kind: NoticeKind,
  value: number | null,
  userIds: string[],
) {
  const { title, body } = noticeText(rule, kind, value);
  const inApp = rule.channels.some((c) => c.type === 'in_app');
  const email = rule.channels.some((c) => c.type === 'email');
  if ((inApp || email) && userIds.length)
    await deps.notifications.notify(
      orgId,
      {
        topic: 'alerts',
        type: `alert.${kind}`,
        title,
        body,
        entityType: 'alert',
        entityId: rule.id,
        userIds,
        channels: { inApp, email },
      },
      { exec },
    );
  const webhookIds = rule.channels.flatMap((c) => (c.type === 'webhook' || c.type === 'slack' ? [c.webhook_id] : []));
  if (webhookIds.length)
    await deps.webhooks.emit(
      orgId,
      kind === 'resolved' ? 'alert.resolved' : 'alert.firing',
      {
        title,
        body,
        alert_id: rule.id,
        alert_name: rule.name,
        state: kind === 'test' ? 'test' : kind,
        test: kind === 'test',
        signal: rule.signal,
        value,
        threshold: rule.threshold,
        window_minutes: rule.window_minutes,
        scope: rule.scope,
      },
      { exec, webhookIds },
    );
}
