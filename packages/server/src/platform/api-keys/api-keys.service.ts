/**
 * API keys: created with scopes (never more than the creator holds), shown once, stored as a hash,
 * revocable at once. `authenticate` is on every agent request, so it answers from an in-memory cache;
 * revocation evicts the key from the cache in the same call, and through the control bus on other
 * processes, so a revoked key stops working at once.
 *
 * A key may be bound to agents (`agent_ids`): it then acts only as those agents (the agent resolver
 * asks `agentBinding`) and reads only the approvals it asked for. The binding is fixed at creation,
 * so it is cached by key id without invalidation.
 */
import type { CreateApiKeyBody, KeyScope } from '@agentops-hub/contracts';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { ApiKeysTable, Database } from '../../db/schema.ts';
import type { AuditStore } from '../audit/audit.store.ts';
import type { Caller, OrgId } from '../caller.ts';
import { AppError, notFound } from '../errors.ts';
import type { MaybePromise } from '../maybe-promise.ts';
import { assertBelowOrgCap } from '../org-caps.ts';
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

const parseAgentIds = (json: string | null | undefined): ReadonlySet<string> | null =>
  json ? new Set(JSON.parse(json) as string[]) : null;

/** Scopes a bound key may carry: `admin`/`full` could mint an unbound key or act for the org. */
const BINDABLE_SCOPES: KeyScope[] = ['ingest', 'read'];

export function toApiKey(row: ApiKeysTable) {
  const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as KeyScope[],
    agent_ids: row.agent_ids ? (JSON.parse(row.agent_ids) as string[]) : null,
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
  /**
   * Which of `ids` are agents of the org (a bound key's agents must exist). Handed in by the composition
   * root: the agents table belongs to the agents module, and the platform imports no module.
   */
  existingAgents: (orgId: OrgId, ids: readonly string[]) => Promise<ReadonlySet<string>>;
  clock?: () => number;
  onRevoke?: (keyHash: string) => void;
}) {
  const now = deps.clock ?? Date.now;
  const cache = new Map<string, CachedKey>();
  const hashById = new Map<string, string>();
  const hashOfKey = new Map<string, string>();
  /** Key id → its agent binding (null: unbound). Filled by `authenticate`, read by the agent resolver. */
  const bindings = new Map<string, ReadonlySet<string> | null>();
  const remember = (keyId: string, agentIds: ReadonlySet<string> | null) => {
    if (bindings.size > 10_000) bindings.clear();
    bindings.set(keyId, agentIds);
  };

  function evict(hash: string) {
    cache.delete(hash);
  }

  /** last_used_at is advisory: written at most once a minute, off the request's critical path. */
  function touch(hit: CachedKey, t: number) {
    if (t - hit.lastTouch <= TOUCH_EVERY_MS) return;
    hit.lastTouch = t;
    deps.store
      .forOrg(hit.caller.orgId)
      .touch(hit.caller.keyId!, t)
      .catch(() => {});
  }

  /** A binding needs the ingest scope, no admin/full, and agents of the caller's org. */
  async function checkBinding(caller: Caller, scopes: KeyScope[], agentIds: string[]) {
    const invalid = (message: string) =>
      new AppError('validation_failed', `agent_ids: ${message}`, { errors: [{ path: 'agent_ids', message }] });
    if (!scopes.includes('ingest')) throw invalid('a key bound to agents needs the ingest scope');
    const wide = scopes.filter((s) => !BINDABLE_SCOPES.includes(s));
    if (wide.length) throw invalid(`a key bound to agents cannot have the scope ${wide.join(', ')}`);
    const found = await deps.existingAgents(caller.orgId, agentIds);
    const missing = agentIds.filter((id) => !found.has(id));
    if (missing.length) throw invalid(`no agent ${missing.join(', ')} in this organization (give agent ids)`);
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
        const agentIds = parseAgentIds(row.agent_ids);
        remember(row.id, agentIds);
        hit = {
          caller: {
            orgId: row.org_id,
            orgName: row.org_name,
            actor: { type: 'api_key', id: row.id, name: row.name },
            keyId: row.id,
            scopes,
            teamIds: [],
            permissions: permissionsForScopes(scopes),
            ...(agentIds ? { agentIds } : {}),
            ...(row.expires_at === null ? {} : { keyExpiresAt: Number(row.expires_at) }),
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

    /**
     * The agents key `keyId` may act as (null: any). Plain from memory on the hot path (the request's
     * own authentication filled it); a key unknown here is read from the database, and one that is
     * not there at all is bound to nothing, so a miss never widens what a key may do.
     */
    agentBinding(keyId: string): MaybePromise<ReadonlySet<string> | null> {
      const known = bindings.get(keyId);
      if (known !== undefined) return known;
      return deps.store.agentIdsOf(keyId).then((json) => {
        const ids = json === undefined ? new Set<string>() : parseAgentIds(json);
        remember(keyId, ids);
        return ids;
      });
    },

    async create(caller: Caller, body: CreateApiKeyBody, fixedKey?: string) {
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
      const agentIds = body.agent_ids ? [...new Set(body.agent_ids)] : null;
      if (agentIds) await checkBinding(caller, body.scopes, agentIds);
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
        agent_ids: agentIds ? JSON.stringify(agentIds) : null,
      };
      await deps.db.transaction().execute(async (trx) => {
        const keys = deps.store.forOrg(caller.orgId, trx);
        await assertBelowOrgCap('active API keys', keys.countActive);
        await keys.insert(row);
        await deps.audit.append(trx, caller.orgId, {
          actor: caller.actor,
          action: 'api_key.created',
          entityType: 'api_key',
          entityId: row.id,
          changes: {
            name: row.name,
            prefix: row.prefix,
            scopes: body.scopes,
            expires_at: body.expires_at ?? null,
            agent_ids: agentIds,
          },
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
