/**
 * @module conventions/messages
 * Prompts and completions, read from whichever shape the instrumentation wrote, into one message list
 * (`{role, content?, tool_calls?, tool_call_id?, finish_reason?}`) that the run and the `llm_call` event
 * carry, so the replay shows them and run search finds them. The shapes, first present wins:
 * 1. GenAI semconv ≥ 1.37: `gen_ai.system_instructions`, `gen_ai.input.messages`, `gen_ai.output.messages`
 *    (JSON strings, each message a list of parts: `text`, `tool_call`, `tool_call_response`).
 * 2. Vercel AI SDK: `ai.prompt.messages`; `ai.response.text`, `ai.response.object`, `ai.response.toolCalls`.
 * 3. OpenInference: `llm.input_messages.N.message.*`, `llm.output_messages.N.message.*` (flattened).
 * 4. OpenLLMetry before the semconv shape: `gen_ai.prompt.N.*`, `gen_ai.completion.N.*` (flattened).
 * 5. GenAI semconv ≤ 1.36 span events: `gen_ai.{system,user,assistant,tool}.message`, `gen_ai.choice`, and
 *    the older `gen_ai.content.prompt`/`gen_ai.content.completion` events.
 * Pure. Bounded: at most `MAX_MESSAGES` messages (the latest), each text clipped to `MAX_TEXT` characters.
 *
 * @example
 * inputMessagesOf(span); // [{ role: 'system', content: 'You are…' }, { role: 'user', content: 'Where is A-1?' }]
 */
import { clip, nonEmpty, parseMaybeJson } from '../genai-attributes.ts';
import type { OtlpSpan } from '../otlp-decode.ts';

export interface ToolCallPart {
  id?: string;
  name: string;
  arguments?: unknown;
}

export interface ChatMessage {
  role: string;
  content?: string;
  tool_calls?: ToolCallPart[];
  tool_call_id?: string;
  finish_reason?: string;
}

const MAX_MESSAGES = 100;
const MAX_TEXT = 16_000;

type Attrs = Record<string, unknown>;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The messages sent to the model, or `undefined` when the span carries none. */
export function inputMessagesOf(s: OtlpSpan): ChatMessage[] | undefined {
  const a = s.attributes;
  return bounded(
    semconvMessages(a['gen_ai.input.messages'], a['gen_ai.system_instructions'], 'user') ??
      aiSdkPrompt(a['ai.prompt.messages']) ??
      flattened(a, 'llm.input_messages.', 'message.') ??
      flattened(a, 'gen_ai.prompt.', '') ??
      eventMessages(s, 'input'),
  );
}

/** The model's answer (text and tool calls), or `undefined` when the span carries none. */
export function outputMessagesOf(s: OtlpSpan): ChatMessage[] | undefined {
  const a = s.attributes;
  return bounded(
    semconvMessages(a['gen_ai.output.messages'], undefined, 'assistant') ??
      aiSdkResponse(a) ??
      flattened(a, 'llm.output_messages.', 'message.') ??
      flattened(a, 'gen_ai.completion.', '') ??
      eventMessages(s, 'output'),
  );
}

/** The tool calls the model asked for in its answer. */
export function toolCallsOf(messages: ChatMessage[] | undefined): ToolCallPart[] | undefined {
  const calls = messages?.flatMap((m) => m.tool_calls ?? []);
  return calls?.length ? calls : undefined;
}

/** Attribute keys the flattened shapes use: read above, so not kept again as unknown attributes. */
export function isMessageKey(key: string): boolean {
  return (
    key.startsWith('llm.input_messages.') ||
    key.startsWith('llm.output_messages.') ||
    key.startsWith('gen_ai.prompt.') ||
    key.startsWith('gen_ai.completion.')
  );
}

// ---------------------------------------------------------------------------------------------------------
// The shapes
// ---------------------------------------------------------------------------------------------------------

/** GenAI semconv ≥ 1.37: `[{role, parts: [{type: 'text', content} | {type: 'tool_call', …} | …]}]`. */
function semconvMessages(raw: unknown, instructions: unknown, role: string): ChatMessage[] | undefined {
  const list = parseMaybeJson(raw);
  const out: ChatMessage[] = [];
  const system = partsText(parseMaybeJson(instructions));
  if (system) out.push({ role: 'system', content: system });
  if (Array.isArray(list)) {
    for (const m of list) {
      if (!isObj(m)) continue;
      const msg: ChatMessage = { role: nonEmpty(m.role) ?? role };
      const parts = Array.isArray(m.parts) ? m.parts : [];
      const texts: string[] = [];
      for (const p of parts) {
        if (!isObj(p)) continue;
        if (p.type === 'tool_call') pushCall(msg, toolCall(p));
        else if (p.type === 'tool_call_response') {
          msg.tool_call_id ??= nonEmpty(p.id);
          texts.push(textOf(p.response ?? p.result));
        } else if (typeof p.content === 'string') texts.push(p.content);
      }
      if (typeof m.content === 'string') texts.push(m.content);
      if (texts.length) msg.content = texts.join('\n');
      const finish = nonEmpty(m.finish_reason);
      if (finish) msg.finish_reason = finish;
      out.push(msg);
    }
  } else if (typeof list === 'string' && list.trim()) out.push({ role, content: list });
  return out.length ? out : undefined;
}

