/**
 * @module gateway
 * The policy gateway: an MCP server that fronts an upstream MCP server. It lists the upstream's tools as its
 * own, and on every `tools/call` asks the hub's policy engine first (`action.type` = the tool name, the
 * arguments as attributes, the tool's annotations under `action.annotations`). ALLOW forwards the call;
 * REQUIRE_APPROVAL waits for a person (sending progress notifications when the client asked for them); BLOCK
 * and paused agents answer an MCP tool error that names the policy or control. Each client session is one run
 * of the gateway's agent, with `tool_called`, `tool_result` and `external_action` events sent while it runs.
 */
import { type AgentOps, AgentPausedError, PolicyBlockedError, type RunHandle } from '@agentops-hub/sdk';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

export interface GatewayOptions {
  agentops: AgentOps;
  /** A connected client of the upstream MCP server. */
  upstream: Client;
  /** The agent the sessions run as (its name or id in the hub). */
  agent: string;
  /** How long a call waits for a person's approval (ms). Default: until the approval expires. */
  approvalTimeoutMs?: number;
  /** Timeout of one upstream tool call (ms). Default 10 minutes. */
  upstreamTimeoutMs?: number;
  /** Written to with one line per decision that is not a plain ALLOW. */
  log?: (line: string) => void;
}

/** One client session: its MCP server and, from its first tool call, its run. */
export interface GatewaySession {
  server: Server;
  /** Ends the session's run (completed) and sends its telemetry. */
  end(): Promise<void>;
}

const VERSION = '0.1.0';
/** Argument names the action itself uses; an argument of that name is kept as `arg_<name>`. */
const RESERVED = new Set(['type', 'annotations']);

