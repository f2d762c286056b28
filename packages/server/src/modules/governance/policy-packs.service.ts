/**
 * Policy packs applied to an org: one call creates the pack's policies, budgets and notification
 * settings through their own services (so each is validated, versioned and audited as if a person made
 * it), and records every item it created with a hash of its content then.
 *
 * That hash is what makes the rest safe:
 * - applying again compares each item with what the pack would write now: equal → nothing happens;
 * - an item whose current content still has the recorded hash was not touched by anyone, so new
 *   parameters or a new pack version may update it (or unapply remove it);
 * - an item whose hash differs was changed by a person: it is never overwritten or removed, only
 *   reported (`conflict` on apply, `kept` on unapply).
 *
 * Apply is not one database transaction (each item goes through its own service, which opens its
 * own), so it is written to be re-run: each item is recorded right after it is made, and a retry
 * finishes what a failed run left. Applies of one org run one at a time in this process.
 *
 * It is longer than 400 lines because preview, apply and unapply share one plan made from the recorded hashes.
 */
import type { CreateBudgetBody, PackChange, PolicyPackFile } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { orgScope } from '../../db/org-scope.ts';
import type { Database, PolicyPackItemsTable } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { NotificationService, PreferencesPatch } from '../../platform/notifications/notifications.service.ts';
import type { PolicyService } from '../policies/index.ts';
import { type PackCatalog, type ParamValues, type RenderedPack, renderPack } from './pack-catalog.ts';
import { budgetContent, type Desired, desiredItems, hashOf, type Kind, policyContent } from './pack-items.ts';

/** What the packs need from budgets (the budgets service, adapted in context.ts). */
export interface PackBudgetPort {
  create(caller: Caller, body: CreateBudgetBody): Promise<{ id: string }>;
  /** The budget's content as it is now, or null when it no longer exists. */
  get(orgId: OrgId, id: string): Promise<Record<string, unknown> | null>;
  update(caller: Caller, id: string, body: CreateBudgetBody): Promise<unknown>;
  remove(caller: Caller, id: string): Promise<void>;
}

interface PlannedChange extends PackChange {
  desired?: Desired;
  record?: PolicyPackItemsTable;
}

