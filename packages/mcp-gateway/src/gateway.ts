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
  type JSONRPCMessage,
  type JSONRPCRequest,
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
import { HttpClientTransport } from './http-client.ts';
import type { HttpSessionTransport } from './http-session.ts';
import { relayToolCall } from './passthrough.ts';
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
  /**
   * Serves the session on this Streamable HTTP transport: its `tools/call`s are relayed as bytes when the
   * upstream is Streamable HTTP too (passthrough.ts); everything else goes through the SDK's `Protocol`.
   */
  serveHttp(transport: HttpSessionTransport): Promise<void>;
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
    /** The `tools/call`s relayed as bytes now, by the client's id: a cancellation aborts one. */
    const passing = new Map<RequestId, AbortController>();

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

    /**
     * Takes a message from the client's Streamable HTTP transport before the `Protocol` sees it: a `tools/call`
     * (relayed as bytes when the upstream is Streamable HTTP), or the cancellation of one.
     */
    function intercept(client: HttpSessionTransport, m: JSONRPCMessage): boolean {
      const msg = m as { id?: RequestId; method?: string; params?: Record<string, any> };
      if (msg.method === 'tools/call' && msg.id !== undefined) {
        const transport = upstream?.transport;
        if (!(transport instanceof HttpClientTransport) || typeof msg.params?.name !== 'string') return false;
        if (passing.has(msg.id)) return false; // a duplicate id: the Protocol answers it as it would
        void passToolCall(client, transport, m as JSONRPCRequest);
        return true;
      }
      if (msg.method === 'notifications/cancelled' && msg.id === undefined) {
        const call = passing.get(msg.params?.requestId);
        if (!call) return false;
        call.abort(msg.params?.reason ?? 'cancelled by the client');
        return true;
      }
      return false;
    }

    /**
     * One `tools/call` relayed as bytes: decided and recorded as on the SDK path (governedToolCall), the upstream's
     * answer written to the client as it came. A refusal or an upstream failure is answered as a tool error; a
     * cancelled call is not answered (as the SDK's `Protocol` does).
     */
    async function passToolCall(client: HttpSessionTransport, transport: HttpClientTransport, m: JSONRPCRequest) {
      const id = m.id;
      const params = m.params as Record<string, any>;
      const abort = new AbortController();
      const extra = {
        requestId: id,
        signal: abort.signal,
        _meta: params._meta,
        sendNotification: (n: Notification) => server.notification(n, { relatedRequestId: id }),
        sendRequest: (r: Request, schema: typeof ResultSchema, opts?: Record<string, unknown>) =>
          server.request(r, schema, { ...opts, relatedRequestId: id }),
      } as unknown as Extra;
      passing.set(id, abort);
      inflight.set(id, extra);
      let answered = false;
      const answer = (json: string) => {
        answered = true;
        client.write(json, id, true);
      };
      try {
        const name = params.name as string;
        const args = (params.arguments ?? {}) as Record<string, unknown>;
        const r = runOf();
        const tool = tools.get(name) ?? (await toolOf(name, extra));
        const result = await governedToolCall(policy, r, { name, args, tool }, extra, async () => {
          const out = await relayToolCall({
            upstream: transport,
            request: m,
            signal: abort.signal,
            timeoutMs: timeout,
            onNotification: (json) => client.write(json, id, false),
            onAnswer: answer,
          });
          return out as CallToolResult;
        });
        if (!answered && !abort.signal.aborted) answer(JSON.stringify({ jsonrpc: '2.0', id, result }));
      } catch (e) {
        const error = { code: (e as { code?: number }).code ?? -32603, message: (e as Error).message };
        if (!answered && !abort.signal.aborted) answer(JSON.stringify({ jsonrpc: '2.0', id, error }));
      } finally {
        passing.delete(id);
        inflight.delete(id);
      }
    }

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
      async serveHttp(transport) {
        transport.intercept = (m) => intercept(transport, m);
        await server.connect(transport);
      },
      async end() {
        if (ended) return;
        ended = true;
        sessions.delete(session);
        for (const call of passing.values()) call.abort('the session ended');
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