/** Text of `gen_ai.system_instructions`: a list of parts, or a plain string. */
function partsText(v: unknown): string | undefined {
  if (typeof v === 'string') return v || undefined;
  if (!Array.isArray(v)) return undefined;
  const texts = v.map((p) => (isObj(p) && typeof p.content === 'string' ? p.content : '')).filter(Boolean);
  return texts.length ? texts.join('\n') : undefined;
}

/** AI SDK `ai.prompt.messages`: `[{role, content: string | [{type: 'text', text} | {type: 'tool-call', …}]}]`. */
function aiSdkPrompt(raw: unknown): ChatMessage[] | undefined {
  const list = parseMaybeJson(raw);
  if (!Array.isArray(list)) return undefined;
  const out: ChatMessage[] = [];
  for (const m of list) {
    if (!isObj(m)) continue;
    const msg: ChatMessage = { role: nonEmpty(m.role) ?? 'user' };
    if (typeof m.content === 'string') msg.content = m.content;
    else if (Array.isArray(m.content)) {
      const texts: string[] = [];
      for (const p of m.content) {
        if (!isObj(p)) continue;
        if (p.type === 'text' && typeof p.text === 'string') texts.push(p.text);
        else if (p.type === 'tool-call') pushCall(msg, toolCall(p));
        else if (p.type === 'tool-result') {
          msg.tool_call_id ??= nonEmpty(p.toolCallId);
          const output = p.output ?? p.result;
          texts.push(textOf(isObj(output) && 'value' in output ? output.value : output));
        }
      }
      if (texts.length) msg.content = texts.join('\n');
    }
    out.push(msg);
  }
  return out.length ? out : undefined;
}

/** AI SDK answer: `ai.response.text` (or `.object`) and `ai.response.toolCalls`. */
function aiSdkResponse(a: Attrs): ChatMessage[] | undefined {
  const text = nonEmpty(a['ai.response.text']) ?? nonEmpty(a['ai.response.object']);
  const calls = parseMaybeJson(a['ai.response.toolCalls']);
  if (text === undefined && !Array.isArray(calls)) return undefined;
  const msg: ChatMessage = { role: 'assistant' };
  if (text !== undefined) msg.content = text;
  if (Array.isArray(calls)) for (const c of calls) if (isObj(c)) pushCall(msg, toolCall(c));
  const finish = nonEmpty(a['ai.response.finishReason']);
  if (finish) msg.finish_reason = finish;
  return [msg];
}

/**
 * Flattened lists: `<prefix>N.<inner>role`, `<prefix>N.<inner>content`, `<prefix>N.<inner>tool_calls.K.…`.
 * OpenInference nests one level deeper (`message.`, `tool_call.function.name`) than OpenLLMetry.
 */
function flattened(a: Attrs, prefix: string, inner: string): ChatMessage[] | undefined {
  // Cheap check first: most spans have none of these keys, and scanning every key costs more.
  if (a[`${prefix}0.${inner}role`] === undefined && a[`${prefix}0.${inner}content`] === undefined) return undefined;
  const rows = new Map<number, Obj>();
  for (const key in a) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    const index = Number(rest.slice(0, dot));
    if (dot < 1 || !Number.isInteger(index) || index < 0 || index > 10_000) continue;
    let field = rest.slice(dot + 1);
    if (inner && field.startsWith(inner)) field = field.slice(inner.length);
    let row = rows.get(index);
    if (!row) {
      row = {};
      rows.set(index, row);
    }
    row[field] = a[key];
  }
  const out: ChatMessage[] = [];
  for (const i of [...rows.keys()].sort((x, y) => x - y)) {
    const row = rows.get(i)!;
    const msg: ChatMessage = { role: nonEmpty(row.role) ?? 'user' };
    const content = nonEmpty(row.content) ?? contentsText(row);
    if (content !== undefined) msg.content = content;
    const callId = nonEmpty(row.tool_call_id);
    if (callId) msg.tool_call_id = callId;
    const finish = nonEmpty(row.finish_reason);
    if (finish) msg.finish_reason = finish;
    for (const call of flatToolCalls(row)) pushCall(msg, call);
    out.push(msg);
  }
  return out.length ? out : undefined;
}

