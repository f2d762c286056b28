/**
 * Approvals: what REQUIRE_APPROVAL creates. Bound to the agent and a hash of the exact action, decided
 * once (a second decision is a 409), used once (the agent's retry with `approval_id` consumes it),
 * expired after the policy's timeout (expired = BLOCK). Agents wait by long-poll or by a signed
 * callback to their `callback_url`; a decision wakes waiters in this process and, through the control
 * bus, in every other one. Approvers are told in-app, by email with signed one-click links, and by
 * webhook; a rule may escalate to more approvers before expiry. Expiry and escalation are durable jobs
 * written in the evaluation's transaction (see approval-requests.ts and approval-jobs.ts).
 *
 * Who may decide (see `assertMayDecide`): a restricted approval (`approvers` names roles or a team) only
 * a person who matches; an unrestricted one also an admin/full key, but never the key that asked for
 * it. Keys that only ingest, and keys bound to agents, read only the approvals they asked for.
 */
import { EventEmitter } from 'node:events';

import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ApprovalsTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { MembershipResolver } from '../../platform/auth/authenticate.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import type { ControlBus } from '../../platform/control-bus.ts';
import type { EgressGuard } from '../../platform/egress/egress.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { JobRunner } from '../../platform/jobs/job-runner.ts';
import type { Mailer } from '../../platform/notifications/mailer.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import type { WebhookService } from '../../platform/webhooks/webhooks.service.ts';
import { type Approval, toApproval } from './approval-dto.ts';
import { APPROVAL_QUEUES, registerApprovalJobs } from './approval-jobs.ts';
import { linkOrgId } from './approval-links.system.ts';
import { type LinkDecision, verifyLinkToken } from './approval-links.ts';
import { createApprovalNotifier } from './approval-notifier.ts';
import { createApprovalRequests, type EscalationRule } from './approval-requests.ts';
import { type Approvers, createApprovalStore } from './approvals.store.ts';

export type { Approval } from './approval-dto.ts';
export type { ApprovalAsk, ApprovalRequest, ApprovalVerdict, EscalationRule } from './approval-requests.ts';
export type { Approvers } from './approvals.store.ts';
export { toApproval };

type Exec = Kysely<Database> | Transaction<Database>;

export interface ApprovalServiceDeps {
  db: Kysely<Database>;
  audit: AuditStore;
  bus: ControlBus;
  notifications: Pick<NotificationService, 'notify' | 'getPreferences'>;
  mailer: Pick<Mailer, 'send'>;
  webhooks: Pick<WebhookService, 'emit'>;
  jobs: Pick<JobRunner, 'send' | 'work'>;
  /** Turns a link's user into a Caller, so a link decision passes the same RBAC as the API. */
  memberships: MembershipResolver;
  /** The current rule of a policy, read in the evaluation's transaction (for its escalation). */
  ruleOf?: (exec: Exec, orgId: OrgId, policyId: string) => Promise<EscalationRule | null>;
  /**
   * Told of every decision and expiry, in the transaction that makes it: the decisions naming the
   * approval keep its outcome (the policies module's `recordApprovalOutcome`, wired in context.ts; this
   * module does not import the policies module, which calls into it).
   */
  onOutcome: (
    exec: Exec,
    orgId: OrgId,
    approvalId: string,
    status: 'approved' | 'rejected' | 'expired',
  ) => Promise<void>;
  /** `HUB_PUBLIC_URL`: the base of the links in emails. */
  publicUrl: string;
  /** Signs email links and callbacks (`deriveLinkSecret(encryptionKey)`). */
  linkSecret: Buffer;
  clock: () => number;
  log: { warn(o: unknown, m?: string): void };
  /** Every callback POST goes through it (approval-jobs.ts); absent, the strictest guard is used. */
  egress?: Pick<EgressGuard, 'post'>;
}

/**
 * The key whose own approvals are all `caller` may read, or undefined when it reads the org's. An
 * agent's key (bound to agents, or ingest-only) sees its requests, never other agents' actions and
 * callback URLs; people and read/admin/full keys see the inbox.
 */
