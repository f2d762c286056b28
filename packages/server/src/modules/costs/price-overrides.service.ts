/**
 * An org's own model prices. They win over the shipped table (see `pricing.ts`). Changes are audited in
 * the same transaction; enrichment reads them per event through `overridesFor`, served from memory.
 */
import type { CreatePriceOverrideBody, PriceOverride } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import { AppError, invalid, notFound } from '../../platform/errors.ts';
import { assertBelowOrgCap } from '../../platform/org-caps.ts';
import { grantLevel } from '../../platform/rbac.ts';
import type { PriceOverrideStore, PriceOverridesTable } from './price-overrides.store.ts';
import {
  canonicalModel,
  canonicalProvider,
  type PriceEntry,
  picoToUsdPerMillion,
  usdPerMillionToPico,
} from './pricing.ts';

export interface PriceOverrideServiceDeps {
  db: Kysely<Database>;
  store: PriceOverrideStore;
  audit: AuditStore;
  clock: () => number;
  /** Called after a change commits: publish it so other hub processes drop their cached copy. */
  onChange?: (orgId: OrgId) => void;
  /** How long `overridesFor` may serve a cached list (a safety net behind `onChange`). Default 60 s. */
  cacheTtlMs?: number;
}

/** Enough for every model an org uses; keeps per-event matching cheap. */
const MAX_CACHED_ORGS = 10_000;

export function toPriceOverride(row: PriceOverridesTable): PriceOverride {
  const usd = (p: number | null) => (p === null ? null : picoToUsdPerMillion(Number(p)));
  return {
    id: row.id,
    provider: row.provider,
    model: row.model,
    input: usd(row.input)!,
    cached_input: usd(row.cached_input),
    cache_write: usd(row.cache_write),
    output: usd(row.output)!,
    reasoning: usd(row.reasoning),
    effective_from: new Date(Number(row.effective_from)).toISOString(),
    created_by: row.created_by,
    created_at: new Date(Number(row.created_at)).toISOString(),
  };
}

/** Row → what the pricer matches (integer pico-USD per token, as stored). */
export function toPriceEntry(row: PriceOverridesTable): PriceEntry {
  const opt = (p: number | null) => (p === null ? undefined : Number(p));
  return {
    id: row.id,
    provider: row.provider,
    model: row.model,
    match: [row.model],
    input: Number(row.input),
    cached_input: opt(row.cached_input),
    cache_write: opt(row.cache_write),
    output: Number(row.output),
    reasoning: opt(row.reasoning),
    effective_from: Number(row.effective_from),
    effective_to: null,
  };
}

function parseEffectiveFrom(v: string | undefined): number {
  if (!v) return 0;
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw invalid('effective_from', 'a date (2025-07-01) or an ISO-8601 timestamp');
  return t;
}

export function createPriceOverrideService(deps: PriceOverrideServiceDeps) {
  const { db, store, audit, clock } = deps;
  const ttl = deps.cacheTtlMs ?? 60_000;
  const cache = new Map<string, { loadedAt: number; entries: Promise<PriceEntry[]> }>();

  /** Overrides price the whole org's calls, so a team-scoped budgets grant is not enough. */
  function assertMayManage(caller: Caller) {
    if (grantLevel(caller.permissions, 'budgets:manage') !== 'all')
      throw new AppError('forbidden', 'Price overrides apply to the whole organization: this needs budgets:manage.');
  }

  function invalidate(orgId: string) {
    cache.delete(orgId);
  }

  function changed(orgId: OrgId) {
    invalidate(orgId);
    deps.onChange?.(orgId);
  }

  return {
    async list(orgId: OrgId): Promise<PriceOverride[]> {
      return (await store.forOrg(orgId).list()).map(toPriceOverride);
    },

    async create(caller: Caller, body: CreatePriceOverrideBody): Promise<PriceOverride> {
      assertMayManage(caller);
      // `openai/` alone names no model once the routing prefix is stripped.
      if (!canonicalModel(body.model).model) throw invalid('model', 'names no model');
      const t = clock();
      const row: Omit<PriceOverridesTable, 'org_id'> = {
        id: newId('prc', t),
        provider: canonicalProvider(body.provider),
        model: body.model,
        input: usdPerMillionToPico(body.input),
        cached_input: body.cached_input === undefined ? null : usdPerMillionToPico(body.cached_input),
        cache_write: body.cache_write === undefined ? null : usdPerMillionToPico(body.cache_write),
        output: usdPerMillionToPico(body.output),
        reasoning: body.reasoning === undefined ? null : usdPerMillionToPico(body.reasoning),
        effective_from: parseEffectiveFrom(body.effective_from),
        created_by: caller.actor.id ?? null,
        created_at: t,
      };
      const dto = toPriceOverride({ ...row, org_id: caller.orgId });
      await db.transaction().execute(async (trx) => {
        const overrides = store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('price overrides', overrides.count);
        await overrides.insert(row);
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'price_override.created',
            entityType: 'price_override',
            entityId: row.id,
            changes: dto,
          },
          t,
        );
      });
      changed(caller.orgId);
      return dto;
    },

    async remove(caller: Caller, id: string): Promise<void> {
      assertMayManage(caller);
      await db.transaction().execute(async (trx) => {
        const overrides = store.forOrg(caller.orgId, trx);
        const row = await overrides.find(id);
        if (!row) throw notFound('Price override');
        await overrides.remove(id);
        await audit.append(
          trx,
          caller.orgId,
          {
            actor: caller.actor,
            action: 'price_override.deleted',
            entityType: 'price_override',
            entityId: id,
            changes: toPriceOverride(row),
          },
          clock(),
        );
      });
      changed(caller.orgId);
    },

    /**
     * The org's overrides in pricer form, for enrichment (called per event). Cached per org; a change
     * through this service drops the entry at once, `invalidate` does it for changes made by another
     * process, and the TTL bounds staleness if a notification is lost. The slot is set before the load
     * resolves, so an invalidation during a load discards that load too.
     */
    overridesFor(orgId: OrgId): Promise<PriceEntry[]> {
      const now = clock();
      const hit = cache.get(orgId);
      if (hit && now - hit.loadedAt < ttl) return hit.entries;
      const entries = store
        .forOrg(orgId)
        .list()
        .then((rows) => rows.map(toPriceEntry));
      const slot = { loadedAt: now, entries };
      cache.delete(orgId);
      if (cache.size >= MAX_CACHED_ORGS) cache.delete(cache.keys().next().value!);
      cache.set(orgId, slot);
      entries.catch(() => {
        if (cache.get(orgId) === slot) cache.delete(orgId);
      });
      return entries;
    },

    /** Drops an org's cached overrides (a change announced by another hub process). */
    invalidate,
  };
}
export type PriceOverrideService = ReturnType<typeof createPriceOverrideService>;
