/**
 * Approvals: what REQUIRE_APPROVAL creates. Bound to the agent and a hash of the exact action, decided
 * once (a second decision is a 409), used once (the agent's retry with `approval_id` consumes it),
 * expired after the policy's timeout (expired = BLOCK). Agents wait by long-poll or by a signed
 * callback to their `callback_url`; a decision wakes waiters in this process and, through the control
 * bus, in every other one. Approvers are told in-app, by email with signed one-click links, and by
 * webhook; a rule may escalate to more approvers before expiry. Expiry and escalation are durable jobs
 * written in the evaluation's transaction (see approval-jobs.ts).
 *
 * Who may decide (see `assertMayDecide`): a restricted approval (`approvers` names roles or a team) only
 * a person who matches; an unrestricted one also an admin/full key, but never the key that asked for
 * it. Keys that only ingest, and keys bound to agents, read only the approvals they asked for.
 *
 * It is longer than 400 lines because every step of an approval's life shares one set of state checks.
 */
import { EventEmitter } from 'node:events';

import type { Actor } from '@agentops-hub/contracts';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { ApprovalsTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { MembershipResolver } from '../../platform/auth/authenticate.ts';
import { type Caller, type OrgId, trustedOrgId } from '../../platform/caller.ts';
import type { ControlBus } from '../../platform/control-bus.ts';
import type { EgressGuard } from '../../platform/egress/egress.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { JobRunner } from '../../platform/jobs/job-runner.ts';
import type { Mailer } from '../../platform/notifications/mailer.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import type { WebhookService } from '../../platform/webhooks/webhooks.service.ts';
import { APPROVAL_QUEUES, registerApprovalJobs } from './approval-jobs.ts';
import { callbackSecret, type LinkDecision, verifyLinkToken } from './approval-links.ts';
import { createApprovalNotifier } from './approval-notifier.ts';
import { type Approvers, createApprovalStore } from './approvals.store.ts';

export type { Approvers } from './approvals.store.ts';

type Exec = Kysely<Database> | Transaction<Database>;

const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());

export function toApproval(r: Selectable<ApprovalsTable>, now: number) {
  const expired = r.status === 'pending' && Number(r.expires_at) <= now;
  return {
    id: r.id,
    status: (expired ? 'expired' : r.status) as 'pending' | 'approved' | 'rejected' | 'expired',
    policy_id: r.policy_id,
    agent_id: r.agent_id,
    run_id: r.run_id,
    decision_id: r.decision_id,
    action: JSON.parse(r.action),
    approvers: JSON.parse(r.approvers) as Approvers,
    message: r.message,
    requested_at: iso(r.requested_at)!,
    expires_at: iso(r.expires_at)!,
    decided_at: iso(r.decided_at),
    decided_by: r.decided_by,
    /** Who decided, exactly (null for rows decided before 011-security, and while undecided). */
    decided_by_actor:
      r.decided_by_type && r.decided_by_id
        ? ({ type: r.decided_by_type, id: r.decided_by_id, name: r.decided_by } as Actor)
        : null,
    comment: r.comment,
    used: r.used_at !== null,
    /** Added to the approvers when `escalated_at` is set. */
    escalate_to: r.escalate_to ? (JSON.parse(r.escalate_to) as Approvers) : null,
    escalate_at: iso(r.escalate_at ?? null),
    escalated_at: iso(r.escalated_at ?? null),
    callback_url: r.callback_url ?? null,
  };
}
export type Approval = ReturnType<typeof toApproval>;

