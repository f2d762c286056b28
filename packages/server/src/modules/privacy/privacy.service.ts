/**
 * @module privacy.service
 * The org's privacy settings: read, change (audited, in the change's transaction), test on a sample,
 * and — on the ingestion hot path — `redactorFor(orgId)`, answered from an in-memory compiled redactor
 * per org. A change here drops this process's copy at once; `invalidate` is called by the bus for the
 * others, so new data follows the new settings within a moment. A change that tightens the settings (a
 * stricter level, a new rule, a detector turned on) also queues a re-redaction of what is already
 * stored (redact-stored.ts), in the same transaction; `redactStored` asks for one by hand.
 *
 * @example
 * const privacy = createPrivacyService({ db, audit, clock, hashSecret, agents });
 * await privacy.put(caller, { capture: 'redacted' });
 * const r = await privacy.redactorFor(orgId); // null when nothing is to be done (the default)
 */
import { hkdfSync } from 'node:crypto';
import {
  type CaptureLevel,
  DetectorKinds,
  type DetectorSettings,
  type PrivacySettings,
  type PutPrivacyBody,
  type RedactionJob,
  type RedactionRule,
  regexProblem,
} from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/database.ts';
import type { Exec } from '../../db/org-scope.ts';
import type { Database, PrivacyRedactionsTable } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { AppError, type FieldError } from '../../platform/errors.ts';
import type { JobRunner } from '../../platform/jobs/job-runner.ts';
import type { MaybePromise } from '../../platform/maybe-promise.ts';
import type { AgentService } from '../agents/index.ts';
import { createPrivacyStore } from './privacy.store.ts';
import { createStoredRedaction } from './redact-stored.ts';
import { compileRedactor, DEFAULT_DETECTORS, type OrgPrivacy, type Redactor } from './redactor.ts';

export interface PrivacyDeps {
  db: Kysely<Database>;
  audit: Pick<AuditStore, 'append'>;
  clock: () => number;
  /** The hub's secret (encryption key); each org's hash key is derived from it, never stored. */
  hashSecret: Buffer;
  agents: Pick<AgentService, 'get'>;
  /** For the re-redaction job: the database's dialect, where the cold archives are, the queue. */
  dialect: Dialect;
  dataDir: string;
  jobs: Pick<JobRunner, 'send'>;
  /** Settings changed: tell the other processes (they call `invalidate`). */
  onChange?: (orgId: OrgId) => void;
}

const iso = (t: number | null | undefined) => (t ? new Date(Number(t)).toISOString() : null);

/** How much each level removes: a change to a higher rank tightens. */
export const CAPTURE_RANK: Record<CaptureLevel, number> = { full: 0, redacted: 1, metadata_only: 2 };

type Settings = Pick<OrgPrivacy, 'capture' | 'detectors' | 'rules'>;
/** Whether `after` removes something `before` kept: then stored data is re-redacted. */
function tightened(before: Settings, after: Settings): boolean {
  if (CAPTURE_RANK[after.capture] > CAPTURE_RANK[before.capture]) return true;
  const old = new Set(before.rules.map((r) => JSON.stringify(r)));
  if (after.rules.some((r) => !old.has(JSON.stringify(r)))) return true;
  return DetectorKinds.some((k) => before.detectors[k] === 'off' && after.detectors[k] !== 'off');
}

const toJob = (r: PrivacyRedactionsTable | undefined): RedactionJob | null =>
  r
    ? {
        id: r.id,
        status: r.status as RedactionJob['status'],
        reason: r.reason as RedactionJob['reason'],
        phase: r.phase as RedactionJob['phase'],
        counts: JSON.parse(r.counts),
        requested_at: iso(r.requested_at)!,
        started_at: iso(r.started_at),
        finished_at: iso(r.finished_at),
        error: r.error,
      }
    : null;

