/**
 * Outgoing webhooks: an org registers URLs for events; `emit` records one delivery per subscribed
 * webhook and a `webhook.deliver` job sends it, signed with the webhook's secret, retried with backoff.
 *
 * - The secret is shown once, at creation; at rest it is sealed with the hub's encryption key, since
 *   the hub must reuse it to sign (a hash would not do).
 * - The body is fixed when the event is emitted and stored on the delivery, so every retry sends the
 *   same bytes with the same signature and receivers can dedupe on `X-Hub-Delivery`.
 * - Deliveries go out through the egress guard (platform/egress): no loopback, private or metadata
 *   addresses unless the operator allows them (HUB_EGRESS_ALLOW), redirects are not followed, and a
 *   delivery keeps the status and a hub-written reason, never the receiver's body. A URL that is a
 *   literal internal address (or localhost) is refused already when the webhook is created.
 *
 * @example
 * const { secret, ...hook } = await webhooks.create(caller, { url, events: ['budget.threshold'], format: 'json' });
 * await webhooks.emit(orgId, 'budget.threshold', { title: 'CostBot reached 80%…', body: '…' }, { exec: trx });
 */
import { randomBytes } from 'node:crypto';
import type { WebhookEvent } from '@agentops-hub/contracts';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import type { WebhookDeliveriesTable, WebhooksTable } from '../../db/schema.ts';
import type { AuditStore } from '../audit/audit.store.ts';
import type { Caller, OrgId } from '../caller.ts';
import type { EgressGuard } from '../egress/egress.ts';
import { invalid, notFound } from '../errors.ts';
import { type Exec, type JobRunner, type Log, RetryAt } from '../jobs/job-runner.ts';
import { workForOrg } from '../jobs/org-jobs.system.ts';
import { assertBelowOrgCap } from '../org-caps.ts';
import type { SecretBox } from '../secret-box.ts';
import { SIGNATURE_HEADER, signPayload } from './webhook-signature.ts';
import { createWebhookStore } from './webhooks.store.ts';

/** Attempts per delivery, the first included. */
export const WEBHOOK_MAX_ATTEMPTS = 6;
/** Wait after failed attempt n (±20% jitter): about 3 hours in all, enough to outlast a redeploy or a short outage. */
const RETRY_DELAYS_MS = [30_000, 2 * 60_000, 10 * 60_000, 30 * 60_000, 2 * 60 * 60_000];
const TEST_EVENT = 'webhook.test';

export interface CreateWebhookInput {
  url: string;
  events: WebhookEvent[];
  format?: 'json' | 'slack';
  secret?: string;
  description?: string;
}

interface DeliverJob {
  orgId: string;
  deliveryId: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function toWebhook(row: WebhooksTable) {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEvent[],
    format: row.format as 'json' | 'slack',
    description: row.description,
    active: Number(row.active) === 1,
    created_at: iso(row.created_at)!,
  };
}

/**
 * Rows written before the egress guard stored `HTTP 500: <the receiver's first 300 characters>`; the
 * receiver's words are never shown (they could be an internal service's secrets), only the status.
 */
export const storedError = (e: string | null) => (e === null ? null : e.replace(/^(HTTP \d{3}):[\s\S]*$/, '$1'));

export function toDelivery(row: WebhookDeliveriesTable) {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event: row.event,
    status: row.status as 'pending' | 'delivered' | 'failed',
    attempts: Number(row.attempts),
    response_status: row.response_status === null ? null : Number(row.response_status),
    last_error: storedError(row.last_error),
    created_at: iso(row.created_at)!,
    delivered_at: iso(row.delivered_at),
    next_attempt_at: iso(row.next_attempt_at),
  };
}