export function createGateway(o: GatewayOptions) {
  const { agentops, upstream } = o;
  const tools = new Map<string, Tool>();
  const sessions = new Set<GatewaySession>();
  const upstreamInfo = upstream.getServerVersion();
  const log = o.log ?? (() => {});

  upstream.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    tools.clear();
    for (const s of sessions) await s.server.sendToolListChanged().catch(() => {});
  });

  async function listAll(): Promise<Tool[]> {
    const all: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await upstream.listTools(cursor ? { cursor } : undefined);
      all.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    for (const t of all) tools.set(t.name, t);
    return all;
  }

  async function toolOf(name: string): Promise<Tool | undefined> {
    if (!tools.has(name)) await listAll().catch(() => {});
    return tools.get(name);
  }

  function actionOf(name: string, args: Record<string, unknown>, tool: Tool | undefined) {
    const action: { type: string; [k: string]: unknown } = { type: name };
    for (const [k, v] of Object.entries(args)) action[RESERVED.has(k) ? `arg_${k}` : k] = v;
    action.annotations = annotationsOf(tool);
    return action;
  }

  const toolError = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

  /** Creates the MCP server of one client session. */
  function createSession(meta: { transport: 'stdio' | 'http'; sessionId?: string } = { transport: 'stdio' }) {
    const server = new Server(
      { name: 'agentops-mcp-gateway', version: VERSION },
      { capabilities: { tools: { listChanged: true } }, instructions: upstream.getInstructions() },
    );
    let run: RunHandle | undefined;
    let ended = false;
    const runOf = () => {
      if (!run) {
        const client = server.getClientVersion();
        run = agentops.recordRunStart({
          agent: o.agent,
          name: `mcp session${client?.name ? ` (${client.name})` : ''}`,
          metadata: {
            source: 'mcp-gateway',
            transport: meta.transport,
            session_id: meta.sessionId,
            client: client ? { name: client.name, version: client.version } : undefined,
            upstream: upstreamInfo ? { name: upstreamInfo.name, version: upstreamInfo.version } : undefined,
          },
        });
      }
      return run;
    };

    server.setRequestHandler(ListToolsRequestSchema, async (req) => {
      const page = await upstream.listTools(req.params?.cursor ? { cursor: req.params.cursor } : undefined);
      for (const t of page.tools) tools.set(t.name, t);
      return page;
    });

    server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
      const name = req.params.name;
      const args = (req.params.arguments ?? {}) as Record<string, unknown>;
      const r = runOf();
      const tool = await toolOf(name);
      const action = actionOf(name, args, tool);
      const readOnly = tool?.annotations?.readOnlyHint === true;
      r.record('tool_called', { tool: name, args, annotations: tool?.annotations });
      const progressToken = req.params._meta?.progressToken;
      let ticker: ReturnType<typeof setInterval> | undefined;
      const started = Date.now();
      try {
        const result = (await r.guard(
          action,
          async () =>
            (await upstream.callTool({ name, arguments: args }, undefined, {
              timeout: o.upstreamTimeoutMs ?? 600_000,
              signal: extra.signal,
            })) as CallToolResult,
          {
            approvalTimeoutMs: o.approvalTimeoutMs,
            signal: extra.signal,
            recordAction: false,
            onApprovalRequired: (d) => {
              log(`${name}: waiting for approval ${d.approval_id} (${d.reasons.map((x) => x.name).join(', ')})`);
              if (progressToken === undefined) return;
              let n = 0;
              const tick = () =>
                void extra
                  .sendNotification({
                    method: 'notifications/progress',
                    params: { progressToken, progress: n++, message: `waiting for approval ${d.approval_id}` },
                  })
                  .catch(() => {});
              tick();
              ticker = setInterval(tick, 10_000);
            },
          },
        )) as CallToolResult | undefined;
        if (result === undefined) {
          // Failsafe pause: the action is logged by the SDK and skipped.
          r.record('tool_result', { tool: name, skipped: true, is_error: true });
          return toolError(`${name} was not run: the agent ${o.agent} is paused (failsafe); the call was only logged`);
        }
        const isError = result.isError === true;
        r.record('tool_result', {
          tool: name,
          is_error: isError,
          result: summarize(result),
          duration_ms: Date.now() - started,
        });
        if (!readOnly)
          r.recordExternalAction({ action, status: isError ? 'failed' : 'done', duration_ms: Date.now() - started });
        return result;
      } catch (e) {
        let text: string;
        if (e instanceof AgentPausedError) text = `${name} was not run: ${e.hold.message} (agent ${o.agent} is paused)`;
        else if (e instanceof PolicyBlockedError) {
          const policies = e.decision.reasons.map((x) => `"${x.name}"${x.message ? ` (${x.message})` : ''}`);
          text = e.decision.unavailable
            ? `${name} was blocked: no policy decision could be obtained (${e.decision.reasons[0]?.message ?? 'hub unreachable'})`
            : `${name} was blocked by policy ${policies.join(', ')}: ${e.message}`;
        } else {
          // The upstream call itself failed (not a policy matter): report it like a tool error.
          text = `${name} failed upstream: ${(e as Error).message}`;
          if (!readOnly) r.recordExternalAction({ action, status: 'failed', error: e });
        }
        r.record('tool_result', { tool: name, is_error: true, error: text, duration_ms: Date.now() - started });
        log(text);
        return toolError(text);
      } finally {
        if (ticker) clearInterval(ticker);
      }
    });

    const session: GatewaySession = {
      server,
      async end() {
        if (ended) return;
        ended = true;
        sessions.delete(session);
        if (run) run.end({ status: 'completed' });
        await agentops.flush();
      },
    };
    sessions.add(session);
    return session;
  }

  return {
    createSession,
    /** Lists (and caches) every upstream tool. */
    listTools: listAll,
    /** Ends every session's run and sends the telemetry. */
    async close() {
      await Promise.all([...sessions].map((s) => s.end()));
      await agentops.shutdown();
    },
  };
}
export type Gateway = ReturnType<typeof createGateway>;

/**
 * A tool's annotations with the MCP defaults filled in, so a rule on them never meets a missing field (which
 * the hub treats as unknown, failing closed): `readOnlyHint` false, `destructiveHint` true unless the tool is
 * read-only, `idempotentHint` false, `openWorldHint` true. The tool's title is kept too.
 */
export function annotationsOf(tool: Tool | undefined): Record<string, unknown> {
  const a = tool?.annotations ?? {};
  const readOnly = a.readOnlyHint === true;
  return {
    ...a,
    readOnlyHint: readOnly,
    destructiveHint: readOnly ? false : a.destructiveHint !== false,
    idempotentHint: readOnly ? true : a.idempotentHint === true,
    openWorldHint: a.openWorldHint !== false,
  };
}

/** A tool result as recorded: text parts kept (up to 2000 chars), other parts named by type. */
function summarize(result: CallToolResult): unknown {
  const parts = (result.content ?? []).map((c) =>
    c.type === 'text' ? (c.text.length > 2000 ? `${c.text.slice(0, 2000)}…` : c.text) : `[${c.type}]`,
  );
  return result.structuredContent ?? parts;
}