function ruleProblems(rules: RedactionRule[]): FieldError[] {
  const errors: FieldError[] = [];
  rules.forEach((r, i) => {
    if ((r.key === undefined) === (r.pattern === undefined))
      errors.push({ path: `rules.${i}`, message: 'give exactly one of `key` or `pattern`' });
    if (r.pattern !== undefined) {
      const why = regexProblem(r.pattern);
      if (why) errors.push({ path: `rules.${i}.pattern`, message: why });
    }
  });
  return errors;
}

export function createPrivacyService(deps: PrivacyDeps) {
  const store = createPrivacyStore(deps.db);
  const compiled = new Map<string, Redactor | null>();
  const loading = new Map<string, Promise<Redactor | null>>();

  /** The org's per-org hash key: equal values hash equally inside one org, never across orgs. */
  const hashKey = (orgId: string) =>
    Buffer.from(hkdfSync('sha256', deps.hashSecret, Buffer.from(orgId), 'agentops-hub privacy hash v1', 32));

  /** Inside a transaction pass it (`exec`): SQLite has one connection, a read outside would wait forever. */
  async function load(orgId: OrgId, exec: Exec = deps.db): Promise<OrgPrivacy & { updatedAt: number | null }> {
    const s = store.forOrg(orgId, exec);
    const row = await s.settings();
    const agents = await s.agentLevels();
    return {
      capture: (row?.capture as CaptureLevel | undefined) ?? 'full',
      detectors: row ? { ...DEFAULT_DETECTORS, ...(JSON.parse(row.detectors) as DetectorSettings) } : DEFAULT_DETECTORS,
      rules: row ? (JSON.parse(row.rules) as RedactionRule[]) : [],
      agents: new Map(agents.map((a) => [a.agent_id, a.capture as CaptureLevel])),
      updatedAt: row ? Number(row.updated_at) : null,
    };
  }

  const stored = createStoredRedaction({
    ...deps,
    compile: async (orgId) => compileRedactor(await load(orgId), hashKey(orgId)),
  });

  const toDto = (p: Awaited<ReturnType<typeof load>>, job: PrivacyRedactionsTable | undefined): PrivacySettings => ({
    capture: p.capture,
    detectors: p.detectors,
    rules: p.rules,
    agents: [...p.agents].map(([agent_id, capture]) => ({ agent_id, capture })),
    updated_at: iso(p.updatedAt),
    redaction: toJob(job),
  });

  function invalidate(orgId: string) {
    compiled.delete(orgId);
    loading.delete(orgId);
  }

  return {
    /**
     * The org's redactor, or null when nothing is to be done. From memory after the first call (no
     * promise per request on the hot path); loaded once per org otherwise.
     */
    redactorFor(orgId: OrgId): MaybePromise<Redactor | null> {
      const hit = compiled.get(orgId);
      if (hit !== undefined) return hit;
      let p = loading.get(orgId);
      if (!p) {
        p = load(orgId).then((settings) => {
          const r = compileRedactor(settings, hashKey(orgId));
          // Only cache if no change came while loading (a change deletes the pending entry).
          if (loading.get(orgId) === p) {
            compiled.set(orgId, r);
            loading.delete(orgId);
          }
          return r;
        });
        loading.set(orgId, p);
      }
      return p;
    },

    invalidate,

    async get(orgId: OrgId): Promise<PrivacySettings> {
      return toDto(await load(orgId), await stored.latest(orgId));
    },

    /** `POST /v1/privacy/redact-stored`: queues a re-redaction of stored data (audited), or joins a queued one. */
    async redactStored(caller: Caller): Promise<RedactionJob> {
      const row = await deps.db
        .transaction()
        .execute((trx) => stored.request(trx, caller.orgId, caller.actor, 'requested'));
      return toJob(row)!;
    },

    /** The re-redaction job's handler (registered on the job runner by privacy.module.ts). */
    runRedaction: stored.run,

    async put(caller: Caller, body: PutPrivacyBody): Promise<PrivacySettings> {
      if (body.rules) {
        const errors = ruleProblems(body.rules);
        if (errors.length) throw new AppError('validation_failed', errors[0]!.message, { errors });
      }
      const now = deps.clock();
      await deps.db.transaction().execute(async (trx) => {
        const before = await load(caller.orgId, trx);
        const after = {
          capture: body.capture ?? before.capture,
          detectors: { ...before.detectors, ...body.detectors },
          rules: body.rules ?? before.rules,
        };
        await store.forOrg(caller.orgId, trx).putSettings({
          capture: after.capture,
          detectors: JSON.stringify(after.detectors),
          rules: JSON.stringify(after.rules),
          updated_at: now,
        });
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'privacy.updated',
            entityType: 'privacy_settings',
            entityId: caller.orgId,
            changes: {
              before: { capture: before.capture, detectors: before.detectors, rules: before.rules },
              after,
            },
          },
          now,
        );
        if (tightened(before, after)) await stored.request(trx, caller.orgId, caller.actor, 'tightened');
      });
      invalidate(caller.orgId);
      deps.onChange?.(caller.orgId);
      return this.get(caller.orgId);
    },

    /** An agent's own capture level (null: it follows the org). Another org's agent is a 404. */
    async getAgent(orgId: OrgId, agentIdOrName: string) {
      const agent = await deps.agents.get(orgId, agentIdOrName);
      const own = await store.forOrg(orgId).agentLevel(agent.id);
      const org = await load(orgId);
      const capture = (own?.capture as CaptureLevel | undefined) ?? null;
      return { agent_id: agent.id, capture, effective: capture ?? org.capture };
    },

    /**
     * Sets (or with null clears) an agent's own capture level. With `agents:edit` on every agent: any
     * level. A team lead (`agents:edit:team`) on their own teams' agents: a level at least as strict as
     * the org's, or null; the org's level is the floor everyone promised customers, so only an admin
     * sets an agent below it.
     */
    async putAgent(caller: Caller, agentIdOrName: string, capture: CaptureLevel | null) {
      const agent = await deps.agents.get(caller.orgId, agentIdOrName);
      const now = deps.clock();
      await deps.db.transaction().execute(async (trx) => {
        const s = store.forOrg(caller.orgId, trx);
        const org = await load(caller.orgId, trx);
        if (!caller.permissions.has('agents:edit')) {
          if (!agent.team_id || !caller.teamIds.includes(agent.team_id))
            throw new AppError('forbidden', 'Only an agent of one of your teams can get its capture level from you.');
          if (capture !== null && CAPTURE_RANK[capture] < CAPTURE_RANK[org.capture])
            throw new AppError(
              'forbidden',
              `The org keeps ${org.capture}; a team lead may set an agent's level at least as strict, not ${capture}.`,
            );
        }
        const before = (await s.agentLevel(agent.id))?.capture ?? null;
        if (capture === null) await s.deleteAgentLevel(agent.id);
        else await s.putAgentLevel({ agent_id: agent.id, capture, updated_at: now });
        await deps.audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'privacy.agent_updated',
            entityType: 'agent',
            entityId: agent.id,
            changes: { before: { capture: before }, after: { capture } },
          },
          now,
        );
        const was = (before as CaptureLevel | null) ?? org.capture;
        if (CAPTURE_RANK[capture ?? org.capture] > CAPTURE_RANK[was])
          await stored.request(trx, caller.orgId, caller.actor, 'tightened');
      });
      invalidate(caller.orgId);
      deps.onChange?.(caller.orgId);
      return this.getAgent(caller.orgId, agent.id);
    },

    /**
     * What `payload` would become: as run content of `agent_id` (or the org), under `capture` if given
     * (else the stored level), with the stored rules and detectors. Nothing is written.
     */
    async test(orgId: OrgId, payload: unknown, opts: { capture?: CaptureLevel; agentId?: string }) {
      const settings = await load(orgId);
      let agentId = '';
      if (opts.agentId) agentId = (await deps.agents.get(orgId, opts.agentId)).id;
      const level = opts.capture ?? settings.agents.get(agentId) ?? settings.capture;
      const r = compileRedactor({ ...settings, capture: level, agents: new Map() }, hashKey(orgId));
      return { capture: level, result: r ? r.content(agentId, payload) : payload };
    },
  };
}
export type PrivacyService = ReturnType<typeof createPrivacyService>;
