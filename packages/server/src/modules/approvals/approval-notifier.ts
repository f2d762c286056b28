/**
 * Tells approvers that an approval waits for them: an in-app notification each, an email each with
 * their own signed approve/reject links, and the org's webhooks. `notifications.notify` sends the same
 * text to everyone, so it cannot carry per-person links; this writes the same three channels itself and
 * honours the same per-user preferences (topic `approvals`).
 *
 * A link decides as the person it names, so it must reach that person only: the outbox (readable by the
 * org's admins) keeps a copy of each email with the links replaced (`Mail.outboxCopy`).
 *
 * Preferences are read in `plan`, before any transaction: on SQLite a read outside an open transaction
 * waits for it, so `write` (which runs inside the caller's transaction) only writes.
 */
import type { WebhookEvent } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { Database, NotificationsTable } from '../../db/schema.ts';
import type { OrgId } from '../../platform/caller.ts';
import type { Exec } from '../../platform/jobs/job-runner.ts';
import type { Mailer } from '../../platform/notifications/mailer.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import { createNotificationStore } from '../../platform/notifications/notifications.store.ts';
import type { WebhookService } from '../../platform/webhooks/webhooks.service.ts';
import { type LinkDecision, signLinkToken } from './approval-links.ts';
import type { ApproverRecipient } from './approvals.store.ts';

export interface AnnouncedApproval {
  id: string;
  action: unknown;
  message: string | null;
  expires_at: string;
}

export interface ApprovalMessage {
  type: string;
  title: string;
  body: string;
  webhookEvent?: WebhookEvent;
  data?: Record<string, unknown>;
}

interface Planned {
  person: ApproverRecipient;
  inApp: boolean;
  email: boolean;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What the outbox shows where the email had a one-click link. */
export const LINK_REDACTED = '[link sent to the approver]';

function emailBody(body: string, approve: string, reject: string) {
  const anchor = (url: string, label: string) =>
    url === LINK_REDACTED ? `${label}: ${LINK_REDACTED}` : `<a href="${escapeHtml(url)}">${label}</a>`;
  return {
    text:
      `${body}\n\nApprove: ${approve}\nReject: ${reject}\n\n` +
      'Each link opens a confirmation page first; it is yours alone and expires with the request. ' +
      'You can also decide in the console.\n\n—\nAgentOps Hub. You get this email because of your ' +
      'notification settings; change them in the console under Settings › Notifications.',
    html:
      `<p>${escapeHtml(body)}</p><p>${anchor(approve, 'Approve')} · ${anchor(reject, 'Reject')}</p>` +
      '<p>Each link opens a confirmation page first; it is yours alone and expires with the request.</p>',
  };
}

export function createApprovalNotifier(deps: {
  db: Kysely<Database>;
  notifications: Pick<NotificationService, 'getPreferences'>;
  mailer: Pick<Mailer, 'send'>;
  webhooks: Pick<WebhookService, 'emit'>;
  publicUrl: string;
  linkSecret: Buffer;
  clock: () => number;
}) {
  const notificationStore = createNotificationStore(deps.db);

  /** The one-click URL for `userId` to take `decision` on the approval; valid until it expires. */
  function link(orgId: OrgId, approval: AnnouncedApproval, userId: string, decision: LinkDecision) {
    const token = signLinkToken(deps.linkSecret, {
      approval_id: approval.id,
      org_id: orgId,
      user_id: userId,
      decision,
      exp: Date.parse(approval.expires_at),
    });
    return `${deps.publicUrl.replace(/\/$/, '')}/v1/approvals/${encodeURIComponent(approval.id)}/email/${decision}?token=${token}`;
  }

  async function plan(orgId: OrgId, people: ApproverRecipient[]): Promise<Planned[]> {
    const out: Planned[] = [];
    for (const person of people) {
      const prefs = await deps.notifications.getPreferences(orgId, person.user_id);
      out.push({ person, inApp: prefs.in_app.approvals, email: prefs.email.approvals && Boolean(person.email) });
    }
    return out;
  }

  /** Writes rows, outbox mails and webhook deliveries in `exec`: they exist only if it commits. */
  async function write(
    exec: Exec,
    orgId: OrgId,
    approval: AnnouncedApproval,
    planned: Planned[],
    msg: ApprovalMessage,
  ) {
    const t = deps.clock();
    const rows: Omit<NotificationsTable, 'org_id'>[] = [];
    for (const { person, inApp, email } of planned) {
      if (inApp)
        rows.push({
          id: newId('ntf', t),
          user_id: person.user_id,
          type: msg.type,
          title: msg.title,
          body: msg.body,
          entity_type: 'approval',
          entity_id: approval.id,
          created_at: t,
          read_at: null,
        });
      if (!email) continue;
      const approve = link(orgId, approval, person.user_id, 'approve');
      const reject = link(orgId, approval, person.user_id, 'reject');
      await deps.mailer.send(
        {
          to: person.email!,
          subject: msg.title,
          ...emailBody(msg.body, approve, reject),
          outboxCopy: emailBody(msg.body, LINK_REDACTED, LINK_REDACTED),
          orgId,
        },
        { exec },
      );
    }
    await notificationStore.forOrg(orgId, exec).insertMany(rows);
    if (msg.webhookEvent)
      await deps.webhooks.emit(
        orgId,
        msg.webhookEvent,
        {
          title: msg.title,
          body: msg.body,
          type: msg.type,
          entity_type: 'approval',
          entity_id: approval.id,
          ...msg.data,
        },
        { exec },
      );
    return { emailed: planned.filter((p) => p.email).length };
  }

  return {
    link,
    plan,
    write,
    /** `plan` then `write` in a transaction of its own (for announcements made after a commit). */
    async tell(orgId: OrgId, approval: AnnouncedApproval, people: ApproverRecipient[], msg: ApprovalMessage) {
      const planned = await plan(orgId, people);
      return deps.db.transaction().execute((trx) => write(trx, orgId, approval, planned, msg));
    },
  };
}
export type ApprovalNotifier = ReturnType<typeof createApprovalNotifier>;