/** Escalation settings of the rule that created an approval. */
export interface EscalationRule {
  escalate_after_s?: number;
  escalate_to?: Approvers;
}

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

  const service = {
    /** Inside the evaluation's transaction; notifications go out after it commits (`announce`). */
    async create(
      exec: Exec,
      orgId: OrgId,
      a: {
        policyId: string | null;
        agentId: string;
        runId: string | null;
        decisionId: string;
        action: unknown;
        actionHash: string;
        approvers: Approvers;
        message: string | null;
        timeoutS: number;
        /** Who evaluated: a key is remembered (it reads its own approvals and may not decide them). */
        requestedBy?: Actor;
      },
    ) {
      const t = clock();
      const rule = a.policyId && deps.ruleOf ? await deps.ruleOf(exec, orgId, a.policyId) : null;
      // Validation keeps escalate_after_s below the timeout; re-checked because the default timeout
      // (no approval_timeout_s) is the evaluator's, not the rule's.
      const escalateAt =
        rule?.escalate_after_s && rule.escalate_to && rule.escalate_after_s < a.timeoutS
          ? t + rule.escalate_after_s * 1000
          : null;
      const row = {
        id: newId('apr', t),
        org_id: orgId,
        policy_id: a.policyId,
        agent_id: a.agentId,
        run_id: a.runId,
        decision_id: a.decisionId,
        action: JSON.stringify(a.action),
        action_hash: a.actionHash,
        status: 'pending',
        approvers: JSON.stringify(a.approvers),
        message: a.message,
        requested_at: t,
        expires_at: t + a.timeoutS * 1000,
        decided_at: null,
        decided_by: null,
        comment: null,
        used_at: null,
        escalate_to: escalateAt ? JSON.stringify(rule!.escalate_to) : null,
        escalate_at: escalateAt,
        escalated_at: null,
        callback_url: null,
        requested_by_key_id: a.requestedBy?.type === 'api_key' ? a.requestedBy.id : null,
        decided_by_type: null,
        decided_by_id: null,
      };
      await exec.insertInto('approvals').values(row).execute();
      // Durable and in the same transaction: a crash cannot leave an approval that never expires.
      const job = { orgId, id: row.id };
      await deps.jobs.send(APPROVAL_QUEUES.expire, job, {
        exec,
        runAt: row.expires_at,
        singletonKey: `${APPROVAL_QUEUES.expire}:${row.id}`,
      });
      if (escalateAt)
        await deps.jobs.send(APPROVAL_QUEUES.escalate, job, {
          exec,
          runAt: escalateAt,
          singletonKey: `${APPROVAL_QUEUES.escalate}:${row.id}`,
        });
      return toApproval(row, t);
    },

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

    /** Tells the approvers: in-app, email with their own one-click links, webhook `approval.requested`. */
    async announce(orgId: OrgId, approval: Approval, agentName: string, policyName: string | null) {
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
    },

    async list(orgId: OrgId, status: string | undefined, limit: number, cursor?: string, scope: ReadScope = {}) {
      const now = clock();
      let q = db.selectFrom('approvals').selectAll().where('org_id', '=', orgId);
      if (scope.requestedByKeyId) q = q.where('requested_by_key_id', '=', scope.requestedByKeyId);
      if (status === 'pending') q = q.where('status', '=', 'pending').where('expires_at', '>', now);
      else if (status === 'expired')
        q = q.where((eb) =>
          eb.or([eb('status', '=', 'expired'), eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)])]),
        );
      else if (status) q = q.where('status', '=', status);
      if (cursor) q = q.where('id', '<', cursor);
      const rows = await q
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
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
        // `returning` reads the row as this update left it: a callback_url attached concurrently is seen.
        const updated = await trx
          .updateTable('approvals')
          .set({
            status: outcome,
            decided_at: t,
            decided_by: caller.actor.name ?? caller.actor.id,
            decided_by_type: caller.actor.type,
            decided_by_id: caller.actor.id,
            comment: comment ?? null,
          })
          .where('org_id', '=', caller.orgId)
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .where('expires_at', '>', t)
          .returning(['callback_url'])
          .executeTakeFirst();
        if (!updated) {
          const now = toApproval(row, t);
          throw new AppError('conflict', `This approval is already ${now.status}.`);
        }
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
     * The agent's retry with `approval_id`: ALLOW once if it is approved, for this agent and exactly
     * this action; the consumption is a compare-and-set, so two retries cannot both pass.
     */
    async consume(exec: Exec, orgId: OrgId, id: string, agentId: string, actionHash: string) {
      const t = clock();
      const row = await byId(exec, orgId, id);
      if (!row) return { outcome: 'missing' as const };
      if (row.agent_id !== agentId || row.action_hash !== actionHash) return { outcome: 'mismatch' as const, row };
      const state = toApproval(row, t);
      if (state.status !== 'approved') return { outcome: state.status, row };
      if (row.used_at !== null) return { outcome: 'used' as const, row };
      const res = await exec
        .updateTable('approvals')
        .set({ used_at: t })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1
        ? { outcome: 'allowed' as const, row }
        : { outcome: 'used' as const, row };
    },

    /**
     * What a one-click link points at, for its confirmation page (GET decides nothing: mail scanners
     * prefetch links). Throws `unauthenticated` for a forged, foreign or expired token.
     */
    async previewLink(approvalId: string, token: string | undefined, decision: LinkDecision) {
      const p = verifyLinkToken(deps.linkSecret, token, clock());
      if (p.approval_id !== approvalId || p.decision !== decision) throw linkError();
      const row = await byId(db, trustedOrgId(p.org_id), approvalId);
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

    /**
     * Stores the agent's callback URL (the first one wins) and answers the secret that signs the callback.
     * An approval decided before the URL arrived is called back at once.
     */
    async attachCallback(orgId: OrgId, approvalId: string, url: string) {
      const row = await db
        .updateTable('approvals')
        .set({ callback_url: url })
        .where('org_id', '=', orgId)
        .where('id', '=', approvalId)
        .where('callback_url', 'is', null)
        .returning(['status'])
        .executeTakeFirst();
      // Still pending: the decision or the expiry job will see the URL (both read it in their update).
      if (row && row.status !== 'pending') await enqueueCallback(db, orgId, approvalId);
      return callbackSecret(deps.linkSecret, approvalId);
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
