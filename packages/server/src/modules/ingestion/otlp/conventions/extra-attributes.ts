/**
 * @module conventions/extra-attributes
 * The attributes of a span that the mapping did not turn into a named field, kept on its event as
 * `attributes` so nothing an instrumentation sends is lost (`llm.invocation_parameters`, `gen_ai.request.temperature`,
 * `ai.prompt.tools`, a user's own `app.tenant`, …). Attributes already shown as named fields (model, usage,
 * messages, tool arguments) are left out so a prompt is stored once, not twice.
 *
 * @example
 * extraAttributes({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.temperature': 0.2 });
 * // → { 'gen_ai.request.temperature': 0.2 }
 */
import { clip, KEYS } from '../genai-attributes.ts';
import { isMessageKey } from './messages.ts';

/** Longer strings are clipped: the whole payload of an event is bounded (payload-limits.ts). */
const MAX_VALUE_CHARS = 4000;
const MAX_KEPT = 200;

const MAPPED = new Set<string>([
  ...Object.values(KEYS).flat(),
  // Classification and identity.
  'gen_ai.operation.name',
  'openinference.span.kind',
  'traceloop.span.kind',
  'llm.request.type',
  'gen_ai.agent.id',
  'gen_ai.agent.name',
  'gen_ai.agent.description',
  'agent.name',
  'traceloop.workflow.name',
  'gen_ai.conversation.id',
  'ai.operationId',
  'ai.telemetry.functionId',
  'ai.model.provider',
  // The AI SDK repeats its operation and function id under these names.
  'operation.name',
  'resource.name',
  // Response facts with fields of their own.
  'gen_ai.response.id',
  'gen_ai.response.finish_reasons',
  'ai.response.id',
  'ai.response.finishReason',
  'gen_ai.tool.type',
  'gen_ai.tool.description',
  // Prompts and completions (messages.ts), and the raw I/O their messages came from.
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'ai.prompt.messages',
  'ai.response.toolCalls',
  'input.mime_type',
  'output.mime_type',
]);

/** Attributes not mapped to a named field, or `undefined` when there are none. */
export function extraAttributes(attrs: Record<string, unknown>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  let n = 0;
  for (const key in attrs) {
    if (MAPPED.has(key) || isMessageKey(key)) continue;
    if (n++ >= MAX_KEPT) break;
    const v = attrs[key];
    out ??= {};
    out[key] = typeof v === 'string' ? clip(v, MAX_VALUE_CHARS) : v;
  }
  return out;
}
