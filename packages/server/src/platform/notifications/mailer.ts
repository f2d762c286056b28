/**
 * Outgoing email. Every message is first a row in `email_outbox` (written in the caller's transaction
 * when one is given), then an `email.send` job delivers it through SMTP, retried by the job runner.
 * Without SMTP settings the worker marks the row `kept`: the console's outbox is then how an admin
 * reads invitation links and alerts, so a hub with no mail server still works.
 *
 * Attachments travel in the job payload as base64 (the outbox table has no column for them): they
 * are delivered with the message but not listed in the outbox.
 *
 * A message meant for its addressee alone (an approval's one-click links: whoever holds one decides as
 * that person) gives an `outboxCopy`: the outbox stores and lists that copy, and the real body travels
 * in the job payload, which no route reads and which is emptied once the message is sent or given up.
 *
 * @example
 * const mailer = createMailer({ db, config, jobs, log, clock });
 * await mailer.send({ to: 'ana@acme.test', subject: 'Budget reached', text: '…', orgId });
 */
import type { OutboxEntry } from '@agentops-hub/contracts';
import { sql } from 'kysely';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { orgScope } from '../../db/org-scope.ts';
import type { EmailOutboxTable } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';
import type { Exec, JobRunner, Log } from '../jobs/job-runner.ts';

export interface MailAttachment {
  filename: string;
  content: Buffer | string;
  contentType?: string;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** null/absent for mail that belongs to no org (sign-up, password reset). */
  orgId?: string | null;
  attachments?: MailAttachment[];
  /**
   * What the outbox stores and lists instead of `text`/`html`, for mail whose body is a credential of
   * its addressee (e.g. `[link sent to the approver]` in place of a signed link). The body is delivered.
   */
  outboxCopy?: { text: string; html?: string };
}

