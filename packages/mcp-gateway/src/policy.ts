/**
 * @module policy
 * Where the hub decides: `tools/call` always; `resources/read` and `prompts/get` when the gateway governs them
 * (`--govern resources,prompts`). Each entry gathers the action, asks the hub (through the SDK's `guard`, which
 * also waits for approvals), forwards the request when allowed, and records what happened on the session's run.
 */
import { type AgentOps, AgentPausedError, PolicyBlockedError, type RunHandle } from '@agentops-hub/sdk';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolResult,
  McpError,
  type Notification,
  type Request,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

type Extra = RequestHandlerExtra<Request, Notification>;

export interface PolicyOptions {
  agentops: AgentOps;
  agent: string;
  approvalTimeoutMs?: number;
  log: (line: string) => void;
}

/** Argument names the action itself uses; an argument of that name is kept as `arg_<name>`. */
const RESERVED = new Set(['type', 'annotations']);

/** Error code of a refused `resources/read` / `prompts/get` (JSON-RPC's implementation-defined server range). */
export const POLICY_REFUSED = -32003;

export function toolAction(name: string, args: Record<string, unknown>, tool: Tool | undefined) {
  const action: { type: string; [k: string]: unknown } = { type: name };
  for (const [k, v] of Object.entries(args)) action[RESERVED.has(k) ? `arg_${k}` : k] = v;
  action.annotations = annotationsOf(tool);
  return action;
}

const toolError = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** Why the hub refused, in words a person reading the MCP client understands. */
function refusal(what: string, agent: string, e: unknown): string | undefined {
  if (e instanceof AgentPausedError) return `${what} was not run: ${e.hold.message} (agent ${agent} is paused)`;
  if (e instanceof PolicyBlockedError) {
    const policies = e.decision.reasons.map((x) => `"${x.name}"${x.message ? ` (${x.message})` : ''}`);
    return e.decision.unavailable
      ? `${what} was blocked: no policy decision could be obtained (${e.decision.reasons[0]?.message ?? 'hub unreachable'})`
      : `${what} was blocked by policy ${policies.join(', ')}: ${e.message}`;
  }
  return undefined;
}

