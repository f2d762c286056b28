/**
 * Serves the hosted MCP endpoints: the MCP gateway (packages/mcp-gateway) inside the hub's process, one per
 * endpoint and API key, each with its Streamable HTTP sessions.
 *
 * The gateway asks the hub as the CLI does, through the AgentOps SDK (its guard: decisions, approval waits,
 * paused agents; its telemetry: the session's run), but nothing leaves the process: a decision is the policies
 * module's `evaluate` called with the caller the MCP request authenticated (its org, agent restrictions and
 * audit apply), and the rest goes through this app's own routes with the client's key (`hubFetch`).
 *
 * Upstream connections go through the egress guard: the URL is checked before each session connects (an
 * IP literal never reaches a resolver), and every connection resolves the name with the guard's `lookup`.
 *
 * A revoked API key (and so every key of a deleted org: the control bus carries each as revoked), or one that
 * expires, ends the gateways it opened at once, in every process: its requests are refused by authentication
 * anyway, but an open event stream would otherwise go on relaying the upstream's notifications to the client.
 *
 * Bounds: gateways (endpoint × key) per process, and sessions per gateway (the least recently used one is
 * ended past it). Sessions live in this process: behind a load balancer, route by `Mcp-Session-Id`
 * (docs/deployment.md).
 */

import { EvaluateBody } from '@agentops-hub/contracts';
import {
  connectUpstream,
  createGateway,
  createSessionRouter,
  type Gateway,
  type McpSessionRouter,
} from '@agentops-hub/mcp-gateway';
import type { AgentOps } from '@agentops-hub/sdk';
import { createAgentOps } from '@agentops-hub/sdk';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashApiKey } from '../../platform/api-keys/api-key-format.ts';
import type { Caller, OrgId } from '../../platform/caller.ts';
import type { EgressGuard } from '../../platform/egress/egress.ts';
import { problemBody } from '../../platform/error-handler.ts';
import { AppError, fieldErrorsOf, STATUS_BY_CODE } from '../../platform/errors.ts';
import type { McpEndpointService } from './mcp-endpoints.service.ts';

/** Gateways of one org in one process; past it the org's own least recently used is closed (not another org's). */
const MAX_GATEWAYS_PER_ORG = 100;
/** Open sessions per gateway; past it the least recently used session ends. */
const MAX_SESSIONS = 100;
/** Open sessions of one org in one process, over all its endpoints and keys: a new one past it gets 429. */
export const MAX_SESSIONS_PER_ORG = 200;

interface Hosted {
  /** The caller of the latest request (the same key each time): decisions are made as it. */
  caller: Caller;
  orgId: OrgId;
  endpointId: string;
  /** The hash of the API key the gateway acts as (revocations name keys by it). */
  keyHash: string;
  /** Ends the gateway when its key expires (a key made with `expires_at`). */
  expiry?: ReturnType<typeof setTimeout>;
  gateway: Gateway;
  router: McpSessionRouter;
  agentops: AgentOps;
}

type Inject = FastifyInstance['inject'];

/** The policies module's evaluate, as the route calls it (composition root wires `ctx.evaluator.evaluate`). */
export type EvaluateFn = (
  caller: Caller,
  input: EvaluateBody,
  done: (error: unknown, answer?: Record<string, unknown>) => void,
) => void;

/** What the SDK reads of a `fetch` answer: the status, a header, the text. */
function answer(status: number, text: string, headers: Record<string, unknown> = {}): Response {
  return {
    status,
    ok: status < 400,
    headers: {
      get: (name: string) => {
        const v = headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
      },
    },
    text: async () => text,
  } as unknown as Response;
}

/** An error as the route's problem+json would carry it (the SDK reads `code`, `detail` and the status). */
function problem(error: unknown): Response {
  const e = error instanceof AppError ? error : new AppError('internal', 'The decision failed.');
  return answer(STATUS_BY_CODE[e.code], JSON.stringify(problemBody(e.code, e.message, e.details.errors)), {
    'content-type': 'application/problem+json',
  });
}

/**
 * The SDK's `fetch` for one hosted gateway. A decision (`POST /v1/policy/evaluate`, the call every
 * `tools/call` waits on) is the policies module's `evaluate` with the caller the MCP request authenticated:
 * through `app.inject` it cost 0.4 ms per call (a fake request through every hook, on this 2-CPU VM). The
 * rest (telemetry, approval polls) is rare or batched, and goes through this app's routes (`app.inject`),
 * authenticated with the client's key like any request.
 */
