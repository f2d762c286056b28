/**
 * @module integrations/ai-sdk
 * A Vercel AI SDK (`ai` ≥ 6) telemetry integration: every step (model call) becomes an `llm_call` event with
 * its model, provider and tokens, and every tool execution a `tool_called` + `tool_result` pair. Inside
 * `agentops.run()` the events join that run; otherwise each `generateText`/`streamText` call is a run of its
 * own (named by `functionId`). Nothing here imports `ai`: the hooks are typed structurally.
 *
 * @example
 * import { generateText } from 'ai';
 * import { agentOpsTelemetry } from '@agentops-hub/sdk/ai-sdk';
 * await generateText({ model, prompt,
 *   experimental_telemetry: { isEnabled: true, functionId: 'draft-email', integrations: agentOpsTelemetry(agentops) } });
 */
import { aiSdkProvider, aiSdkUsage, fieldsOf } from '@agentops-hub/contracts/ai-sdk-usage';
import type { AgentOps, RunHandle } from '../client.ts';

interface ModelInfo {
  provider: string;
  modelId: string;
}
/** Read by the mapping shared with the hub's OTLP receiver (`@agentops-hub/contracts/ai-sdk-usage`). */
interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  inputTokenDetails?: { cacheReadTokens?: number; cacheWriteTokens?: number };
  outputTokenDetails?: { reasoningTokens?: number };
  reasoningTokens?: number;
  cachedInputTokens?: number;
}
interface ToolCallInfo {
  toolName: string;
  toolCallId: string;
  input?: unknown;
}

/** The hooks of the AI SDK's `TelemetryIntegration` this integration implements. */
export interface AgentOpsTelemetryIntegration {
  onStart(event: { functionId?: string; prompt?: unknown; metadata?: Record<string, unknown> }): void;
  onStepStart(event: { stepNumber: number }): void;
  onToolCallFinish(event: {
    toolCall: ToolCallInfo;
    durationMs: number;
    success: boolean;
    output?: unknown;
    error?: unknown;
  }): void;
  onStepFinish(event: { model: ModelInfo; usage: Usage; response?: { modelId?: string } }): void;
  onFinish(event: { text?: string; finishReason?: string }): void;
}

export interface AgentOpsTelemetryOptions {
  /** Record on this run instead of the current one (or a run per call). */
  run_id?: string;
  /** Record prompts and texts as the run's input and output when this integration starts the run. Default true. */
  recordIO?: boolean;
}

/**
 * Creates one integration. Use one per call (`integrations: agentOpsTelemetry(agentops)`): a call that is not
 * inside a run gets its own run, kept on the instance.
 */
export function agentOpsTelemetry(
  agentops: AgentOps,
  opts: AgentOpsTelemetryOptions = {},
): AgentOpsTelemetryIntegration {
  let runId = opts.run_id;
  let own: RunHandle | undefined;
  let stepStarted = 0;
  const recordIO = opts.recordIO !== false;
  const target = () => runId ?? agentops.currentRun()?.id;

  return {
    onStart(e) {
      if (runId || agentops.currentRun()) return;
      own = agentops.recordRunStart({
        name: e.functionId ?? 'ai-sdk',
        input: recordIO && typeof e.prompt === 'string' ? { prompt: e.prompt } : undefined,
      });
      runId = own.id;
    },
    onStepStart() {
      stepStarted = Date.now();
    },
    onStepFinish(e) {
      const id = target();
      if (!id) return;
      // The same reading as the hub's OTLP mapping of `ai.usage.*`, so both paths count a step alike.
      const usage = aiSdkUsage(fieldsOf(e.usage)) ?? { input_tokens: 0, output_tokens: 0 };
      agentops.recordLlmCall({
        run_id: id,
        model: e.response?.modelId || e.model.modelId,
        provider: aiSdkProvider(e.model.provider),
        ...usage,
        ...(stepStarted ? { duration_ms: Date.now() - stepStarted } : {}),
      });
    },
    onToolCallFinish(e) {
      const id = target();
      if (!id) return;
      agentops.recordToolCall({
        run_id: id,
        tool: e.toolCall.toolName,
        args: e.toolCall.input,
        ...(e.success ? { result: e.output } : { error: e.error }),
        duration_ms: e.durationMs,
      });
    },
    onFinish(e) {
      if (!own) return;
      own.end({ status: 'completed', output: recordIO ? { text: e.text, finish_reason: e.finishReason } : undefined });
      own = undefined;
      if (!opts.run_id) runId = undefined;
    },
  };
}
