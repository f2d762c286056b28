/**
 * @module gateway
 * The policy gateway: an MCP server that fronts an upstream MCP server and relays everything between them, in
 * both directions: requests, results and errors, notifications (progress, logging, resource updates, list
 * changes), cancellation, and the upstream's own requests to the client (sampling, elicitation, roots). It
 * declares exactly the upstream's capabilities and adds policy where it matters: every `tools/call` asks the
 * hub first (see policy.ts), and optionally `resources/read` and `prompts/get` do too. Each client session
 * has its own upstream connection (its own subscriptions, log level and server-to-client requests) and is one
 * run of the gateway's agent.
 */
import type { AgentOps, RunHandle } from '@agentops-hub/sdk';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolResult,
  type ClientCapabilities,
  type Implementation,
  InitializedNotificationSchema,
  InitializeRequestSchema,
  LATEST_PROTOCOL_VERSION,
  type ListToolsResult,
  McpError,
  type Notification,
  type Request,
  type RequestId,
  type Result,
  type ResultSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { RelayEndpoint } from './endpoint.ts';
import { governedRead, governedToolCall } from './policy.ts';

export { annotationsOf } from './policy.ts';

/** What the client said in its `initialize`: the upstream connection is opened with the same capabilities. */
export interface UpstreamInit {
  capabilities: ClientCapabilities;
  clientInfo?: Implementation;
}
/** Opens one upstream connection for one client session (see `connectUpstream`). */
export type UpstreamConnector = (init: UpstreamInit) => Promise<Client>;

export interface GatewayOptions {
  agentops: AgentOps;
  /**
   * The upstream: a connector called once per client session (each session gets its own connection, closed
   * when the session ends), or one connected `Client` shared by every session (then the upstream's own
   * requests and notifications go to the newest session: fine for one session, as on stdio).
   */
  upstream: UpstreamConnector | Client;
  /** The agent the sessions run as (its name or id in the hub). */
  agent: string;
  /** Also ask the hub before `resources/read` (`mcp.resource_read`) and `prompts/get` (`mcp.prompt_get`). */
  govern?: { resources?: boolean; prompts?: boolean };
  /** How long a call waits for a person's approval (ms). Default: until the approval expires. */
  approvalTimeoutMs?: number;
  /** Timeout of one relayed request, in either direction (ms). Default 10 minutes. */
  upstreamTimeoutMs?: number;
  /** Written to with one line per decision that is not a plain ALLOW. */
  log?: (line: string) => void;
}

/** One client session: its MCP endpoint and, from its first governed request, its run. */
export interface GatewaySession {
  server: RelayEndpoint;
  /** Called when the upstream ends the session's connection (the session is then closed). */
  onupstreamclose?: () => void;
  /** Ends the session's run (completed), closes its upstream connection and sends the telemetry. */
  end(): Promise<void>;
}

type Extra = RequestHandlerExtra<Request, Notification>;

/**
 * A relayed error keeps its code, message and data. The SDK prefixes `MCP error <code>: ` to every error it
 * receives; without stripping it, each hop would add another prefix.
 */
function relayError(e: unknown): unknown {
  if (!(e instanceof McpError)) return e;
  const message = e.message.replace(/^MCP error -?\d+: /, '');
  return Object.assign(new Error(message), { code: e.code, data: e.data });
}

/**
 * The schema a relayed answer is "parsed" with: none, the answer is passed on as it came. The gateway relays and
 * the client validates; the SDK's `ResultSchema` would only copy the object (a loose object schema) on the hot
 * path. The SDK accepts Zod 3 schemas, whose one method it calls is `safeParse`.
 */
const RELAYED = { safeParse: (data: unknown) => ({ success: true, data }) } as unknown as typeof ResultSchema;