/** Sends `notifications/progress` every 10 s while a call waits for a person, when the client gave a token. */
function approvalTicker(o: PolicyOptions, what: string, extra: Extra) {
  let ticker: ReturnType<typeof setInterval> | undefined;
  const progressToken = extra._meta?.progressToken;
  return {
    onApprovalRequired: (d: { approval_id?: string; reasons: { name: string }[] }) => {
      o.log(`${what}: waiting for approval ${d.approval_id} (${d.reasons.map((x) => x.name).join(', ')})`);
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
    stop: () => ticker && clearInterval(ticker),
  };
}

/**
 * One `tools/call`: asks the hub, forwards when allowed, and records `tool_called`, `tool_result` and (for tools
 * that are not read-only) `external_action`. Refusals are MCP tool errors that name the policy or control.
 */
export async function governedToolCall(
  o: PolicyOptions,
  run: RunHandle,
  call: { name: string; args: Record<string, unknown>; tool: Tool | undefined },
  extra: Extra,
  forward: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  const { name, args, tool } = call;
  const action = toolAction(name, args, tool);
  const readOnly = tool?.annotations?.readOnlyHint === true;
  const waiting = approvalTicker(o, name, extra);
  const started = Date.now();
  // The hub is asked first; the call's record is made while the decision is in flight (the upstream is only
  // reached once the hub has allowed the call: `guard` runs `forward` after the decision).
  const decided = run.guard(action, forward, {
    approvalTimeoutMs: o.approvalTimeoutMs,
    signal: extra.signal,
    recordAction: false,
    onApprovalRequired: waiting.onApprovalRequired,
  });
  run.record('tool_called', { tool: name, args, annotations: tool?.annotations });
  try {
    const result = await decided;
    if (result === undefined) {
      // Failsafe pause: the action is logged by the SDK and skipped.
      run.record('tool_result', { tool: name, skipped: true, is_error: true });
      return toolError(`${name} was not run: the agent ${o.agent} is paused (failsafe); the call was only logged`);
    }
    const isError = result.isError === true;
    const duration_ms = Date.now() - started;
    // Recorded once the answer is on its way: the records are queued telemetry, the client need not wait for them.
    setImmediate(recordResult, run, { name, action, readOnly, isError, duration_ms, result });
    return result;
  } catch (e) {
    let text = refusal(name, o.agent, e);
    if (text === undefined) {
      // The upstream call itself failed (not a policy matter): report it like a tool error.
      text = `${name} failed upstream: ${(e as Error).message}`;
      if (!readOnly) run.recordExternalAction({ action, status: 'failed', error: e });
    }
    run.record('tool_result', { tool: name, is_error: true, error: text, duration_ms: Date.now() - started });
    o.log(text);
    return toolError(text);
  } finally {
    waiting.stop();
  }
}

/** A successful call's records: its result on the run and, for a tool that is not read-only, the external action. */
function recordResult(
  run: RunHandle,
  r: {
    name: string;
    action: ReturnType<typeof toolAction>;
    readOnly: boolean;
    isError: boolean;
    duration_ms: number;
    result: CallToolResult;
  },
): void {
  run.record('tool_result', {
    tool: r.name,
    is_error: r.isError,
    result: summarize(r.result),
    duration_ms: r.duration_ms,
  });
  if (!r.readOnly)
    run.recordExternalAction({ action: r.action, status: r.isError ? 'failed' : 'done', duration_ms: r.duration_ms });
}

/**
 * One `resources/read` or `prompts/get`: when governed, asks the hub first (`mcp.resource_read` with `uri`,
 * `mcp.prompt_get` with `name` and `arguments`) and answers a refusal as a JSON-RPC error (these methods have no
 * tool-error form). Either way the request is recorded on the run as a `log` event once it is answered.
 */
export async function governedRead<T>(
  o: PolicyOptions,
  run: RunHandle,
  action: { type: 'mcp.resource_read' | 'mcp.prompt_get'; [k: string]: unknown },
  govern: boolean,
  extra: Extra,
  forward: () => Promise<T>,
): Promise<T> {
  const what = action.type === 'mcp.resource_read' ? `reading ${action.uri}` : `prompt ${action.name}`;
  const { type, ...mcp } = action;
  const started = Date.now();
  const done = (extraPayload: Record<string, unknown>) =>
    run.record('log', {
      message: what,
      mcp: { action: type, ...mcp },
      duration_ms: Date.now() - started,
      ...extraPayload,
    });
  if (!govern) {
    try {
      const result = await forward();
      done({ is_error: false });
      return result;
    } catch (e) {
      done({ is_error: true, error: (e as Error).message });
      throw e;
    }
  }
  const waiting = approvalTicker(o, what, extra);
  try {
    const result = await run.guard(action, forward, {
      approvalTimeoutMs: o.approvalTimeoutMs,
      signal: extra.signal,
      recordAction: false,
      onApprovalRequired: waiting.onApprovalRequired,
    });
    if (result === undefined) {
      const text = `${what} was not done: the agent ${o.agent} is paused (failsafe); the request was only logged`;
      done({ is_error: true, skipped: true });
      throw new McpError(POLICY_REFUSED, text);
    }
    done({ is_error: false });
    return result;
  } catch (e) {
    const text = refusal(what, o.agent, e);
    if (text === undefined) {
      if (!(e instanceof McpError && e.code === POLICY_REFUSED)) done({ is_error: true, error: (e as Error).message });
      throw e;
    }
    done({ is_error: true, refused: true, error: text });
    o.log(text);
    throw new McpError(POLICY_REFUSED, text);
  } finally {
    waiting.stop();
  }
}

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

/** The most of a structured result recorded as it is, in characters of JSON (the hub takes events of 64 KiB). */
const MAX_STRUCTURED_CHARS = 16_000;

/**
 * A tool result as recorded: its structured content when it is small enough, else the text parts (each cut at
 * 2000 chars) with other parts named by type. The upstream is not trusted: a structured result too large, or
 * nested too deep to serialize, is left out (the client still gets all of it).
 */
function summarize(result: CallToolResult): unknown {
  const parts = (result.content ?? []).map((c) =>
    c.type === 'text' ? (c.text.length > 2000 ? `${c.text.slice(0, 2000)}…` : c.text) : `[${c.type}]`,
  );
  if (result.structuredContent === undefined) return parts;
  let size = Number.POSITIVE_INFINITY;
  try {
    size = JSON.stringify(result.structuredContent).length;
  } catch {
    // Nested too deep (RangeError) or not serializable: not recorded.
  }
  return size <= MAX_STRUCTURED_CHARS ? result.structuredContent : parts;
}
