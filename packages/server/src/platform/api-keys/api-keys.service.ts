/**
 * API keys: created with scopes (never more than the creator holds), shown once, stored as a hash,
 * revocable at once. `authenticate` is on every agent request, so it answers from an in-memory cache;
 * revocation evicts the key from the cache in the same call, and through the control bus on other
 * processes, so a revoked key stops working at once.
 */
import type { KeyScope } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { ApiKeysTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../audit/audit.store.ts';
import { type Caller, type OrgId, trustedOrgId } from '../caller.ts';
import { AppError, notFound } from '../errors.ts';
import { permissionsForScopes, scopesAllowedForRole } from '../rbac.ts';
import { generateApiKey, hashApiKey, keyPrefix } from './api-key-format.ts';
import type { ApiKeyStore } from './api-keys.store.ts';

const CACHE_TTL_MS = 60_000;
const TOUCH_EVERY_MS = 60_000;

interface CachedKey {
  caller: Omit<Caller, 'permissions'> & { permissions: Caller['permissions'] };
  expiresAt: number | null;
  cachedAt: number;
  lastTouch: number;
}

export function toApiKey(row: ApiKeysTable) {
  const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as KeyScope[],
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
    created_at: iso(row.created_at)!,
  };
}

export function createApiKeyService(deps: {
  db: Kysely<Database>;
  store: ApiKeyStore;
  audit: AuditStore;
  clock?: () => number;
  onRevoke?: (keyHash: string) => void;
}) {
  const now = deps.clock ?? Date.now;
  const cache = new Map<string, CachedKey>();
  const hashById = new Map<string, string>();
  const hashOfKey = new Map<string, string>();

  function evict(hash: string) {
    cache.delete(hash);
  }

  /** last_used_at is advisory: written at most once a minute, off the request's critical path. */
  function touch(hit: CachedKey, t: number) {
    if (t - hit.lastTouch <= TOUCH_EVERY_MS) return;
    hit.lastTouch = t;
    deps.store.touch(hit.caller.keyId!, t).catch(() => {});
  }

  return {
    /** Resolves a presented key to its caller, or null. The hot path: usually one Map lookup. */
    /**
     * The synchronous hot path: the caller for a key already in the cache, null for a key known to be
     * invalid (expired), undefined when the database must be asked (`authenticate`).
     */
    cached(key: string): Caller | null | undefined {
      const hash = hashOfKey.get(key);
      const hit = hash === undefined ? undefined : cache.get(hash);
      const t = now();
      if (!hit || t - hit.cachedAt > CACHE_TTL_MS) return undefined;
      if (hit.expiresAt !== null && hit.expiresAt <= t) return null;
      touch(hit, t);
      return hit.caller;
    },

    async authenticate(key: string): Promise<Caller | null> {
      const t = now();
      // The cache is keyed by the hash (revocation evicts by hash); hashing once per key string is
      // remembered so the hot path does not pay a SHA-256 per request.
      let hash = hashOfKey.get(key);
      if (!hash) {
        hash = hashApiKey(key);
        if (hashOfKey.size > 10_000) hashOfKey.clear();
        hashOfKey.set(key, hash);
      }
      let hit = cache.get(hash);
      if (!hit || t - hit.cachedAt > CACHE_TTL_MS) {
        const row = await deps.store.findByHash(hash);
        if (!row || row.revoked_at !== null) {
          cache.delete(hash);
          return null;
        }
        const scopes = JSON.parse(row.scopes) as KeyScope[];
        hit = {
          caller: {
            orgId: trustedOrgId(row.org_id),
            orgName: row.org_name,
            actor: { type: 'api_key', id: row.id, name: row.name },
            keyId: row.id,
            scopes,
            teamIds: [],
            permissions: permissionsForScopes(scopes),
          },
          expiresAt: row.expires_at === null ? null : Number(row.expires_at),
          cachedAt: t,
          lastTouch: row.last_used_at === null ? 0 : Number(row.last_used_at),
        };
        cache.set(hash, hit);
        hashById.set(row.id, hash);
      }
      if (hit.expiresAt !== null && hit.expiresAt <= t) return null;
      touch(hit, t);
      return hit.caller;
    },

    /** Called by the control bus when another process revoked a key. */
    evictByHash: evict,

    async create(caller: Caller, body: { name: string; scopes: KeyScope[]; expires_at?: string }, fixedKey?: string) {
      const allowed = scopesAllowedForRole(caller.role, caller.scopes);
      const refused = body.scopes.filter((s) => !allowed.includes(s));
      if (refused.length)
        throw new AppError(
          'forbidden',
          `You cannot create a key with scope ${refused.join(', ')}: it would exceed your own rights.`,
        );
      const expiresAt = body.expires_at ? Date.parse(body.expires_at) : null;
      if (expiresAt !== null && expiresAt <= now())
        throw new AppError('validation_failed', 'expires_at must be in the future', {
          errors: [{ path: 'expires_at', message: 'must be in the future' }],
        });
      const key = fixedKey ?? generateApiKey();
      const t = now();
      const row: Omit<ApiKeysTable, 'org_id'> = {
        id: newId('key', t),
        name: body.name,
        prefix: keyPrefix(key),
        key_hash: hashApiKey(key),
        scopes: JSON.stringify([...new Set(body.scopes)]),
        created_by: caller.actor.id,
        expires_at: expiresAt,
        last_used_at: null,
        revoked_at: null,
        created_at: t,
      };
      await deps.db.transaction().execute(async (trx) => {
        await deps.store.forOrg(caller.orgId, trx).insert(row);
        await deps.audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'api_key.created',
          entityType: 'api_key',
          entityId: row.id,
          changes: { name: row.name, prefix: row.prefix, scopes: body.scopes, expires_at: body.expires_at ?? null },
        });
      });
      return { ...toApiKey({ ...row, org_id: caller.orgId }), key };
    },

    async list(orgId: OrgId) {
      return (await deps.store.forOrg(orgId).list()).map(toApiKey);
    },

    async revoke(caller: Caller, id: string) {
      const t = now();
      const row = await deps.db.transaction().execute(async (trx) => {
        const keys = deps.store.forOrg(caller.orgId, trx);
        const found = await keys.get(id);
        if (!found) throw notFound('API key');
        if (found.revoked_at === null) {
          await keys.revoke(id, t);
          await deps.audit.append(trx, caller.orgId, {
            actor: caller.actor,
            action: 'api_key.revoked',
            entityType: 'api_key',
            entityId: id,
            changes: { name: found.name, prefix: found.prefix },
          });
        }
        return found;
      });
      evict(row.key_hash);
      deps.onRevoke?.(row.key_hash);
      return toApiKey({ ...row, revoked_at: row.revoked_at ?? t });
    },
  };
}
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