/** OpenInference multi-part content: `contents.J.message_content.text`. */
function contentsText(row: Obj): string | undefined {
  const texts: string[] = [];
  for (let j = 0; j < 100; j++) {
    const t = row[`contents.${j}.message_content.text`];
    if (t === undefined && row[`contents.${j}.message_content.type`] === undefined) break;
    if (typeof t === 'string') texts.push(t);
  }
  return texts.length ? texts.join('\n') : undefined;
}

/** `tool_calls.K.tool_call.function.name` (OpenInference) or `tool_calls.K.name` (OpenLLMetry). */
function flatToolCalls(row: Obj): ToolCallPart[] {
  const calls: ToolCallPart[] = [];
  for (let k = 0; k < 100; k++) {
    const oi = `tool_calls.${k}.tool_call.`;
    const tl = `tool_calls.${k}.`;
    const name = nonEmpty(row[`${oi}function.name`]) ?? nonEmpty(row[`${tl}name`]);
    if (!name) break;
    const args = row[`${oi}function.arguments`] ?? row[`${tl}arguments`];
    const id = nonEmpty(row[`${oi}id`]) ?? nonEmpty(row[`${tl}id`]);
    calls.push({ name, ...(id ? { id } : {}), ...(args !== undefined ? { arguments: parseMaybeJson(args) } : {}) });
  }
  return calls;
}

const EVENT_ROLES: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

/** GenAI semconv ≤ 1.36 content events on the span (the same events sent as log records go to /v1/logs). */
function eventMessages(s: OtlpSpan, side: 'input' | 'output'): ChatMessage[] | undefined {
  if (s.events.length === 0) return undefined;
  const out: ChatMessage[] = [];
  for (const e of s.events) {
    const a = e.attributes;
    if (side === 'input' && EVENT_ROLES[e.name]) {
      out.push(eventMessage(EVENT_ROLES[e.name], a));
    } else if (side === 'output' && e.name === 'gen_ai.choice') {
      const m = parseMaybeJson(a.message);
      const msg = eventMessage('assistant', isObj(m) ? m : a);
      const finish = nonEmpty(a.finish_reason);
      if (finish) msg.finish_reason = finish;
      out.push(msg);
    } else if (e.name === (side === 'input' ? 'gen_ai.content.prompt' : 'gen_ai.content.completion')) {
      const v = a[side === 'input' ? 'gen_ai.prompt' : 'gen_ai.completion'];
      const list = parseMaybeJson(v);
      if (Array.isArray(list))
        for (const m of list) if (isObj(m)) out.push(eventMessage(nonEmpty(m.role) ?? 'user', m));
      if (typeof list === 'string' && list) out.push({ role: side === 'input' ? 'user' : 'assistant', content: list });
    }
  }
  return out.length ? out : undefined;
}

function eventMessage(defaultRole: string, a: Obj): ChatMessage {
  const msg: ChatMessage = { role: nonEmpty(a.role) ?? defaultRole };
  const content = a.content;
  if (content !== undefined && content !== null) msg.content = textOf(content);
  const id = nonEmpty(a.id) ?? nonEmpty(a.tool_call_id);
  if (id && msg.role === 'tool') msg.tool_call_id = id;
  const calls = parseMaybeJson(a.tool_calls);
  if (Array.isArray(calls)) for (const c of calls) if (isObj(c)) pushCall(msg, toolCall(c));
  return msg;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

/** A tool call in any of the shapes: `{id, name, arguments}`, OpenAI `{id, function: {name, arguments}}`, AI SDK `{toolCallId, toolName, input}`. */
function toolCall(c: Obj): ToolCallPart | undefined {
  const fn = isObj(c.function) ? c.function : undefined;
  const name = nonEmpty(c.name) ?? nonEmpty(fn?.name) ?? nonEmpty(c.toolName);
  if (!name) return undefined;
  const id = nonEmpty(c.id) ?? nonEmpty(c.toolCallId);
  const args = c.arguments ?? fn?.arguments ?? c.input ?? c.args;
  return { name, ...(id ? { id } : {}), ...(args !== undefined ? { arguments: parseMaybeJson(args) } : {}) };
}

function pushCall(msg: ChatMessage, call: ToolCallPart | undefined) {
  if (!call) return;
  msg.tool_calls ??= [];
  msg.tool_calls.push(call);
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  return JSON.stringify(v) ?? '';
}

/** The latest `MAX_MESSAGES`, each text clipped: one export may not turn into megabytes per event. */
function bounded(list: ChatMessage[] | undefined): ChatMessage[] | undefined {
  if (!list) return undefined;
  const kept = list.length > MAX_MESSAGES ? list.slice(-MAX_MESSAGES) : list;
  for (const m of kept) if (m.content !== undefined) m.content = clip(m.content, MAX_TEXT);
  return kept;
}
