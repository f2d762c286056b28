/**
 * @module integrations/openai
 * Wraps the official `openai` client so each call records an `llm_call` event: model, provider, tokens
 * (input, output, cached, reasoning) and duration. The hub prices it from its model table. Covers
 * `chat.completions.create` and `responses.create`, streamed or not (a streamed chat completion asks for
 * usage with `stream_options.include_usage` unless the caller set it). The wrapper returns the client's own
 * promises, so `.withResponse()` and friends keep working; nothing here imports `openai`.
 *
 * @example
 * import OpenAI from 'openai';
 * import { wrapOpenAI } from '@agentops-hub/sdk/openai';
 * const openai = wrapOpenAI(new OpenAI(), agentops);
 * await agentops.run('answer', () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages }));
 */
import type { AgentOps } from '../client.ts';
import type { LlmCall } from '../types.ts';

export interface WrapOpenAIOptions {
  /** Record on this run (default: the run the code is executing in). */
  run_id?: string;
  /** The provider name recorded with each call. Default `openai` (set it for OpenAI-compatible servers). */
  provider?: string;
}

type AnyFn = (...args: any[]) => any;

interface UsageLike {
  prompt_tokens?: number;
  completion_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  input_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
}

/** Maps an OpenAI usage object (chat or responses) onto an `llm_call` payload. */
export function openAIUsage(model: string, usage: UsageLike, provider = 'openai'): LlmCall {
  const call: LlmCall = {
    model,
    provider,
    input_tokens: usage.prompt_tokens ?? usage.input_tokens ?? 0,
    output_tokens: usage.completion_tokens ?? usage.output_tokens ?? 0,
  };
  const cached = usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens ?? usage.output_tokens_details?.reasoning_tokens;
  if (cached) call.cached_input_tokens = cached;
  if (reasoning) call.reasoning_tokens = reasoning;
  return call;
}

/**
 * Returns the same client with `chat.completions.create` and `responses.create` recording their usage.
 * Recording never changes what the call returns or throws.
 */
export function wrapOpenAI<C extends object>(client: C, agentops: AgentOps, opts: WrapOpenAIOptions = {}): C {
  const c = client as any;
  if (c.chat?.completions?.create) wrapMethod(c.chat.completions, 'chat', agentops, opts);
  if (c.responses?.create) wrapMethod(c.responses, 'responses', agentops, opts);
  return client;
}

function wrapMethod(target: any, kind: 'chat' | 'responses', agentops: AgentOps, opts: WrapOpenAIOptions) {
  const original: AnyFn = target.create;
  if ((original as { __agentops?: boolean }).__agentops) return;
  const wrapped = function (this: unknown, body: any, ...rest: any[]) {
    // The run is read when the call starts: the response may arrive after the run's callback returned.
    const runId = opts.run_id ?? agentops.currentRun()?.id;
    const started = Date.now();
    const record = (model: string | undefined, usage: UsageLike | undefined | null) => {
      if (!runId || !usage) return;
      agentops.recordLlmCall({
        ...openAIUsage(model ?? body?.model ?? 'unknown', usage, opts.provider),
        duration_ms: Date.now() - started,
        run_id: runId,
      });
    };
    let args = body;
    if (kind === 'chat' && body?.stream && body.stream_options?.include_usage === undefined)
      args = { ...body, stream_options: { ...body.stream_options, include_usage: true } };
    const promise = original.call(this ?? target, args, ...rest);
    // Observe without changing the promise the caller gets (an APIPromise with .withResponse()).
    promise.then(
      (result: any) => {
        try {
          if (result && typeof result === 'object' && body?.stream) observeStream(result, kind, record);
          else if (kind === 'chat') record(result?.model, result?.usage);
          else record(result?.model, result?.usage);
        } catch {
          /* never throw into the agent */
        }
      },
      () => {},
    );
    return promise;
  };
  (wrapped as { __agentops?: boolean }).__agentops = true;
  target.create = wrapped;
}

/** Wraps a stream's iterator: usage arrives in the last chunk (chat) or in `response.completed` (responses). */
function observeStream(
  stream: any,
  kind: 'chat' | 'responses',
  record: (model: string | undefined, usage: UsageLike | undefined) => void,
) {
  const useField = typeof stream.iterator === 'function';
  const make: () => AsyncIterator<any> = useField
    ? stream.iterator.bind(stream)
    : stream[Symbol.asyncIterator].bind(stream);
  const observed = async function* () {
    let model: string | undefined;
    let usage: UsageLike | undefined;
    const it = make();
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const chunk = next.value;
      if (kind === 'chat') {
        model = chunk?.model ?? model;
        if (chunk?.usage) usage = chunk.usage;
      } else if (chunk?.response) {
        model = chunk.response.model ?? model;
        if (chunk.response.usage) usage = chunk.response.usage;
      }
      yield chunk;
    }
    record(model, usage);
  };
  if (useField) stream.iterator = observed;
  else stream[Symbol.asyncIterator] = observed;
}
