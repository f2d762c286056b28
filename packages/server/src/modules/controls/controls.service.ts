/**
 * Emergency controls: pause one agent (`block`, or `failsafe`: log only, no external action), pause a
 * category of agents (an agent type or tag), and the org-wide kill switch. Every change is audited and
 * notified in its own transaction, then published on the control bus so every hub process obeys it
 * within a second.
 *
 * `check()` is on the hot path of every policy evaluation: it answers from an in-memory snapshot per
 * org, loaded on first use and reloaded whenever this process changes the org's controls or the bus
 * says another process did. While a reload is in flight, `check()` waits for it rather than answer
 * from the stale snapshot, so a process never lets an agent through after it has heard of its pause.
 *
 * It is longer than 400 lines because all three kinds of control write the one snapshot `check()` reads.
 *
 * @example
 * const controls = createControlService({ db: db.db, audit, bus, notifications, clock, log,
 *   onAgentChanged: (orgId) => resolver.invalidate(orgId) });
 * await controls.setKillSwitch(caller, { engaged: true, reason: 'drill' });
 * await controls.check(orgId, { id: 'agt_…', type: 'support', tags: [] });
 * // → { reason: 'kill_switch', mode: 'block', message: 'The kill switch is engaged: drill' }
 */
import { randomUUID } from 'node:crypto';
import type {
  Actor,
  AgentPause,
  CategoryPause,
  ControlHold,
  ControlsState,
  PauseMode,
  PauseSource,
} from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import type { ControlBus } from '../../platform/control-bus.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Log } from '../../platform/jobs/job-runner.ts';
import type { MaybePromise } from '../../platform/maybe-promise.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';
import { grantLevel } from '../../platform/rbac.ts';
import { type AgentPauseRow, type ControlStore, createControlStore } from './controls.store.ts';
import { onControlsChangedElsewhere } from './controls-bus.system.ts';

/** The bus topic: `{org_id, origin}`; every process reloads that org's snapshot. */
export const CONTROLS_CHANGED = 'controls.changed';

export interface ControlServiceDeps {
  db: Kysely<Database>;
  audit: Pick<AuditStore, 'append'>;
  bus: Pick<ControlBus, 'publish' | 'subscribe'>;
  notifications: Pick<NotificationService, 'notify'>;
  clock: () => number;
  log: Log;
  /** An agent's status changed (here or in another process): drop cached agents, e.g. the ingest resolver's. */
  onAgentChanged?: (orgId: OrgId) => void;
  store?: ControlStore;
}

/** Who changes a control: a request's caller, or a system job (the budget engine) with a system actor. */
export type ControlCaller = Pick<Caller, 'orgId' | 'actor' | 'permissions' | 'teamIds'>;

/** What the snapshot says about this agent: kill switch, then its own pauses, then its categories. */
function holdOf(snap: Snapshot, agent: CheckedAgent): ControlHold | null {
  if (snap.kill)
    return {
      reason: 'kill_switch',
      mode: 'block',
      message: withReason('The kill switch is engaged', snap.kill.reason),
    };
  const paused = snap.agents.get(agent.id);
  if (paused)
    return {
      reason: 'agent_paused',
      mode: paused.mode,
      message: withReason(
        `Agent ${paused.name} is paused${paused.mode === 'failsafe' ? ' (failsafe)' : ''}`,
        paused.reason,
      ),
    };
  if (snap.categories.size > 0) {
    for (const category of [agent.type, ...(agent.tags ?? [])]) {
      const c = category ? snap.categories.get(category) : undefined;
      if (c)
        return {
          reason: 'category_paused',
          mode: 'block',
          message: withReason(`Agents of category "${category}" are paused`, c.reason),
        };
    }
  }
  return null;
}

/** What `check()` needs of an agent. */
export interface CheckedAgent {
  id: string;
  type?: string | null;
  tags?: readonly string[] | null;
}

