/**
 * How a route says who may call it. Every route under /v1 must declare `config.permission` (or
 * `config.auth = 'public' | 'user'`); `app.ts` refuses to start when one does not, so no route can
 * forget its check.
 *
 * @example
 * app.post('/v1/agents', { schema: { body: CreateAgentBody }, config: { permission: 'agents:create' } }, handler)
 */
import type { Permission } from '@agentops-hub/contracts';
import type { FastifyRequest } from 'fastify';
import type { Caller, UserWithoutOrg } from './caller.ts';
import { AppError } from './errors.ts';

export interface HubRouteConfig {
  /** Needed permission; a `:team` grant also passes (the service then checks team ownership). */
  permission?: Permission;
  /** 'public': no credentials. 'user': a signed-in user, with or without an org (e.g. POST /v1/orgs). */
  auth?: 'public' | 'user';
  /** Rate-limit bucket: 'ingest' for the agent hot paths, 'auth' for sign-in/up/reset. */
  rateBucket?: 'ingest' | 'auth' | 'api';
}

declare module 'fastify' {
  interface FastifyContextConfig extends HubRouteConfig {}
  interface FastifyRequest {
    /** Set by the auth hook on every route that is not public. */
    caller?: Caller;
    /** A signed-in user, set on `auth: 'user'` routes even when no org is selected yet. */
    sessionUser?: UserWithoutOrg;
  }
}

/** The authenticated caller, or 401 (for handlers of routes that declare a permission). */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller)
    throw new AppError('unauthenticated', 'Sign in or send an API key (Authorization: Bearer ahk_…).');
  return request.caller;
}

export function sessionUserOf(request: FastifyRequest): UserWithoutOrg {
  if (!request.sessionUser) throw new AppError('unauthenticated', 'This needs a signed-in user (session cookie).');
  return request.sessionUser;
}