/** Slack's mrkdwn treats &, < and > as markup; event text is data, so it is escaped. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The exact bytes sent for one delivery, in the webhook's format. */
export function renderBody(
  format: string,
  d: { id: string; event: string; createdAt: number; orgId: string; data: Record<string, unknown> },
): string {
  if (format === 'slack') {
    const title = typeof d.data.title === 'string' ? d.data.title : `AgentOps Hub: ${d.event}`;
    const body = typeof d.data.body === 'string' ? d.data.body : '';
    const text = body ? `*${slackEscape(title)}*\n${slackEscape(body)}` : `*${slackEscape(title)}*`;
    return JSON.stringify({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  }
  return JSON.stringify({
    id: d.id,
    event: d.event,
    created_at: new Date(d.createdAt).toISOString(),
    org_id: d.orgId,
    data: d.data,
  });
}

export function createWebhookService(deps: {
  db: Db;
  audit: Pick<AuditStore, 'append'>;
  secretBox: SecretBox;
  jobs: Pick<JobRunner, 'send' | 'work'>;
  clock?: () => number;
  log: Log;
  /** Every delivery goes out through it (SSRF guard, timeouts, no response bodies kept). */
  egress: Pick<EgressGuard, 'post' | 'checkUrl'>;
}) {
  const db = deps.db.db;
  const now = deps.clock ?? Date.now;
  const store = createWebhookStore(db);

  /** One HTTP attempt through the egress guard. Never throws: the outcome is recorded by the caller. */
  async function attempt(hook: WebhooksTable, delivery: WebhookDeliveriesTable) {
    const secret = deps.secretBox.open(hook.secret);
    const r = await deps.egress.post(hook.url, {
      headers: {
        'content-type': 'application/json',
        'user-agent': 'AgentOps-Hub-Webhooks/1',
        'X-Hub-Event': delivery.event,
        'X-Hub-Delivery': delivery.id,
        [SIGNATURE_HEADER]: signPayload(secret, delivery.payload),
      },
      body: delivery.payload,
    });
    return r;
  }

  // A system job: the org comes from the job that emit() wrote, not from a request.
  workForOrg<DeliverJob>(
    deps.jobs,
    'webhook.deliver',
    (payload) => payload.orgId,
    async (orgId, payload, job) => {
      const hooks = store.forOrg(orgId);
      const delivery = await hooks.getDelivery(payload.deliveryId);
      if (delivery?.status !== 'pending') return; // webhook deleted, or already done
      const hook = await hooks.get(delivery.webhook_id);
      if (!hook) return;
      const result = await attempt(hook, delivery);
      const attempts = Number(delivery.attempts) + 1;
      const t = now();
      if (result.ok) {
        await hooks.updateDelivery(delivery.id, {
          status: 'delivered',
          attempts,
          response_status: result.status,
          last_error: null,
          delivered_at: t,
          next_attempt_at: null,
        });
        return;
      }
      const final = job.isFinalAttempt || attempts >= WEBHOOK_MAX_ATTEMPTS;
      const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1]!;
      const nextAt = final ? null : t + Math.round(delay * (0.8 + Math.random() * 0.4));
      await hooks.updateDelivery(delivery.id, {
        status: final ? 'failed' : 'pending',
        attempts,
        response_status: result.status,
        last_error: result.error,
        next_attempt_at: nextAt,
      });
      // The job runner reschedules at exactly the time the delivery row shows.
      if (nextAt !== null) throw new RetryAt(result.error, nextAt);
      throw new Error(`webhook delivery failed after ${attempts} attempts: ${result.error}`);
    },
    { concurrency: 8, leaseMs: 60_000 },
  );

  async function insertDelivery(
    orgId: OrgId,
    exec: Exec,
    hook: WebhooksTable,
    event: string,
    data: Record<string, unknown>,
  ): Promise<WebhookDeliveriesTable> {
    const t = now();
    const id = newId('dlv', t);
    const row: Omit<WebhookDeliveriesTable, 'org_id'> = {
      id,
      webhook_id: hook.id,
      event,
      payload: renderBody(hook.format, { id, event, createdAt: t, orgId, data }),
      status: 'pending',
      attempts: 0,
      response_status: null,
      last_error: null,
      created_at: t,
      delivered_at: null,
      next_attempt_at: t,
    };
    await store.forOrg(orgId, exec).insertDelivery(row);
    return { ...row, org_id: orgId };
  }

  async function mustGet(orgId: OrgId, id: string) {
    const hook = await store.forOrg(orgId).get(id);
    if (!hook) throw notFound('Webhook');
    return hook;
  }

  return {
    /** Registers a webhook; the answer carries `secret`, the only time it is ever shown. */
    async create(caller: Caller, body: CreateWebhookInput) {
      const refusal = deps.egress.checkUrl(body.url);
      if (refusal) throw invalid('url', refusal);
      const t = now();
      const secret = body.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
      const row: Omit<WebhooksTable, 'org_id'> = {
        id: newId('whk', t),
        url: body.url,
        events: JSON.stringify([...new Set(body.events)]),
        format: body.format ?? 'json',
        secret: deps.secretBox.seal(secret),
        description: body.description ?? '',
        active: 1,
        created_at: t,
      };
      await db.transaction().execute(async (trx) => {
        const hooks = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('webhooks', hooks.count);
        await hooks.insert(row);
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'webhook.created',
            entityType: 'webhook',
            entityId: row.id,
            changes: { url: row.url, events: JSON.parse(row.events), format: row.format, description: row.description },
          },
          t,
        );
      });
      return { ...toWebhook({ ...row, org_id: caller.orgId }), secret };
    },

    async list(orgId: OrgId) {
      return (await store.forOrg(orgId).list()).map(toWebhook);
    },

    async get(orgId: OrgId, id: string) {
      return toWebhook(await mustGet(orgId, id));
    },

    async remove(caller: Caller, id: string) {
      await db.transaction().execute(async (trx) => {
        const hooks = store.forOrg(caller.orgId, trx);
        const hook = await hooks.get(id);
        if (!hook) throw notFound('Webhook');
        await hooks.remove(id);
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'webhook.deleted',
            entityType: 'webhook',
            entityId: id,
            changes: { url: hook.url, events: JSON.parse(hook.events), format: hook.format },
          },
          now(),
        );
      });
    },

    async deliveries(orgId: OrgId, webhookId: string, page: { limit: number; cursor?: string }) {
      await mustGet(orgId, webhookId);
      const rows = await store.forOrg(orgId).listDeliveries(webhookId, page.limit + 1, page.cursor);
      const data = rows.slice(0, page.limit);
      return {
        data: data.map(toDelivery),
        next_cursor: rows.length > page.limit ? data[data.length - 1]!.id : null,
      };
    },

    /** Delivery state by id, for features that show where their events went (reports). */
    async deliveryStatuses(orgId: OrgId, ids: string[]) {
      const hooks = store.forOrg(orgId);
      const out = new Map<string, { status: string; last_error: string | null; webhook_id: string }>();
      for (const id of ids) {
        const d = await hooks.getDelivery(id);
        if (d) out.set(id, { status: d.status, last_error: storedError(d.last_error), webhook_id: d.webhook_id });
      }
      return out;
    },

    /**
     * Records one delivery per active webhook subscribed to `event` and enqueues their jobs. Pass the
     * caller's transaction as `exec` so the deliveries exist only if the change that caused them commits.
     * `webhookIds` restricts delivery to those webhooks (e.g. a report's chosen webhooks), which then
     * receive the event even when they did not subscribe to it. Returns the delivery ids.
     */
    async emit(
      orgId: OrgId,
      event: WebhookEvent,
      data: Record<string, unknown>,
      opts: { exec?: Exec; webhookIds?: string[] } = {},
    ): Promise<string[]> {
      const run = async (exec: Exec) => {
        const active = await store.forOrg(orgId, exec).listActive();
        const targets = opts.webhookIds
          ? active.filter((h) => opts.webhookIds!.includes(h.id))
          : active.filter((h) => (JSON.parse(h.events) as string[]).includes(event));
        const ids: string[] = [];
        for (const hook of targets) {
          const d = await insertDelivery(orgId, exec, hook, event, data);
          await deps.jobs.send('webhook.deliver', { orgId, deliveryId: d.id } satisfies DeliverJob, {
            exec,
            maxAttempts: WEBHOOK_MAX_ATTEMPTS,
          });
          ids.push(d.id);
        }
        return ids;
      };
      return opts.exec ? run(opts.exec) : db.transaction().execute(run);
    },

    /**
     * Sends a `webhook.test` event now and answers with the outcome: one attempt, not retried, so the
     * console can say at once whether the receiver works. Recorded in the deliveries list like any other.
     */
    async sendTest(caller: Caller, id: string) {
      const hook = await mustGet(caller.orgId, id);
      const delivery = await insertDelivery(caller.orgId, db, hook, TEST_EVENT, {
        title: 'Test delivery from AgentOps Hub',
        body: `${caller.actor.name ?? 'Someone'} sent this to check the webhook. If you can read it, it works.`,
      });
      const result = await attempt(hook, delivery);
      const t = now();
      const set = {
        status: result.ok ? 'delivered' : 'failed',
        attempts: 1,
        response_status: result.status,
        last_error: result.error,
        delivered_at: result.ok ? t : null,
        next_attempt_at: null,
      };
      await store.forOrg(caller.orgId).updateDelivery(delivery.id, set);
      return toDelivery({ ...delivery, ...set });
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