interface EmailJob {
  id: string;
  attachments?: { filename: string; base64: string; contentType?: string }[];
  /** The delivered body when the outbox holds a redacted copy (`Mail.outboxCopy`). */
  body?: { text: string; html: string | null };
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function toOutboxEntry(row: EmailOutboxTable): OutboxEntry {
  return {
    id: row.id,
    to: row.to_addr,
    subject: row.subject,
    text: row.text_body,
    html: row.html_body,
    status: row.status,
    attempts: Number(row.attempts),
    last_error: row.last_error,
    created_at: iso(row.created_at)!,
    sent_at: iso(row.sent_at),
  };
}

export function createMailer(deps: {
  db: Db;
  config: Pick<Config, 'smtp'>;
  jobs: Pick<JobRunner, 'send' | 'work' | 'replacePayload'>;
  log: Log;
  clock?: () => number;
}) {
  const db = deps.db.db;
  const now = deps.clock ?? Date.now;
  // One transport per mailer, made on first use: a hub without SMTP never opens one.
  let transport: Transporter | null = null;
  const smtp = () => (transport ??= nodemailer.createTransport(deps.config.smtp.url));

  deps.jobs.work<EmailJob>(
    'email.send',
    async (job, ctx) => {
      const row = await db.selectFrom('email_outbox').selectAll().where('id', '=', job.id).executeTakeFirst();
      // Already sent (a retry after a crash between SMTP and the status write) or deleted with its org.
      if (row?.status !== 'queued') return forget(job, ctx.id);
      if (!deps.config.smtp.url) {
        await db.updateTable('email_outbox').set({ status: 'kept' }).where('id', '=', row.id).execute();
        return forget(job, ctx.id);
      }
      const text = job.body?.text ?? row.text_body;
      const html = job.body ? job.body.html : row.html_body;
      try {
        await smtp().sendMail({
          from: deps.config.smtp.from,
          to: row.to_addr,
          subject: row.subject,
          text,
          ...(html ? { html } : {}),
          attachments: (job.attachments ?? []).map((a) => ({
            filename: a.filename,
            content: Buffer.from(a.base64, 'base64'),
            ...(a.contentType ? { contentType: a.contentType } : {}),
          })),
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        await db
          .updateTable('email_outbox')
          .set((eb) => ({
            attempts: eb('attempts', '+', 1),
            last_error: message.slice(0, 1000),
            ...(ctx.isFinalAttempt ? { status: 'failed' } : {}),
          }))
          .where('id', '=', row.id)
          .execute();
        if (ctx.isFinalAttempt) await forget(job, ctx.id);
        throw err;
      }
      await db
        .updateTable('email_outbox')
        .set((eb) => ({ status: 'sent', sent_at: now(), attempts: eb('attempts', '+', 1), last_error: null }))
        .where('id', '=', row.id)
        .execute();
      await forget(job, ctx.id);
      // Never log the body: it may hold a reset or invitation link.
      deps.log.info({ mailId: row.id }, 'email sent');
    },
    // SMTP servers are slow but not that slow; a shorter lease retries a stuck send sooner.
    { concurrency: 4, leaseMs: 2 * 60_000 },
  );

  /**
   * Drops a private body from the finished job's payload: the jobs table keeps completed jobs, and a
   * signed link must not outlive its delivery there.
   */
  async function forget(job: EmailJob, jobId: string) {
    if (!job.body) return;
    await deps.jobs.replacePayload(jobId, { id: job.id });
  }

  async function queue(mail: Mail, opts: { exec?: Exec } = {}): Promise<string> {
    const t = now();
    const id = newId('mail', t);
    const write = async (exec: Exec) => {
      await exec
        .insertInto('email_outbox')
        .values({
          id,
          org_id: mail.orgId ?? null,
          to_addr: mail.to,
          subject: mail.subject,
          text_body: mail.outboxCopy?.text ?? mail.text,
          html_body: mail.outboxCopy ? (mail.outboxCopy.html ?? null) : (mail.html ?? null),
          status: 'queued',
          attempts: 0,
          last_error: null,
          created_at: t,
          sent_at: null,
        })
        .execute();
      const payload: EmailJob = { id };
      if (mail.outboxCopy) payload.body = { text: mail.text, html: mail.html ?? null };
      if (mail.attachments?.length) {
        payload.attachments = mail.attachments.map((a) => ({
          filename: a.filename,
          base64: Buffer.isBuffer(a.content) ? a.content.toString('base64') : Buffer.from(a.content).toString('base64'),
          ...(a.contentType ? { contentType: a.contentType } : {}),
        }));
      }
      await deps.jobs.send('email.send', payload, { exec });
    };
    // Row and job commit together, or the worker would look for a row that is not there (or never see it).
    if (opts.exec) await write(opts.exec);
    else await db.transaction().execute(write);
    return id;
  }

  return {
    /** Queues one message; returns once the outbox row and its job are written. */
    async send(mail: Mail, opts: { exec?: Exec } = {}): Promise<void> {
      await queue(mail, opts);
    },

    /** Like `send`, and answers the outbox id, whose delivery state `statuses` reads back. */
    queue,

    /** Delivery state of an org's messages by outbox id (reports show it per recipient). */
    async statuses(orgId: OrgId, ids: string[]) {
      if (!ids.length) return new Map<string, { status: string; last_error: string | null }>();
      const rows = await orgScope(db, orgId)
        .selectFrom('email_outbox')
        .select(['id', 'status', 'last_error'])
        .where('id', 'in', ids)
        .execute();
      return new Map(rows.map((r) => [r.id, { status: r.status, last_error: r.last_error }]));
    },

    /**
     * The outbox, newest first. `orgId` null lists mail of no org (account emails): only for operators,
     * never for an org route, since those mails carry reset links.
     */
    async listOutbox(orgId: OrgId | null, limit: number, cursor?: string) {
      // Mail of no org is no tenant's rows: it is read without a scope, and only where org_id is null.
      let q =
        orgId === null
          ? db.selectFrom('email_outbox').selectAll().where(sql<boolean>`org_id is null`)
          : orgScope(db, orgId).selectFrom('email_outbox').selectAll();
      if (cursor) q = q.where('id', '<', cursor);
      const rows = await q
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      return { data: page.map(toOutboxEntry), next_cursor: rows.length > limit ? page[page.length - 1]!.id : null };
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
