/**
 * @module conventions/ai-sdk
 * The Vercel AI SDK's `experimental_telemetry` spans. Every span carries `ai.operationId`:
 * - `ai.generateText`, `ai.streamText`, `ai.generateObject`, `ai.streamObject`: the call as the app made it,
 *   a wrapper whose `ai.usage.*` sums its steps. Never counted: its `*.doGenerate`/`*.doStream` steps are.
 * - `ai.generateText.doGenerate`, `ai.streamText.doStream`, …: one request to the model (an `llm` span).
 * - `ai.toolCall`: one tool execution, `ai.toolCall.name`/`id`/`args`/`result`.
 * - `ai.embed`, `ai.embedMany` and their `doEmbed`: embeddings (a `log` event).
 * Usage fields are read with the mapping the SDK's integration shares (`@agentops-hub/contracts`).
 *
 * @example
 * aiSdkClass({ 'ai.operationId': 'ai.generateText.doGenerate' }); // 'llm'
 */
import { AI_SDK_USAGE_FIELDS } from '@agentops-hub/contracts';

const WRAPPERS = new Set(['ai.generateText', 'ai.streamText', 'ai.generateObject', 'ai.streamObject']);

/** The AI SDK operation of a span, or `undefined` when the span is not the AI SDK's. */
export function aiSdkOperation(attrs: Record<string, unknown>): string | undefined {
  const op = attrs['ai.operationId'];
  return typeof op === 'string' && op.startsWith('ai.') ? op : undefined;
}

/** The class of an AI SDK span (see the module comment). */
export function aiSdkClass(op: string): 'llm' | 'tool' | 'genai' {
  if (op === 'ai.toolCall') return 'tool';
  if (WRAPPERS.has(op) || op.endsWith('.doGenerate') || op.endsWith('.doStream')) return 'llm';
  return 'genai';
}

/** A wrapper span: an `llm` span whose usage is the sum of model calls that are spans of their own. */
export function isAiSdkWrapper(attrs: Record<string, unknown>): boolean {
  const op = aiSdkOperation(attrs);
  return op !== undefined && WRAPPERS.has(op);
}

/** `ai.usage.<field>` attribute names, per normalized field, in the shared order. */
const usageKeys = (paths: readonly string[]) => paths.map((p) => `ai.usage.${p}`);
export const AI_SDK_USAGE_KEYS = {
  input: usageKeys(AI_SDK_USAGE_FIELDS.input),
  output: usageKeys(AI_SDK_USAGE_FIELDS.output),
  total: usageKeys(AI_SDK_USAGE_FIELDS.total),
  cachedInput: usageKeys(AI_SDK_USAGE_FIELDS.cachedInput),
  cacheWrite: usageKeys(AI_SDK_USAGE_FIELDS.cacheWrite),
  reasoning: usageKeys(AI_SDK_USAGE_FIELDS.reasoning),
};

/** The service name OTel SDKs report when none was configured (`unknown_service`, `unknown_service:node`). */
export function isDefaultServiceName(name: string): boolean {
  return name.startsWith('unknown_service');
}