function hubFetch(inject: Inject, evaluate: EvaluateFn, callerOf: () => Caller): typeof fetch {
  return (async (input: string | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    if (url.pathname === '/v1/policy/evaluate' && init.method === 'POST') {
      const parsed = EvaluateBody.safeParse(JSON.parse(String(init.body)));
      if (!parsed.success)
        return problem(
          new AppError('validation_failed', 'The action is not valid.', { errors: fieldErrorsOf(parsed.error.issues) }),
        );
      return new Promise<Response>((resolve) =>
        evaluate(callerOf(), parsed.data, (error, decision) =>
          resolve(decision ? answer(200, JSON.stringify(decision)) : problem(error)),
        ),
      );
    }
    const res = await inject({
      method: (init.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers: init.headers as Record<string, string>,
      payload: init.body as string | undefined,
    });
    return answer(res.statusCode, res.payload, res.headers);
  }) as typeof fetch;
}

/**
 * What an MCP client is told when the upstream's name was refused or did not resolve: one sentence for both,
 * without the addresses (the guard's own message names them, and a tenant could otherwise map the hub's
 * internal DNS by registering names). The detail goes to the hub's log.
 */
export function upstreamFailure(e: Error, host: string): Error {
  const codes = new Set<unknown>();
  for (let c: unknown = e; c instanceof Error && codes.size < 5; c = c.cause) codes.add((c as { code?: unknown }).code);
  if (!codes.has('EGRESS_REFUSED') && !codes.has('ENOTFOUND')) return e;
  return new Error(`${host} does not resolve to an address this hub connects to`);
}

const bearerOf = (request: FastifyRequest) => /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();

export function createMcpHosting(deps: {
  endpoints: Pick<McpEndpointService, 'connection' | 'get'>;
  egress: Pick<EgressGuard, 'checkUrl' | 'lookup'>;
  inject: Inject;
  evaluate: EvaluateFn;
  log: { warn(obj: object, msg: string): void };
  /**
   * Gateways (endpoint × API key) this process keeps (HUB_MCP_GATEWAYS); past it the least recently used one
   * without an open session is closed, and when every one has sessions a new one gets 429 (one org never ends
   * another org's sessions).
   */
  maxGateways: number;
}) {
  const { maxGateways } = deps;
  /** By `org endpoint key`, in order of last use. */
  const hosted = new Map<string, Hosted>();
  /** Gateways being made: concurrent first requests share one. */
  const making = new Map<string, Promise<Hosted>>();

  async function close(key: string, h: Hosted) {
    hosted.delete(key);
    clearTimeout(h.expiry);
    await h.router.close().catch(() => {});
    await h.gateway.close().catch(() => {});
    await h.agentops.shutdown().catch(() => {});
  }

  async function make(caller: Caller, apiKey: string, endpointId: string): Promise<Hosted> {
    const { endpoint, headers } = await deps.endpoints.connection(caller.orgId, endpointId);
    const log = (line: string) => deps.log.warn({ mcp_endpoint: endpoint.id }, line);
    let self: Hosted | undefined;
    const agentops = createAgentOps({
      hubUrl: 'http://hub.internal',
      apiKey,
      agent: endpoint.agent,
      flushIntervalMs: 200,
      policyFailure: 'closed',
      fetch: hubFetch(deps.inject, deps.evaluate, () => self?.caller ?? caller),
      logger: { warn: log },
    });
    const gateway = createGateway({
      agentops,
      agent: endpoint.agent,
      govern: { resources: endpoint.govern.includes('resources'), prompts: endpoint.govern.includes('prompts') },
      log,
      upstream: (init) => {
        // Checked at each connection: HUB_EGRESS_ALLOW may have changed since the endpoint was registered.
        const refusal = deps.egress.checkUrl(endpoint.upstream_url);
        if (refusal) return Promise.reject(new Error(`the upstream URL is ${refusal}`));
        return connectUpstream({ url: endpoint.upstream_url, headers, lookup: deps.egress.lookup }, init).catch(
          (e: Error) => {
            const told = upstreamFailure(e, new URL(endpoint.upstream_url).hostname);
            if (told !== e) log(`the upstream could not be reached: ${e.message}`);
            throw told;
          },
        );
      },
    });
    self = {
      caller,
      orgId: caller.orgId,
      endpointId,
      keyHash: hashApiKey(apiKey),
      gateway,
      agentops,
      // 1 MiB of events kept per session for resumption (the CLI gateway keeps 4): up to 200 sessions per org.
      router: createSessionRouter(gateway, { maxSessions: MAX_SESSIONS, replay: { bytes: 1024 * 1024 } }),
    };
    return self;
  }

  /** Closes the gateway once its key has expired (timers run at most ~24 days ahead: re-armed until then). */
  function endAtExpiry(key: string, h: Hosted, at: number) {
    const wait = at - Date.now();
    if (wait <= 0) return void close(key, h);
    h.expiry = setTimeout(() => endAtExpiry(key, h, at), Math.min(wait, 2 ** 31 - 1));
    h.expiry.unref();
  }

  async function hostedFor(caller: Caller, apiKey: string, endpointId: string): Promise<Hosted> {
    const key = `${caller.orgId} ${endpointId} ${caller.keyId}`;
    const known = hosted.get(key);
    if (known) {
      hosted.delete(key);
      hosted.set(key, known);
      return known;
    }
    let pending = making.get(key);
    if (!pending) {
      pending = make(caller, apiKey, endpointId).finally(() => making.delete(key));
      making.set(key, pending);
      const h = await pending;
      const own = [...hosted].filter(([, x]) => x.orgId === caller.orgId);
      const evict =
        own.length >= MAX_GATEWAYS_PER_ORG
          ? own[0]
          : hosted.size >= maxGateways
            ? [...hosted].find(([, x]) => x.router.size === 0)
            : undefined;
      if (!evict && own.length < MAX_GATEWAYS_PER_ORG && hosted.size >= maxGateways) {
        void close(key, h);
        throw new AppError('rate_limited', 'This hub process serves the most MCP gateways it may; retry later.', {
          retryAfterS: 60,
        });
      }
      if (evict) void close(evict[0], evict[1]);
      hosted.set(key, h);
      if (caller.keyExpiresAt !== undefined) endAtExpiry(key, h, caller.keyExpiresAt);
      return h;
    }
    return pending;
  }

  return {
    /** Answers one MCP request of the endpoint (404 for another org's id, before anything is hijacked). */
    async serve(request: FastifyRequest, reply: FastifyReply, caller: Caller, endpointId: string): Promise<void> {
      const apiKey = bearerOf(request);
      // The gateway asks the hub with the client's own key, so the client must have come with one (another
      // org's endpoint is still a 404 first).
      if (!caller.keyId || !apiKey) {
        await deps.endpoints.get(caller.orgId, endpointId);
        throw new AppError('forbidden', 'MCP clients connect with an API key: Authorization: Bearer ahk_…');
      }
      // Fastify has read the body: a JSON `null` must not send the router to read the request again.
      if (request.method === 'POST' && (request.body === null || request.body === undefined))
        throw new AppError('validation_failed', 'The body must be a JSON-RPC message.', {
          errors: [{ path: '(root)', message: 'expected a JSON-RPC message or an array of them' }],
        });
      const opening = request.headers['mcp-session-id'] === undefined;
      // A new session checks that the endpoint still exists (one deleted through another hub process leaves this
      // one's gateway cached until the control bus's message arrives).
      if (opening) await deps.endpoints.get(caller.orgId, endpointId);
      const h = await hostedFor(caller, apiKey, endpointId);
      h.caller = caller;
      // The org's share of this process, counted after the last `await`: the router registers a new session
      // before it next yields, so concurrent `initialize` requests cannot all pass the count.
      if (opening) {
        let open = 0;
        for (const x of hosted.values()) if (x.orgId === caller.orgId) open += x.router.size;
        if (open >= MAX_SESSIONS_PER_ORG)
          throw new AppError(
            'rate_limited',
            `Your organization has ${open} open MCP sessions on this hub process, the most it may: end some (DELETE with their Mcp-Session-Id) and retry.`,
            { retryAfterS: 60 },
          );
      }
      reply.hijack();
      await h.router.handle(request.raw, reply.raw, request.body);
    },

    /** Ends the endpoint's sessions (it was deleted, through this process or another). */
    closeEndpoint(orgId: string, id: string): void {
      for (const [key, h] of hosted) if (h.orgId === orgId && h.endpointId === id) void close(key, h);
    },

    /** Ends the sessions opened with an API key (it was revoked, or its org deleted). */
    closeKey(keyHash: string): void {
      for (const [key, h] of hosted) if (h.keyHash === keyHash) void close(key, h);
    },

    /** Ends every session (the hub is closing). */
    async close(): Promise<void> {
      await Promise.all([...hosted].map(([key, h]) => close(key, h)));
    },
  };
}

export type McpHosting = ReturnType<typeof createMcpHosting>;