interface Snapshot {
  kill: { reason: string | null } | null;
  /** Per agent, the most restrictive of its pauses (block over failsafe). */
  agents: Map<string, { name: string; mode: PauseMode; reason: string | null }>;
  categories: Map<string, { reason: string | null }>;
}

const iso = (t: number) => new Date(Number(t)).toISOString();
const parseActor = (text: string): Actor => {
  try {
    return JSON.parse(text) as Actor;
  } catch {
    return { type: 'system', id: null, name: null };
  }
};
/** How an actor reads in a notification title. */
const who = (a: Actor) =>
  a.type === 'api_key'
    ? `API key "${a.name ?? a.id}"`
    : a.type === 'system'
      ? 'AgentOps Hub'
      : (a.name ?? a.id ?? 'someone');
const withReason = (text: string, reason: string | null | undefined) => (reason ? `${text}: ${reason}` : text);

export function createControlService(deps: ControlServiceDeps) {
  const { db, audit, bus, notifications, clock, log } = deps;
  const store = deps.store ?? createControlStore(db);
  /** Identifies this process's messages, so it does not reload twice for its own change. */
  const origin = randomUUID();

  const snapshots = new Map<string, Snapshot>();
  const loading = new Map<string, Promise<Snapshot>>();
  /** Bumped by every change; a load that raced a change is thrown away and read again. */
  const generation = new Map<string, number>();

  async function readSnapshot(orgId: OrgId): Promise<Snapshot> {
    const s = store.forOrg(orgId);
    const [kill, pauses, categories] = await Promise.all([s.killSwitch(), s.agentPauses(), s.categoryPauses()]);
    const agents: Snapshot['agents'] = new Map();
    for (const p of pauses) {
      const prev = agents.get(p.agent_id);
      if (!prev || (prev.mode === 'failsafe' && p.mode === 'block'))
        agents.set(p.agent_id, { name: p.name, mode: p.mode as PauseMode, reason: p.reason });
    }
    return {
      kill: kill && Number(kill.engaged) === 1 ? { reason: kill.reason } : null,
      agents,
      categories: new Map(categories.map((c) => [c.category, { reason: c.reason }])),
    };
  }

  function load(orgId: OrgId): Promise<Snapshot> {
    const inFlight = loading.get(orgId);
    if (inFlight) return inFlight;
    const p = (async () => {
      for (;;) {
        const gen = generation.get(orgId) ?? 0;
        const snap = await readSnapshot(orgId);
        if ((generation.get(orgId) ?? 0) === gen) {
          snapshots.set(orgId, snap);
          return snap;
        }
      }
    })().finally(() => loading.delete(orgId));
    loading.set(orgId, p);
    return p;
  }

  /** Forget the org's snapshot; reload at once when this process uses that org, so checks barely wait. */
  function invalidate(orgId: OrgId) {
    generation.set(orgId, (generation.get(orgId) ?? 0) + 1);
    const wasLoaded = snapshots.delete(orgId) || loading.has(orgId);
    if (wasLoaded && !loading.has(orgId))
      load(orgId).catch((e) => log.warn({ err: e, org_id: orgId }, 'controls: snapshot reload failed'));
  }

  onControlsChangedElsewhere(bus, CONTROLS_CHANGED, origin, (orgId) => {
    invalidate(orgId);
    deps.onAgentChanged?.(orgId);
  });

  /** After a commit: this process at once, the others through the bus. */
  async function changed(orgId: OrgId, agentChanged: boolean) {
    invalidate(orgId);
    if (agentChanged) deps.onAgentChanged?.(orgId);
    try {
      await bus.publish(CONTROLS_CHANGED, { org_id: orgId, origin });
    } catch (e) {
      log.error({ err: e, org_id: orgId }, 'controls: could not publish a change to other processes');
    }
  }

  function assertManage(caller: ControlCaller) {
    if (caller.actor.type === 'system') return;
    if (!caller.permissions.has('controls:manage'))
      throw new AppError('forbidden', 'This needs the permission controls:manage.');
  }

  /** Team leads pause only their teams' agents. System jobs (the budget engine) are trusted. */
  function assertMayPause(caller: ControlCaller, teamId: string | null) {
    if (caller.actor.type === 'system') return;
    const level = grantLevel(caller.permissions, 'agents:pause');
    if (level === 'all') return;
    if (level === 'team' && teamId && caller.teamIds.includes(teamId)) return;
    throw new AppError(
      'forbidden',
      level === 'team'
        ? 'Team leads can only pause agents that belong to one of their teams.'
        : 'This needs the permission agents:pause.',
    );
  }

  const toPause = (r: AgentPauseRow): AgentPause => ({
    agent_id: r.agent_id,
    name: r.name,
    mode: r.mode as PauseMode,
    reason: r.reason,
    source: r.source as PauseSource,
    at: iso(r.paused_at),
    by: parseActor(r.paused_by),
  });

  async function agentState(orgId: OrgId, agentId: string) {
    const s = store.forOrg(orgId);
    const [agent, pauses] = await Promise.all([s.findAgent(agentId), s.agentPauses(agentId)]);
    if (!agent) throw notFound('Agent');
    return {
      agent_id: agent.id,
      name: agent.name,
      status: agent.status as 'active' | 'paused',
      pauses: pauses.map(toPause).map(({ agent_id: _a, name: _n, ...p }) => p),
    };
  }

  async function get(orgId: OrgId): Promise<ControlsState> {
    const s = store.forOrg(orgId);
    const [kill, pauses, categories] = await Promise.all([s.killSwitch(), s.agentPauses(), s.categoryPauses()]);
    return {
      kill_switch: {
        engaged: Number(kill?.engaged ?? 0) === 1,
        reason: kill?.reason ?? null,
        at: kill ? iso(kill.changed_at) : null,
        by: kill ? parseActor(kill.changed_by) : null,
      },
      paused_agents: pauses.map(toPause),
      paused_categories: categories.map(
        (c): CategoryPause => ({
          category: c.category,
          reason: c.reason,
          at: iso(c.paused_at),
          by: parseActor(c.paused_by),
        }),
      ),
    };
  }

  return {
    /**
     * Pauses an agent (by id or name) for one source. Pausing again updates reason and mode. Another
     * org's agent: 404.
     */
    async pauseAgent(
      caller: ControlCaller,
      idOrName: string,
      opts: { reason?: string | null; mode?: PauseMode } = {},
      source: PauseSource = 'manual',
    ) {
      const orgId = caller.orgId;
      const mode = opts.mode ?? 'block';
      const reason = opts.reason?.trim() || null;
      const agentId = await db.transaction().execute(async (trx) => {
        const s = store.forOrg(orgId, trx);
        const agent = await s.findAgent(idOrName);
        if (!agent) throw notFound('Agent');
        assertMayPause(caller, agent.team_id);
        const t = clock();
        const before = (await s.agentPauses(agent.id)).find((p) => p.source === source);
        await s.upsertAgentPause({
          agent_id: agent.id,
          mode,
          reason,
          source,
          paused_by: JSON.stringify(caller.actor),
          paused_at: t,
        });
        const status = await s.syncAgentStatus(agent.id, t);
        await audit.append(
          trx,
          orgId,
          {
            actor: caller.actor,
            action: 'agent.paused',
            entityType: 'agent',
            entityId: agent.id,
            changes: {
              name: agent.name,
              mode,
              source,
              status,
              ...(before ? { before: { mode: before.mode, reason: before.reason } } : {}),
            },
            reason,
          },
          t,
        );
        const by = source === 'budget' ? 'its budget' : who(caller.actor);
        await notifications.notify(
          orgId,
          {
            topic: source === 'budget' ? 'budget_thresholds' : 'policy_violations',
            type: 'agent.paused',
            title: withReason(`${agent.name} paused by ${by}${mode === 'failsafe' ? ' (failsafe)' : ''}`, reason),
            body: `${agent.name} is paused (${mode === 'block' ? 'every action is blocked' : 'failsafe: it may log, but takes no external action'}). Resume it in the console or with POST /v1/agents/${agent.id}/resume.`,
            entityType: 'agent',
            entityId: agent.id,
            webhookEvent: 'agent.paused',
            data: { agent_id: agent.id, agent_name: agent.name, paused: true, mode, source, reason },
          },
          { exec: trx },
        );
        return agent.id;
      });
      await changed(orgId, true);
      return agentState(orgId, agentId);
    },

    /**
     * Releases the pause of one source; a pause of the other source keeps holding the agent. Releasing
     * a pause that is not there changes nothing (no audit entry).
     */
    async resumeAgent(caller: ControlCaller, idOrName: string, source: PauseSource = 'manual') {
      const orgId = caller.orgId;
      const { agentId, released } = await db.transaction().execute(async (trx) => {
        const s = store.forOrg(orgId, trx);
        const agent = await s.findAgent(idOrName);
        if (!agent) throw notFound('Agent');
        assertMayPause(caller, agent.team_id);
        const before = (await s.agentPauses(agent.id)).find((p) => p.source === source);
        if (!before) return { agentId: agent.id, released: false };
        const t = clock();
        await s.deleteAgentPause(agent.id, source);
        const status = await s.syncAgentStatus(agent.id, t);
        await audit.append(
          trx,
          orgId,
          {
            actor: caller.actor,
            action: 'agent.resumed',
            entityType: 'agent',
            entityId: agent.id,
            changes: { name: agent.name, source, status, before: { mode: before.mode, reason: before.reason } },
            reason: before.reason,
          },
          t,
        );
        const stillHeld = status === 'paused' ? ' (another pause still holds it)' : '';
        await notifications.notify(
          orgId,
          {
            topic: source === 'budget' ? 'budget_thresholds' : 'policy_violations',
            type: 'agent.resumed',
            title: `${agent.name} resumed by ${source === 'budget' ? 'its budget' : who(caller.actor)}${stillHeld}`,
            body: `The ${source} pause of ${agent.name} was released; the agent is ${status}.`,
            entityType: 'agent',
            entityId: agent.id,
          },
          { exec: trx },
        );
        return { agentId: agent.id, released: true };
      });
      if (released) await changed(orgId, true);
      return agentState(orgId, agentId);
    },

    /** Engages or releases the org's kill switch: while engaged, every agent of the org is blocked. */
    async setKillSwitch(caller: ControlCaller, input: { engaged: boolean; reason?: string | null }) {
      assertManage(caller);
      const orgId = caller.orgId;
      const reason = input.reason?.trim() || null;
      const wrote = await db.transaction().execute(async (trx) => {
        const s = store.forOrg(orgId, trx);
        const before = await s.killSwitch();
        const wasEngaged = Number(before?.engaged ?? 0) === 1;
        if (!input.engaged && !wasEngaged) return false;
        const t = clock();
        await s.setKillSwitch({
          engaged: input.engaged ? 1 : 0,
          reason,
          changed_by: JSON.stringify(caller.actor),
          changed_at: t,
        });
        await audit.append(
          trx,
          orgId,
          {
            actor: caller.actor,
            action: input.engaged ? 'kill_switch.engaged' : 'kill_switch.released',
            entityType: 'kill_switch',
            entityId: orgId,
            changes: {
              before: { engaged: wasEngaged, reason: before?.reason ?? null },
              after: { engaged: input.engaged, reason },
            },
            reason,
          },
          t,
        );
        const title = withReason(
          `Kill switch ${input.engaged ? 'engaged' : 'released'} by ${who(caller.actor)}`,
          reason,
        );
        await notifications.notify(
          orgId,
          {
            topic: 'policy_violations',
            type: 'kill_switch.changed',
            title,
            body: input.engaged
              ? 'Every agent of the organization is blocked until the kill switch is released.'
              : 'Agents run again (pauses of single agents and categories still apply).',
            entityType: 'kill_switch',
            entityId: orgId,
            webhookEvent: 'kill_switch.changed',
            data: { engaged: input.engaged, reason },
          },
          { exec: trx },
        );
        return true;
      });
      if (wrote) await changed(orgId, false);
      return get(orgId);
    },

    /** Pauses every agent whose type, or one of whose tags, is `category`. */
    async pauseCategory(caller: ControlCaller, category: string, reason?: string | null) {
      assertManage(caller);
      const orgId = caller.orgId;
      const why = reason?.trim() || null;
      await db.transaction().execute(async (trx) => {
        const s = store.forOrg(orgId, trx);
        const before = await s.categoryPause(category);
        const t = clock();
        await s.upsertCategoryPause({ category, reason: why, paused_by: JSON.stringify(caller.actor), paused_at: t });
        await audit.append(
          trx,
          orgId,
          {
            actor: caller.actor,
            action: 'category.paused',
            entityType: 'category_pause',
            entityId: category,
            changes: { category, ...(before ? { before: { reason: before.reason } } : {}) },
            reason: why,
          },
          t,
        );
        await notifications.notify(
          orgId,
          {
            topic: 'policy_violations',
            type: 'category.paused',
            title: withReason(`Agents of category "${category}" paused by ${who(caller.actor)}`, why),
            body: `Every agent whose type or tag is "${category}" is blocked until the category is resumed.`,
            entityType: 'category_pause',
            entityId: category,
            webhookEvent: 'agent.paused',
            data: { category, paused: true, reason: why },
          },
          { exec: trx },
        );
      });
      await changed(orgId, false);
      return get(orgId);
    },

    /** Releases a category pause; releasing one that is not there changes nothing. */
    async resumeCategory(caller: ControlCaller, category: string) {
      assertManage(caller);
      const orgId = caller.orgId;
      const released = await db.transaction().execute(async (trx) => {
        const s = store.forOrg(orgId, trx);
        const before = await s.categoryPause(category);
        if (!before) return false;
        const t = clock();
        await s.deleteCategoryPause(category);
        await audit.append(
          trx,
          orgId,
          {
            actor: caller.actor,
            action: 'category.resumed',
            entityType: 'category_pause',
            entityId: category,
            changes: { category, before: { reason: before.reason } },
            reason: before.reason,
          },
          t,
        );
        await notifications.notify(
          orgId,
          {
            topic: 'policy_violations',
            type: 'category.resumed',
            title: `Agents of category "${category}" resumed by ${who(caller.actor)}`,
            body: `Agents whose type or tag is "${category}" run again (other pauses still apply).`,
            entityType: 'category_pause',
            entityId: category,
          },
          { exec: trx },
        );
        return true;
      });
      if (released) await changed(orgId, false);
      return get(orgId);
    },

    /** The org's controls, read from the database (`GET /v1/controls`). */
    get,

    /** One agent's pauses and status (the answer of the agent pause routes, with the agent itself). */
    agentState,

    /**
     * The hot path: whether the controls stop this agent now. Kill switch first, then the agent's own
     * pauses, then its categories (type, then tags). Answers from memory once the org is loaded.
     *
     * @example
     * const hold = await controls.check(orgId, { id: agent.id, type: agent.type, tags: agent.tags });
     * if (hold) return { decision: 'BLOCK', reason: hold.reason, message: hold.message };
     */
    check(orgId: OrgId, agent: CheckedAgent): MaybePromise<ControlHold | null> {
      const snap = snapshots.get(orgId);
      return snap ? holdOf(snap, agent) : load(orgId).then((s) => holdOf(s, agent));
    },

    /** Drops this process's snapshot of an org (the bus does this on every change). */
    invalidate,
  };
}

export type ControlService = ReturnType<typeof createControlService>;
