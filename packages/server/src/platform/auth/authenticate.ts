/**
 * The auth hook: turns the request's credentials into a `Caller` before any handler runs.
 * - `Authorization: Bearer ahk_…`  → an API key (scopes → permissions)
 * - `Authorization: Bearer <jwt>`  → a Better Auth JWT for API clients (acts as the user)
 * - session cookie                  → the signed-in user, in the org named by `X-Org-Id`, else their active org
 * - `Authorization: Basic base64(public:ahk_…)` → an API key, only on routes that pass `{ basic: true }`
 *   (Langfuse's SDK paths, /api/public/*: its SDKs send their key pair this way). Not everywhere, because a
 *   browser remembers Basic credentials and resends them by itself (an ambient credential, like a cookie, on
 *   routes that check no origin for keys), and because it invites `https://x:ahk_…@hub` URLs into logs.
 * Then it checks the route's declared permission. Another org's id in X-Org-Id that the user is not a
 * member of answers 404, like any other resource of another org.
 */
import type { FastifyRequest } from 'fastify';
import { looksLikeApiKey } from '../api-keys/api-key-format.ts';
import type { ApiKeyService } from '../api-keys/api-keys.service.ts';
import type { Caller, UserWithoutOrg } from '../caller.ts';
import { AppError } from '../errors.ts';
import { grantLevel } from '../rbac.ts';
import type { HubRouteConfig } from '../route-config.ts';
import type { Auth } from './better-auth.ts';

export interface MembershipResolver {
  /** The caller for `userId` in `orgIdHint` (or their active/first org); null when they have none. */
  callerForUser(user: UserWithoutOrg, orgIdHint: string | undefined): Promise<Caller | null>;
}

/** A Fastify request's headers as a standard Headers object (what Better Auth takes). */
export function toHeaders(request: FastifyRequest): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(request.headers)) {
    if (v === undefined) continue;
    h.set(k, Array.isArray(v) ? v.join(', ') : String(v));
  }
  return h;
}

/** How a route takes credentials beyond the default. */
export interface CredentialOptions {
  /** API keys only, as a Bearer token or as Basic auth's password (the username is the route's to read). */
  basic?: boolean;
}

/**
 * The halves of `Authorization: Basic base64(username:password)`, or undefined when the header is not Basic.
 * The password may contain colons; the username may not (RFC 7617).
 *
 * @example
 * parseBasicAuth(`Basic ${btoa('pk-lf-1:ahk_…')}`); // { username: 'pk-lf-1', password: 'ahk_…' }
 */
export function parseBasicAuth(authz: string | undefined): { username: string; password: string } | undefined {
  const encoded = /^basic\s+(\S+)\s*$/i.exec(authz ?? '')?.[1];
  if (!encoded) return undefined;
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The default options, one object (a `= {}` default would make one per request on the hot path). */
const NO_OPTIONS: CredentialOptions = Object.freeze({});

const BAD_KEY = 'This API key is not valid (unknown, revoked or expired).';

/** The API key of a `{ basic: true }` route's request (Bearer or Basic password); 401 when there is none. */
function keyOfBasicRoute(authz: string | undefined): string {
  const key = authz?.startsWith('Bearer ') ? authz.slice(7).trim() : parseBasicAuth(authz)?.password.trim();
  if (!key)
    throw new AppError(
      'unauthenticated',
      'Send a hub API key: Basic auth with the key as password (secret key), or Bearer.',
    );
  if (!looksLikeApiKey(key)) throw new AppError('unauthenticated', 'The secret key must be a hub API key (ahk_…).');
  return key;
}

export function createAuthenticator(deps: {
  apiKeys: ApiKeyService;
  auth: Auth;
  memberships: MembershipResolver;
  trustedOrigins: string[];
}) {
  async function sessionUser(request: FastifyRequest, bearer?: string): Promise<UserWithoutOrg | null> {
    if (bearer) {
      // The jwt plugin's endpoint; typed loosely because the options object is built at run time.
      const api = deps.auth.api as unknown as {
        verifyJWT(a: { body: { token: string } }): Promise<{ payload: Record<string, unknown> | null }>;
      };
      const res = await api.verifyJWT({ body: { token: bearer } }).catch(() => null);
      const payload = res?.payload;
      if (!payload || typeof payload.sub !== 'string') return null;
      return { userId: payload.sub, email: String(payload.email ?? ''), name: String(payload.name ?? '') };
    }
    if (!request.headers.cookie) return null;
    const session = await deps.auth.api.getSession({ headers: toHeaders(request) }).catch(() => null);
    if (!session) return null;
    return { userId: session.user.id, email: session.user.email, name: session.user.name };
  }

  function checkPermission(request: FastifyRequest, perm: HubRouteConfig['permission']) {
    if (perm && (!request.caller || !grantLevel(request.caller.permissions, perm)))
      throw new AppError('forbidden', `This needs the permission ${perm}, which your role or key does not have.`);
  }

  /**
   * The synchronous hot path for agents: an API key already in the cache. Returns false when the
   * full (async) authentication must run.
   */
  function fast(request: FastifyRequest, cfg: HubRouteConfig, opts: CredentialOptions = NO_OPTIONS): boolean {
    if (cfg.auth === 'public') return true;
    const authz = request.headers.authorization;
    let key: string;
    if (opts.basic) key = keyOfBasicRoute(authz);
    else if (authz?.startsWith('Bearer ahk_')) key = authz.slice(7).trim();
    else return false;
    const caller = deps.apiKeys.cached(key);
    if (caller === undefined) return false;
    if (caller === null) throw new AppError('unauthenticated', BAD_KEY);
    request.caller = caller;
    checkPermission(request, cfg.permission);
    return true;
  }

  return Object.assign(authenticate, { fast });

  /** `cfg` is the route's own config (see route-hooks.ts). */
  async function authenticate(request: FastifyRequest, cfg: HubRouteConfig, opts: CredentialOptions = NO_OPTIONS) {
    if (cfg.auth === 'public') return;

    const authz = request.headers.authorization;
    const bearer = authz?.startsWith('Bearer ') ? authz.slice(7).trim() : undefined;
    const key = opts.basic ? keyOfBasicRoute(authz) : bearer && looksLikeApiKey(bearer) ? bearer : undefined;
    if (key) {
      const caller = await deps.apiKeys.authenticate(key);
      if (!caller) throw new AppError('unauthenticated', BAD_KEY);
      request.caller = caller;
    } else {
      const user = await sessionUser(request, bearer);
      if (!user) throw new AppError('unauthenticated', 'Sign in or send an API key (Authorization: Bearer ahk_…).');
      // Cookie-authenticated writes must come from the console's own origin (CSRF).
      if (!bearer && request.method !== 'GET' && request.method !== 'HEAD') {
        const origin = request.headers.origin;
        if (origin && !deps.trustedOrigins.includes(origin))
          throw new AppError('forbidden', `Requests from origin ${origin} are not trusted.`);
      }
      request.sessionUser = user;
      const hint = request.headers['x-org-id'];
      const caller = await deps.memberships.callerForUser(user, typeof hint === 'string' ? hint : undefined);
      if (caller) request.caller = caller;
      else if (typeof hint === 'string' && hint) throw new AppError('not_found', 'Organization was not found');
      else if (cfg.auth !== 'user')
        throw new AppError('forbidden', 'You do not belong to an organization yet: create one with POST /v1/orgs.');
    }

    checkPermission(request, cfg.permission);
  }
}