export function createPolicyPackService(deps: {
  db: Kysely<Database>;
  audit: AuditStore;
  clock: () => number;
  catalog: PackCatalog;
  policies: Pick<PolicyService, 'create' | 'update' | 'remove' | 'get'>;
  notifications: Pick<NotificationService, 'getPreferences' | 'setPreferences'>;
  /** Absent until a budgets service is wired: packs then skip their budgets and say so. */
  budgets?: () => PackBudgetPort | undefined;
}) {
  const { db, audit, clock, catalog } = deps;
  const locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after any earlier apply/unapply of the same org in this process has finished. */
  async function serialized<T>(orgId: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(orgId) ?? Promise.resolve();
    const run = prev.catch(() => {}).then(fn);
    locks.set(orgId, run);
    try {
      return await run;
    } finally {
      if (locks.get(orgId) === run) locks.delete(orgId);
    }
  }

  function packOr404(id: string): PolicyPackFile {
    const pack = catalog.get(id);
    if (!pack) throw notFound('Policy pack');
    return pack;
  }

  const application = (orgId: OrgId, packId: string) =>
    orgScope(db, orgId)
      .selectFrom('policy_pack_applications')
      .selectAll()
      .where('pack_id', '=', packId)
      .executeTakeFirst();
  const itemsOf = (orgId: OrgId, packId: string) =>
    orgScope(db, orgId).selectFrom('policy_pack_items').selectAll().where('pack_id', '=', packId).execute();

  /** The hash of an item's content as it is now, or null when it no longer exists. */
  async function currentHash(orgId: OrgId, kind: string, entityId: string | null, key: string): Promise<string | null> {
    if (kind === 'policy') {
      try {
        return hashOf(policyContent(await deps.policies.get(orgId, entityId!)));
      } catch (e) {
        if (e instanceof AppError && e.code === 'not_found') return null;
        throw e;
      }
    }
    if (kind === 'budget') {
      const port = deps.budgets?.();
      const b = port ? await port.get(orgId, entityId!) : null;
      return b ? hashOf(budgetContent(b)) : null;
    }
    const [channel, topic] = key.split('.') as ['in_app' | 'email', string];
    const prefs = await deps.notifications.getPreferences(orgId, '');
    return hashOf((prefs[channel] as Record<string, boolean>)[topic] ?? null);
  }

  /** What applying `rendered` would do now, item by item; nothing is changed. */
  async function plan(orgId: OrgId, rendered: RenderedPack): Promise<PlannedChange[]> {
    const records = await itemsOf(orgId, rendered.pack.id);
    const byKey = new Map(records.map((r) => [`${r.kind}:${r.item_key}`, r]));
    const budgetsOn = Boolean(deps.budgets?.());
    const out: PlannedChange[] = [];
    for (const d of desiredItems(rendered)) {
      const record = byKey.get(`${d.kind}:${d.key}`);
      byKey.delete(`${d.kind}:${d.key}`);
      const base = { key: d.key, kind: d.kind, summary: d.summary, desired: d, record };
      if (d.kind === 'budget' && !budgetsOn) continue;
      if (!record) {
        out.push({ ...base, change: 'create', entity_id: null });
        continue;
      }
      const now = await currentHash(orgId, d.kind, record.entity_id, d.key);
      const entity_id = record.entity_id;
      if (now === null) out.push({ ...base, change: 'restore', entity_id });
      else if (now === d.hash) out.push({ ...base, change: 'unchanged', entity_id });
      else if (now === record.content_hash) out.push({ ...base, change: 'update', entity_id });
      else
        out.push({
          ...base,
          change: 'conflict',
          entity_id,
          summary: `${d.summary} (kept: changed since the pack set it)`,
        });
    }
    // Items an older version of the pack made that this version no longer has.
    for (const record of byKey.values()) {
      const now = await currentHash(orgId, record.kind, record.entity_id, record.item_key);
      const base = { key: record.item_key, kind: record.kind as Kind, entity_id: record.entity_id, record };
      if (now === null || now === record.content_hash)
        out.push({ ...base, change: 'remove', summary: 'No longer part of the pack: removed' });
      else out.push({ ...base, change: 'conflict', summary: 'No longer part of the pack, but changed since: kept' });
    }
    return out;
  }

  async function recordItem(caller: Caller, packId: string, d: Desired, entityId: string | null, previous?: unknown) {
    const row = {
      pack_id: packId,
      kind: d.kind,
      item_key: d.key,
      entity_id: entityId,
      content_hash: d.hash,
      previous: previous === undefined ? null : JSON.stringify(previous),
      created_at: clock(),
    };
    await orgScope(db, caller.orgId)
      .insertInto('policy_pack_items', row)
      .onConflict((oc) =>
        oc
          .columns(['org_id', 'pack_id', 'kind', 'item_key'])
          .doUpdateSet({ entity_id: entityId, content_hash: d.hash }),
      )
      .execute();
  }

  async function notificationValue(orgId: OrgId, key: string) {
    const [channel, topic] = key.split('.') as ['in_app' | 'email', string];
    const prefs = await deps.notifications.getPreferences(orgId, '');
    return { channel, topic, value: (prefs[channel] as Record<string, boolean>)[topic] };
  }
  const setNotification = (orgId: OrgId, key: string, on: boolean) => {
    const [channel, topic] = key.split('.') as ['in_app' | 'email', string];
    return deps.notifications.setPreferences(orgId, '', { [channel]: { [topic]: on } } as PreferencesPatch);
  };

  /** Makes one planned change; returns the entity id the item has afterwards. */
  async function execute(caller: Caller, packId: string, c: PlannedChange): Promise<string | null> {
    const d = c.desired;
    const source = `pack:${packId}`;
    if (c.change === 'create' || c.change === 'restore') {
      if (d!.kind === 'policy') {
        const p = await deps.policies.create(caller, d!.content as never, source);
        try {
          await recordItem(caller, packId, d!, p.id);
        } catch (e) {
          await deps.policies.remove(caller, p.id).catch(() => {});
          throw e;
        }
        return p.id;
      }
      if (d!.kind === 'budget') {
        const b = await deps.budgets!()!.create(caller, d!.content as CreateBudgetBody);
        await recordItem(caller, packId, d!, b.id);
        return b.id;
      }
      const before = (await notificationValue(caller.orgId, d!.key)).value;
      await setNotification(caller.orgId, d!.key, d!.content as boolean);
      await recordItem(
        caller,
        packId,
        d!,
        null,
        c.change === 'restore' ? JSON.parse(c.record!.previous ?? 'null') : before,
      );
      return null;
    }
    if (c.change === 'update') {
      if (d!.kind === 'policy') await deps.policies.update(caller, c.entity_id!, d!.content as never);
      else if (d!.kind === 'budget')
        await deps.budgets!()!.update(caller, c.entity_id!, d!.content as CreateBudgetBody);
      else await setNotification(caller.orgId, d!.key, d!.content as boolean);
      await recordItem(caller, packId, d!, c.entity_id);
      return c.entity_id;
    }
    if (c.change === 'remove') {
      await removeItem(caller, c.record!);
      await deleteRecord(caller.orgId, c.record!);
      return null;
    }
    if (c.change === 'unchanged' && d && c.record && c.record.content_hash !== d.hash)
      await recordItem(caller, packId, d, c.entity_id); // a person made it what the pack now says
    return c.entity_id;
  }

  async function removeItem(caller: Caller, r: PolicyPackItemsTable) {
    if (r.kind === 'policy') {
      await deps.policies.remove(caller, r.entity_id!).catch((e) => {
        if (!(e instanceof AppError && e.code === 'not_found')) throw e;
      });
    } else if (r.kind === 'budget') {
      const port = deps.budgets?.();
      if (port)
        await port.remove(caller, r.entity_id!).catch((e) => {
          if (!(e instanceof AppError && e.code === 'not_found')) throw e;
        });
    } else {
      const previous = r.previous === null ? null : (JSON.parse(r.previous) as boolean | null);
      if (typeof previous === 'boolean') await setNotification(caller.orgId, r.item_key, previous);
    }
  }

  const deleteRecord = (orgId: OrgId, r: PolicyPackItemsTable) =>
    orgScope(db, orgId)
      .deleteFrom('policy_pack_items')
      .where('pack_id', '=', r.pack_id)
      .where('kind', '=', r.kind)
      .where('item_key', '=', r.item_key)
      .execute();

  const strip = (changes: PlannedChange[]): PackChange[] =>
    changes.map(({ key, kind, change, entity_id, summary }) => ({ key, kind, change, entity_id, summary }));

  /**
   * Parameters for this apply: the ones applied last time (those the pack still takes), overridden by
   * the given ones; what neither names takes the pack's default.
   */
  function paramsFor(pack: PolicyPackFile, given: ParamValues | undefined, stored: string | undefined): ParamValues {
    const last = stored ? (JSON.parse(stored) as ParamValues) : {};
    return { ...Object.fromEntries(Object.entries(last).filter(([k]) => k in pack.params)), ...given };
  }

  async function currentIds(orgId: OrgId, packId: string) {
    const items = await itemsOf(orgId, packId);
    const ids = (kind: string) =>
      items.filter((i) => i.kind === kind && i.entity_id).map((i) => i.entity_id!) as string[];
    return { policies: ids('policy'), budgets: ids('budget') };
  }

  return {
    catalog,

    /** The pack with its policies rendered with `params` (defaults otherwise). */
    render: (id: string, params?: ParamValues) => renderPack(packOr404(id), params),

    async applications(orgId: OrgId) {
      const apps = await orgScope(db, orgId).selectFrom('policy_pack_applications').selectAll().execute();
      const items = await orgScope(db, orgId).selectFrom('policy_pack_items').selectAll().execute();
      return apps.map((a) => ({
        pack_id: a.pack_id,
        version: Number(a.version),
        latest_version: catalog.get(a.pack_id)?.version ?? null,
        upgrade_available: (catalog.get(a.pack_id)?.version ?? 0) > Number(a.version),
        params: JSON.parse(a.params) as ParamValues,
        applied_by: a.applied_by,
        applied_at: new Date(Number(a.applied_at)).toISOString(),
        updated_at: new Date(Number(a.updated_at)).toISOString(),
        items: items
          .filter((i) => i.pack_id === a.pack_id)
          .map((i) => ({ kind: i.kind, key: i.item_key, entity_id: i.entity_id })),
      }));
    },

    /** What apply would do now, with the diff of an upgrade when the pack is newer than the applied version. */
    async preview(orgId: OrgId, id: string, params?: ParamValues) {
      const pack = packOr404(id);
      const app = await application(orgId, id);
      const rendered = renderPack(pack, paramsFor(pack, params, app?.params));
      return {
        pack_id: id,
        version: pack.version,
        applied_version: app ? Number(app.version) : null,
        params: rendered.params,
        changes: strip(await plan(orgId, rendered)),
      };
    },

    async apply(caller: Caller, id: string, body: { params?: ParamValues; upgrade?: boolean }) {
      const pack = packOr404(id);
      return serialized(caller.orgId, async () => {
        const app = await application(caller.orgId, id);
        const rendered = renderPack(pack, paramsFor(pack, body.params, app?.params));
        const changes = await plan(caller.orgId, rendered);
        const appliedVersion = app ? Number(app.version) : null;
        if (appliedVersion !== null && appliedVersion < pack.version && !body.upgrade) {
          return {
            pack_id: id,
            version: pack.version,
            applied_version: appliedVersion,
            status: 'upgrade_available' as const,
            ...(await currentIds(caller.orgId, id)),
            changes: strip(changes),
          };
        }
        for (const c of changes) await execute(caller, id, c);
        const changed = changes.some((c) => c.change !== 'unchanged' && c.change !== 'conflict');
        const paramsChanged = app ? app.params !== JSON.stringify(rendered.params) : true;
        const status = !app
          ? ('applied' as const)
          : appliedVersion! < pack.version
            ? ('upgraded' as const)
            : changed || paramsChanged
              ? ('updated' as const)
              : ('unchanged' as const);
        if (status !== 'unchanged') {
          const t = clock();
          await db.transaction().execute(async (trx) => {
            await orgScope(trx, caller.orgId)
              .insertInto('policy_pack_applications', {
                pack_id: id,
                version: pack.version,
                params: JSON.stringify(rendered.params),
                applied_by: caller.actor.id,
                applied_at: t,
                updated_at: t,
              })
              .onConflict((oc) =>
                oc
                  .columns(['org_id', 'pack_id'])
                  .doUpdateSet({ version: pack.version, params: JSON.stringify(rendered.params), updated_at: t }),
              )
              .execute();
            await audit.append(
              trx,
              caller.orgId,
              {
                actor: caller.actor,
                action: `policy_pack.${status}`,
                entityType: 'policy_pack',
                entityId: id,
                changes: {
                  pack: id,
                  name: pack.name,
                  version: pack.version,
                  from_version: appliedVersion,
                  params: rendered.params,
                  changes: strip(changes).filter((c) => c.change !== 'unchanged'),
                },
              },
              t,
            );
          });
        }
        return {
          pack_id: id,
          version: pack.version,
          applied_version: pack.version,
          status,
          ...(await currentIds(caller.orgId, id)),
          changes: strip(changes),
        };
      });
    },

    /** Removes what the pack added and nobody changed since; keeps (and reports) what a person changed. */
    async unapply(caller: Caller, id: string) {
      const pack = packOr404(id);
      return serialized(caller.orgId, async () => {
        const app = await application(caller.orgId, id);
        if (!app) throw new AppError('not_found', `The pack ${pack.name} is not applied.`);
        const removed: { key: string; kind: string; entity_id: string | null }[] = [];
        const kept: { key: string; kind: string; entity_id: string | null; reason: string }[] = [];
        for (const r of await itemsOf(caller.orgId, id)) {
          const now = await currentHash(caller.orgId, r.kind, r.entity_id, r.item_key);
          const item = { key: r.item_key, kind: r.kind, entity_id: r.entity_id };
          if (now === null) kept.push({ ...item, reason: 'already gone' });
          else if (now !== r.content_hash) kept.push({ ...item, reason: 'changed since the pack added it' });
          else {
            await removeItem(caller, r);
            removed.push(item);
          }
          await deleteRecord(caller.orgId, r);
        }
        await db.transaction().execute(async (trx) => {
          await orgScope(trx, caller.orgId).deleteFrom('policy_pack_applications').where('pack_id', '=', id).execute();
          await audit.append(trx, caller.orgId, {
            actor: caller.actor,
            action: 'policy_pack.unapplied',
            entityType: 'policy_pack',
            entityId: id,
            changes: { pack: id, name: pack.name, version: Number(app.version), removed, kept },
          });
        });
        return { pack_id: id, removed, kept: kept.filter((k) => k.reason !== 'already gone') };
      });
    },
  };
}
export type PolicyPackService = ReturnType<typeof createPolicyPackService>;
