/**
 * @module langfuse-otel-attributes
 * A shim for spans from Langfuse's OTel SDKs (`@langfuse/otel` + `@langfuse/tracing` v4/v5, Python
 * `langfuse` v3), which write an observation's fields as `langfuse.*` attributes. The shared span mapping
 * (otlp/genai-mapping.ts) reads the GenAI conventions, so each Langfuse attribute is copied to its GenAI
 * twin — only where the span does not carry the twin already, so an instrumentation's own `gen_ai.*` always
 * wins. Pure; used only on `/api/public/otel/v1/traces`. If the shared mapping learns `langfuse.*` itself,
 * this file goes.
 *
 * | Langfuse attribute | becomes |
 * | --- | --- |
 * | `langfuse.observation.type` generation / tool / agent / embedding | `gen_ai.operation.name` chat / execute_tool / invoke_agent / embeddings |
 * | `langfuse.observation.model.name` | `gen_ai.request.model` |
 * | `langfuse.observation.usage_details` (JSON) | `gen_ai.usage.input_tokens`, `output_tokens`, cache read/write, reasoning |
 * | `langfuse.observation.cost_details` (JSON) | `gen_ai.usage.cost` |
 * | `langfuse.observation.input` / `output` | `gen_ai.input.messages` / `output.messages` (generation), tool call arguments / result (tool), else `input.value` / `output.value` |
 * | `langfuse.trace.input` / `output` | `input.value` / `output.value` (the run's input and output) |
 * | `langfuse.environment` | `deployment.environment.name` |
 * | `langfuse.observation.level` ERROR + `status_message` | an ERROR span status |
 *
 * The agent, when no span attribute names one (`gen_ai.agent.name`…): `langfuse.trace.metadata.agent`, then
 * the resource's `service.name`, then the Basic username when it is not a Langfuse key (`pk-lf-…`), then
 * `langfuse.trace.name`. It is given to the mapping as the span's `service.name`.
 *
 * @example
 * adaptLangfuseSpans(decoded, { username: 'support-bot' });
 */
import { agentIdentityOf } from '../otlp/genai-attributes.ts';
import type { DecodedTraces, OtlpSpan } from '../otlp/otlp-decode.ts';
import { usageOfLangfuse } from './langfuse-usage.ts';

const OPERATION_BY_TYPE: Record<string, string> = {
  generation: 'chat',
  tool: 'execute_tool',
  agent: 'invoke_agent',
  embedding: 'embeddings',
};

/** The Basic username names an agent unless it is a Langfuse public key (which says nothing about the agent). */
export function agentOfUsername(username: string | undefined): string | undefined {
  const u = username?.trim();
  return u && !/^pk-lf-/i.test(u) ? u.slice(0, 200) : undefined;
}

export function adaptLangfuseSpans(decoded: DecodedTraces, opts: { username?: string }): DecodedTraces {
  const userAgent = agentOfUsername(opts.username);
  return { ...decoded, spans: decoded.spans.map((s) => adaptSpan(s, userAgent)) };
}

function adaptSpan(span: OtlpSpan, userAgent: string | undefined): OtlpSpan {
  const a = span.attributes;
  const type = str(a['langfuse.observation.type'])?.toLowerCase();
  const isLangfuse = type !== undefined || Object.keys(a).some((k) => k.startsWith('langfuse.'));
  if (!isLangfuse) return span;

  const add: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== '' && a[key] === undefined) add[key] = value;
  };
  if (type && OPERATION_BY_TYPE[type]) set('gen_ai.operation.name', OPERATION_BY_TYPE[type]);
  set('gen_ai.request.model', str(a['langfuse.observation.model.name']));

  const usage = usageOfLangfuse({ usageDetails: json(a['langfuse.observation.usage_details']) });
  if (usage) {
    set('gen_ai.usage.input_tokens', usage.input_tokens);
    set('gen_ai.usage.output_tokens', usage.output_tokens);
    set('gen_ai.usage.cache_read_input_tokens', usage.cached_input_tokens);
    set('gen_ai.usage.cache_creation_input_tokens', usage.cache_write_tokens);
    set('gen_ai.usage.reasoning_tokens', usage.reasoning_tokens);
  }
  const cost = json(a['langfuse.observation.cost_details']);
  if (cost && typeof cost === 'object' && !Array.isArray(cost)) {
    const c = cost as Record<string, unknown>;
    const total = typeof c.total === 'number' ? c.total : sumNumbers(c);
    set('gen_ai.usage.cost', total);
  }

  const input = a['langfuse.observation.input'];
  const output = a['langfuse.observation.output'];
  if (type === 'generation') {
    set('gen_ai.input.messages', messageList(input));
    set('gen_ai.output.messages', messageList(output));
  } else if (type === 'tool') {
    set('gen_ai.tool.call.arguments', input);
    set('gen_ai.tool.call.result', output);
  } else {
    set('input.value', input);
    set('output.value', output);
  }
  set('input.value', a['langfuse.trace.input']);
  set('output.value', a['langfuse.trace.output']);
  set('deployment.environment.name', str(a['langfuse.environment']));

  const failed = str(a['langfuse.observation.level'])?.toUpperCase() === 'ERROR' && span.status.code !== 2;
  const status = failed ? { code: 2, message: str(a['langfuse.observation.status_message']) } : span.status;

  const agent = agentIdentityOf(a)
    ? undefined
    : (str(a['langfuse.trace.metadata.agent']) ??
      (realServiceName(span) ? undefined : (userAgent ?? str(a['langfuse.trace.name']))));
  const resource = agent ? { ...span.resource, 'service.name': agent } : span.resource;
  return { ...span, attributes: { ...a, ...add }, status, resource };
}

/** OTel SDKs name an unnamed service `unknown_service` (`unknown_service:node`): that names no agent. */
function realServiceName(span: OtlpSpan): string | undefined {
  const name = str(span.resource['service.name']);
  return name && !name.startsWith('unknown_service') ? name : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v : undefined;
}

/** Langfuse stores objects in attributes as JSON text. */
function json(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** Langfuse's generation output is often one message object; the GenAI conventions want a list. */
function messageList(v: unknown): unknown {
  const parsed = json(v);
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? JSON.stringify([parsed]) : v;
}

function sumNumbers(o: Record<string, unknown>): number | undefined {
  const parts = Object.values(o).filter((n): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0);
  return parts.length ? parts.reduce((x, y) => x + y, 0) : undefined;
}