export function createGateway(o: GatewayOptions) {
  const { agentops } = o;
  const sessions = new Set<GatewaySession>();
  const log = o.log ?? (() => {});
  const timeout = o.upstreamTimeoutMs ?? 600_000;
  const policy = { agentops, agent: o.agent, approvalTimeoutMs: o.approvalTimeoutMs, log };

  /** Creates the MCP endpoint of one client session; the upstream is reached when the client initializes. */
  function createSession(meta: { transport: 'stdio' | 'http'; sessionId?: string } = { transport: 'stdio' }) {
    const server = new RelayEndpoint();
    let upstream: Client | undefined;
    let clientInfo: Implementation | undefined;
    let run: RunHandle | undefined;
    let ended = false;
    /** The session's requests being relayed now: the upstream's messages meanwhile belong to them. */
    const inflight = new Map<RequestId, Extra>();
    /** The upstream's tools, for their annotations (filled by the client's own `tools/list` when it can). */
    const tools = new Map<string, Tool>();

    const up = (): Client => {
      if (!upstream) throw new McpError(-32002, 'the session is not initialized');
      return upstream;
    };

    const runOf = (): RunHandle => {
      if (!run) {
        const info = up().getServerVersion();
        run = agentops.recordRunStart({
          agent: o.agent,
          name: `mcp session${clientInfo?.name ? ` (${clientInfo.name})` : ''}`,
          metadata: {
            source: 'mcp-gateway',
            transport: meta.transport,
            session_id: meta.sessionId,
            client: clientInfo ? { name: clientInfo.name, version: clientInfo.version } : undefined,
            upstream: info ? { name: info.name, version: info.version } : undefined,
          },
        });
      }
      return run;
    };

    /**
     * Sends a client request upstream as it came (params, `_meta` included) and returns the upstream's answer
     * as it is. The client's progress token is relayed both ways; its cancellation aborts the upstream request.
     */
    async function forward<T = Result>(request: { method: string; params?: Record<string, unknown> }, extra: Extra) {
      const token = extra._meta?.progressToken;
      inflight.set(extra.requestId, extra);
      try {
        return (await up().request(request as Request, RELAYED, {
          signal: extra.signal,
          timeout,
          resetTimeoutOnProgress: true,
          // The SDK gives the upstream request its own token; progress comes back under the client's.
          onprogress:
            token === undefined
              ? undefined
              : (p) =>
                  void extra
                    .sendNotification({ method: 'notifications/progress', params: { ...p, progressToken: token } })
                    .catch(() => {}),
        })) as T;
      } catch (e) {
        throw relayError(e);
      } finally {
        inflight.delete(extra.requestId);
      }
    }

    /** The one request being relayed, if exactly one: on Streamable HTTP its stream carries related messages. */
    const related = (): Extra | undefined => (inflight.size === 1 ? inflight.values().next().value : undefined);

    /** Relays the upstream's messages to the client: its notifications, and its requests with their answers. */
    function bindUpstream(client: Client) {
      client.fallbackNotificationHandler = async (n) => {
        if (n.method === 'notifications/tools/list_changed') tools.clear();
        const via = related();
        if (via) await via.sendNotification(n as Notification).catch(() => server.notification(n));
        else await server.notification(n);
      };
      client.fallbackRequestHandler = async (req, extra) => {
        const request = { method: req.method, params: req.params } as Request;
        const options = { signal: extra.signal, timeout, resetTimeoutOnProgress: true };
        try {
          const via = related();
          return via
            ? await via.sendRequest(request, RELAYED, options)
            : await server.request(request, RELAYED, options);
        } catch (e) {
          throw relayError(e);
        }
      };
      client.onclose = () => {
        if (ended) return;
        session.onupstreamclose?.();
        void server.close();
      };
    }

    server.setRequestHandler(InitializeRequestSchema, async (req) => {
      const init = { capabilities: req.params.capabilities, clientInfo: req.params.clientInfo };
      clientInfo = req.params.clientInfo;
      try {
        upstream = typeof o.upstream === 'function' ? await o.upstream(init) : o.upstream;
      } catch (e) {
        throw new McpError(-32603, `the gateway cannot reach the upstream MCP server: ${(e as Error).message}`);
      }
      bindUpstream(upstream);
      const requested = req.params.protocolVersion;
      const instructions = upstream.getInstructions();
      return {
        protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION,
        capabilities: upstream.getServerCapabilities() ?? {},
        serverInfo: upstream.getServerVersion() ?? { name: 'agentops-mcp-gateway', version: '0.1.0' },
        ...(instructions ? { instructions } : {}),
      };
    });
    // The gateway's upstream client sent its own `initialized` when it connected.
    server.setNotificationHandler(InitializedNotificationSchema, () => {});

    // Requests are relayed as they came (unknown fields included), so the handlers read the raw message; the
    // upstream validates its own methods. Everything but the four methods below passes through untouched.
    server.fallbackRequestHandler = async (req, extra) => {
      const request = { method: req.method, params: req.params };
      const params = (req.params ?? {}) as Record<string, any>;
      const x = extra as Extra;
      switch (req.method) {
        case 'tools/list': {
          const page = await forward<ListToolsResult>(request, x);
          for (const t of page.tools ?? []) tools.set(t.name, t);
          return page;
        }
        case 'tools/call': {
          if (typeof params.name !== 'string') break;
          const name = params.name;
          const args = (params.arguments ?? {}) as Record<string, unknown>;
          const r = runOf();
          // Known tools are looked up without an await (each is a turn of the event loop on the hot path).
          const tool = tools.get(name) ?? (await toolOf(name, x));
          return governedToolCall(policy, r, { name, args, tool }, x, () => forward<CallToolResult>(request, x));
        }
        case 'resources/read': {
          const action = { type: 'mcp.resource_read' as const, uri: params.uri };
          return governedRead(policy, runOf(), action, o.govern?.resources === true, x, () => forward(request, x));
        }
        case 'prompts/get': {
          const action = { type: 'mcp.prompt_get' as const, name: params.name, arguments: params.arguments ?? {} };
          return governedRead(policy, runOf(), action, o.govern?.prompts === true, x, () => forward(request, x));
        }
      }
      return forward(request, x);
    };
    server.fallbackNotificationHandler = async (n) => {
      await up().notification(n as Notification);
    };

    /** The tool's definition (for its annotations), listing the upstream's tools when it is not known yet. */
    async function toolOf(name: string, extra: Extra): Promise<Tool | undefined> {
      if (tools.has(name)) return tools.get(name);
      let cursor: string | undefined;
      try {
        do {
          const page = (await up().request({ method: 'tools/list', params: cursor ? { cursor } : {} }, RELAYED, {
            signal: extra.signal,
          })) as ListToolsResult;
          for (const t of page.tools ?? []) tools.set(t.name, t);
          cursor = page.nextCursor;
        } while (cursor);
      } catch {
        // Unknown annotations are filled with the MCP defaults (a destructive, open-world tool).
      }
      return tools.get(name);
    }

    const session: GatewaySession = {
      server,
      async end() {
        if (ended) return;
        ended = true;
        sessions.delete(session);
        if (run) run.end({ status: 'completed' });
        if (upstream && typeof o.upstream === 'function') await closeUpstream(upstream);
        await agentops.flush();
      },
    };
    sessions.add(session);
    return session;
  }

  return {
    createSession,
    /** Ends every session's run, closes their upstream connections and sends the telemetry. */
    async close() {
      await Promise.all([...sessions].map((s) => s.end()));
      await agentops.shutdown();
    },
  };
}
export type Gateway = ReturnType<typeof createGateway>;

/** Closes an upstream connection: ends its Streamable HTTP session (DELETE) first, when it has one. */
async function closeUpstream(client: Client): Promise<void> {
  const transport = client.transport as { terminateSession?: () => Promise<void>; sessionId?: string } | undefined;
  if (transport?.terminateSession && transport.sessionId) await transport.terminateSession().catch(() => {});
  await client.close().catch(() => {});
}