export function ownApprovalsOnly(caller: Pick<Caller, 'actor' | 'scopes' | 'agentIds'>): string | undefined {
  if (caller.actor.type !== 'api_key' || !caller.actor.id) return undefined;
  const ingestOnly = (caller.scopes ?? []).every((s) => s === 'ingest');
  return caller.agentIds || ingestOnly ? caller.actor.id : undefined;
}

/** Restricts reads to the approvals one key asked for (`ownApprovalsOnly`). */
export interface ReadScope {
  requestedByKeyId?: string;
}

/** A change the live inbox is told about (no content: the console refetches what it may see). */
export interface ApprovalChange {
  type: 'created' | 'decided';
  id: string;
}

export function createApprovalService(deps: ApprovalServiceDeps) {
  const { db, audit, clock } = deps;
  const store = createApprovalStore(db);
  const notifier = createApprovalNotifier({ ...deps, db });
  const decided = new EventEmitter();
  decided.setMaxListeners(0);
  deps.bus.subscribe('approval.decided', (d) => decided.emit(String(d.id)));
  // What the console's live inbox hears, per org (`watch`). From the bus only: every process, this one
  // included, receives each message once there.
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  deps.bus.subscribe('approval.decided', (d) => changes.emit(String(d.org_id), { type: 'decided', id: String(d.id) }));
  deps.bus.subscribe('approval.created', (d) => changes.emit(String(d.org_id), { type: 'created', id: String(d.id) }));

  const byId = (exec: Exec, orgId: OrgId, id: string) => store.forOrg(orgId, exec).get(id);
  /** Another key's approval reads as missing, like another org's. */
  const visible = (row: Selectable<ApprovalsTable> | undefined, scope: ReadScope) =>
    row && (!scope.requestedByKeyId || row.requested_by_key_id === scope.requestedByKeyId) ? row : undefined;
  /** Wakes long-polls here and, through the bus, in every other process. */
  const wake = async (orgId: OrgId, id: string) => {
    decided.emit(id);
    await deps.bus.publish('approval.decided', { org_id: orgId, id }).catch(() => {});
  };
  /** One callback per approval, whoever triggers it first (decision, expiry or a late attach). */
  const enqueueCallback = (exec: Exec, orgId: OrgId, id: string) =>
    deps.jobs.send(
      APPROVAL_QUEUES.callback,
      { orgId, id },
      { exec, singletonKey: `${APPROVAL_QUEUES.callback}:${id}` },
    );
  const linkError = () => new AppError('unauthenticated', 'This approval link is not valid.');

  /** Tells the approvers: in-app, email with their own one-click links, webhook `approval.requested`. */
  async function announce(orgId: OrgId, approval: Approval, agentName: string, policyName: string | null) {
    await deps.bus.publish('approval.created', { org_id: orgId, id: approval.id }).catch(() => {});
    const action = approval.action as { type?: string };
    const title = `${agentName} asks to ${action.type ?? 'act'}${policyName ? ` (${policyName})` : ''}`;
    try {
      await notifier.tell(orgId, approval, await store.forOrg(orgId).recipients(approval.approvers), {
        type: 'approval.requested',
        title,
        body: `${approval.message ?? 'A policy requires a person to approve this action.'} Action: ${JSON.stringify(approval.action)}. Expires ${approval.expires_at}.`,
        webhookEvent: 'approval.requested',
        data: { approval },
      });
    } catch (e) {
      deps.log.warn({ err: e }, 'approval notification failed');
    }
  }
  const settle = createApprovalRequests({
    store,
    jobs: deps.jobs,
    ruleOf: deps.ruleOf,
    toApproval,
    announce,
    enqueueCallback,
    linkSecret: deps.linkSecret,
    clock,
  });

  const service = {
    /**
     * The evaluator's one call: a REQUIRE_APPROVAL decision's approval (brought back, or new), in the
     * decision's transaction (see approval-requests.ts).
     */
    settle,

    /**
     * Calls `listener` whenever an approval of the org is created or decided, in any hub process.
     * Returns the function that stops listening.
     * @example
     * const stop = approvals.watch(orgId, (e) => send(e)); // e: { type: 'created' | 'decided', id }
     */
    watch(orgId: OrgId, listener: (change: ApprovalChange) => void): () => void {
      changes.on(orgId, listener);
      return () => void changes.off(orgId, listener);
    },

    async list(orgId: OrgId, status: string | undefined, limit: number, cursor?: string, scope: ReadScope = {}) {
      const now = clock();
      const rows = await store
        .forOrg(orgId)
        .list({ status, now, limit, cursor, requestedByKeyId: scope.requestedByKeyId });
      const page = rows.slice(0, limit);
      return {
        data: page.map((r) => toApproval(r, now)),
        next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    },

    async get(orgId: OrgId, id: string, scope: ReadScope = {}) {
      const row = visible(await byId(db, orgId, id), scope);
      if (!row) throw notFound('Approval');
      return toApproval(row, clock());
    },

    /**
     * Long-poll: answers as soon as the approval is decided (or expires), at most `seconds` later.
     * `signal` ends the wait early (the client went away), so nothing is held for a closed connection.
     */
    async wait(orgId: OrgId, id: string, seconds: number, opts: { scope?: ReadScope; signal?: AbortSignal } = {}) {
      const first = await this.get(orgId, id, opts.scope);
      if (first.status !== 'pending' || seconds <= 0 || opts.signal?.aborted) return first;
      const untilExpiry = Date.parse(first.expires_at) - clock();
      const ms = Math.max(0, Math.min(seconds * 1000, untilExpiry + 50));
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          decided.off(id, done);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        decided.on(id, done);
        opts.signal?.addEventListener('abort', done);
      });
      return this.get(orgId, id, opts.scope);
    },

    async decide(caller: Caller, id: string, outcome: 'approved' | 'rejected', comment: string | undefined) {
      const t = clock();
      const result = await db.transaction().execute(async (trx) => {
        const row = await byId(trx, caller.orgId, id);
        if (!row) throw notFound('Approval');
        const approvers = JSON.parse(row.approvers) as Approvers;
        const widened = row.escalated_at != null && row.escalate_to ? (JSON.parse(row.escalate_to) as Approvers) : null;
        assertMayDecide(caller, approvers, widened, row.requested_by_key_id ?? null);
        const updated = await store.forOrg(caller.orgId, trx).decide(
          id,
          {
            status: outcome,
            decided_at: t,
            decided_by: caller.actor.name ?? caller.actor.id,
            decided_by_type: caller.actor.type,
            decided_by_id: caller.actor.id,
            comment: comment ?? null,
          },
          t,
        );
        if (!updated) {
          const now = toApproval(row, t);
          throw new AppError('conflict', `This approval is already ${now.status}.`);
        }
        await deps.onOutcome(trx, caller.orgId, id, outcome);
        if (updated.callback_url) await enqueueCallback(trx, caller.orgId, id);
        await audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: `approval.${outcome}`,
          entityType: 'approval',
          entityId: id,
          changes: { action: JSON.parse(row.action), policy_id: row.policy_id, agent_id: row.agent_id },
          reason: comment ?? null,
        });
        return toApproval(
          {
            ...row,
            callback_url: updated.callback_url,
            status: outcome,
            decided_at: t,
            decided_by: caller.actor.name ?? caller.actor.id,
            decided_by_type: caller.actor.type,
            decided_by_id: caller.actor.id,
            comment: comment ?? null,
          },
          t,
        );
      });
      await wake(caller.orgId, id);
      await deps.notifications
        .notify(caller.orgId, {
          topic: 'approvals',
          type: 'approval.decided',
          title: `${caller.actor.name ?? 'Someone'} ${outcome} ${(result.action as { type?: string }).type ?? 'an action'}${comment ? `: ${comment}` : ''}`,
          body: `Approval ${id} was ${outcome}.`,
          entityType: 'approval',
          entityId: id,
          webhookEvent: 'approval.decided',
          data: { approval: result },
        })
        .catch((e: unknown) => deps.log.warn({ err: e }, 'approval notification failed'));
      return result;
    },

    /**
     * What a one-click link points at, for its confirmation page (GET decides nothing: mail scanners
     * prefetch links). Throws `unauthenticated` for a forged, foreign or expired token.
     */
    async previewLink(approvalId: string, token: string | undefined, decision: LinkDecision) {
      const p = verifyLinkToken(deps.linkSecret, token, clock());
      if (p.approval_id !== approvalId || p.decision !== decision) throw linkError();
      const row = await byId(db, linkOrgId(p), approvalId);
      if (!row) throw linkError();
      return toApproval(row, clock());
    },

    /**
     * The POST behind a link: decides as the link's user, who must still be a member with
     * approvals:decide matching the approvers (the API's own check, via `decide`). Audited as that user.
     * The link is mailed to that user alone (the outbox keeps a copy without it), so its holder is taken
     * to be them; a request that shows another identity (`presenter`: a signed-in person, or an API key)
     * is refused rather than recorded as the addressee.
     */
    async decideByLink(
      approvalId: string,
      token: string | undefined,
      decision: LinkDecision,
      presenter?: { userId?: string; apiKey?: boolean },
    ) {
      const p = verifyLinkToken(deps.linkSecret, token, clock());
      if (p.approval_id !== approvalId || p.decision !== decision) throw linkError();
      if (presenter?.apiKey) throw new AppError('forbidden', "An API key cannot use a person's approval link.");
      if (presenter?.userId && presenter.userId !== p.user_id)
        throw new AppError(
          'forbidden',
          'This link was sent to another person. Decide in the console as yourself, if the approval allows you.',
        );
      const user = await store.user(p.user_id);
      if (!user) throw new AppError('forbidden', 'This account no longer exists.');
      const caller = await deps.memberships.callerForUser(
        { userId: user.id, email: user.email, name: user.name },
        p.org_id,
      );
      if (!caller || caller.orgId !== p.org_id)
        throw new AppError('forbidden', 'You are no longer a member of this organization.');
      return this.decide(caller, approvalId, decision === 'approve' ? 'approved' : 'rejected', 'via email');
    },
  };
  registerApprovalJobs({ ...deps, store, notifier, wake, enqueueCallback, toApproval });
  return service;
}
export type ApprovalService = ReturnType<typeof createApprovalService>;

/** Why `caller` does not match `spec` (roles, then team; owners and admins oversee every team), or null. */
function refusal(caller: Caller, spec: Approvers): string | null {
  if (spec.roles?.length && !spec.roles.includes(caller.role ?? ''))
    return `This approval is for ${spec.roles.join(' or ')}.`;
  if (spec.team_id && !caller.teamIds.includes(spec.team_id) && caller.role !== 'owner' && caller.role !== 'admin')
    return 'This approval is for another team.';
  return null;
}

const restricted = (spec: Approvers) => Boolean(spec.roles?.length || spec.team_id);

/**
 * Viewers never approve (they lack approvals:decide); the policy may narrow it to roles or a team, and
 * once escalated, matching `escalate_to` is enough too. A key is no person: it cannot satisfy a
 * restriction, and the key that asked (the agent's own) never decides its request unless it is a `full` key.
 */
function assertMayDecide(
  caller: Caller,
  approvers: Approvers,
  widened: Approvers | null,
  requestedByKeyId: string | null,
) {
  if (!caller.permissions.has('approvals:decide'))
    throw new AppError('forbidden', 'Your role cannot decide approvals.');
  if (caller.actor.type === 'api_key') {
    if (restricted(approvers))
      throw new AppError('forbidden', 'This approval is restricted to certain people: an API key cannot decide it.');
    // A `full` key is the org owner's own (the headless-init key is one): like the owner, it may decide
    // what it asked for, and the acceptance checks of policies and the SDK do exactly that. Agents get
    // `ingest` keys, bound to them; an `admin` key never decides its own request.
    if (requestedByKeyId !== null && caller.actor.id === requestedByKeyId && !caller.scopes?.includes('full'))
      throw new AppError(
        'forbidden',
        'The API key that requested this approval cannot decide it: a person, or another admin key, must.',
      );
    return; // admin/full keys act for the org's administrators on unrestricted approvals
  }
  const why = refusal(caller, approvers);
  if (why && !(widened && refusal(caller, widened) === null)) throw new AppError('forbidden', why);
}
