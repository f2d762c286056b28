import { describe, expect, it } from 'vitest';
import { createPricer, loadShippedPriceTable } from './pricing.ts';
import { normalizeUsage } from './usage-normalizer.ts';

describe('normalizeUsage', () => {
  it('reads an OpenAI Chat Completions response (cached and reasoning details)', () => {
    const response = {
      id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      object: 'chat.completion',
      created: 1741569952,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_fc9f1d7035',
    };
    expect(normalizeUsage(response, { provider: 'openai' })).toEqual({
      model: 'gpt-4o-2024-08-06',
      provider: 'openai',
      input_tokens: 2006,
      output_tokens: 300,
      cached_input_tokens: 1920,
      reasoning_tokens: 0,
    });
    // The bare usage object with the model as a hint.
    expect(
      normalizeUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }, { model: 'gpt-4o-mini' }),
    ).toEqual({ model: 'gpt-4o-mini', input_tokens: 10, output_tokens: 5 });
  });

  it('reads an o-series chat usage with reasoning tokens', () => {
    const usage = {
      prompt_tokens: 75,
      completion_tokens: 1186,
      total_tokens: 1261,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 1024 },
    };
    expect(normalizeUsage({ model: 'o4-mini-2025-04-16', usage })).toMatchObject({
      input_tokens: 75,
      output_tokens: 1186,
      reasoning_tokens: 1024,
      cached_input_tokens: 0,
    });
  });

  it('reads an OpenAI Responses API response', () => {
    const response = {
      id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b',
      object: 'response',
      created_at: 1741476542,
      status: 'completed',
      model: 'gpt-5-mini-2025-08-07',
      output: [{ type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: 'Hi' }] }],
      usage: {
        input_tokens: 36,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 87,
        output_tokens_details: { reasoning_tokens: 64 },
        total_tokens: 123,
      },
    };
    expect(normalizeUsage(response)).toEqual({
      model: 'gpt-5-mini-2025-08-07',
      input_tokens: 36,
      output_tokens: 87,
      cached_input_tokens: 0,
      reasoning_tokens: 64,
    });
  });

  it('adds Anthropic cache reads and writes into the input', () => {
    const message = {
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 21,
        cache_creation_input_tokens: 188086,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 188086, ephemeral_1h_input_tokens: 0 },
        output_tokens: 393,
        service_tier: 'standard',
      },
    };
    expect(normalizeUsage(message, { provider: 'anthropic' })).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      provider: 'anthropic',
      input_tokens: 21 + 188086,
      output_tokens: 393,
      cache_write_tokens: 188086,
    });
    const second = {
      input_tokens: 50,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 188086,
      output_tokens: 120,
    };
    expect(normalizeUsage(second, { model: 'claude-sonnet-4-5' })).toEqual({
      model: 'claude-sonnet-4-5',
      input_tokens: 188136,
      output_tokens: 120,
      cached_input_tokens: 188086,
    });
    // Only the TTL split present.
    expect(
      normalizeUsage({
        input_tokens: 3,
        cache_read_input_tokens: null,
        cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 50 },
        output_tokens: 1,
      }),
    ).toMatchObject({ input_tokens: 153, cache_write_tokens: 150 });
  });

  it('reads Gemini usageMetadata, billing thoughts as output', () => {
    const response = {
      candidates: [{ content: { parts: [{ text: 'Hi' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: 1250,
        candidatesTokenCount: 240,
        totalTokenCount: 2590,
        cachedContentTokenCount: 1024,
        thoughtsTokenCount: 1100,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1250 }],
      },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'mAitaLmkHPPlz7IPvtfUqQ4',
    };
    expect(normalizeUsage(response)).toEqual({
      model: 'gemini-2.5-flash',
      input_tokens: 1250,
      output_tokens: 1340,
      cached_input_tokens: 1024,
      reasoning_tokens: 1100,
    });
    // Python SDK / LangChain snake_case, tool-use prompt tokens billed as input.
    expect(
      normalizeUsage(
        { usage_metadata: { prompt_token_count: 10, candidates_token_count: 4, tool_use_prompt_token_count: 6 } },
        { model: 'gemini-2.0-flash', provider: 'gcp.gemini' },
      ),
    ).toEqual({ model: 'gemini-2.0-flash', provider: 'gcp.gemini', input_tokens: 16, output_tokens: 4 });
  });

  it('reads DeepSeek cache hits', () => {
    const usage = {
      prompt_tokens: 1500,
      completion_tokens: 200,
      total_tokens: 1700,
      prompt_cache_hit_tokens: 1280,
      prompt_cache_miss_tokens: 220,
    };
    expect(normalizeUsage({ model: 'deepseek-chat', usage })).toMatchObject({
      input_tokens: 1500,
      cached_input_tokens: 1280,
    });
  });

  it('passes already-normalized usage through, and reads Vercel AI SDK 4 usage', () => {
    const payload = {
      model: 'gpt-4o',
      provider: 'openai',
      input_tokens: 1000,
      output_tokens: 500,
      cached_input_tokens: 200,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
    };
    expect(normalizeUsage(payload, { provider: 'ignored', model: 'ignored' })).toEqual(payload);
    expect(normalizeUsage({ promptTokens: 7, completionTokens: 3, totalTokens: 10 }, { model: 'x' })).toEqual({
      model: 'x',
      input_tokens: 7,
      output_tokens: 3,
    });
  });

  it('returns null for anything without token counts, and drops junk counts', () => {
    for (const raw of [null, undefined, 42, 'usage', [], {}, { model: 'gpt-4o' }, { usage: { foo: 1 } }])
      expect(normalizeUsage(raw), JSON.stringify(raw)).toBeNull();
    expect(normalizeUsage({ prompt_tokens: -5, completion_tokens: 'NaN' })).toBeNull();
    expect(normalizeUsage({ input_tokens: '12', output_tokens: 3.6 })).toEqual({ input_tokens: 12, output_tokens: 4 });
    expect(normalizeUsage({ input_tokens: 10, output_tokens: Number.POSITIVE_INFINITY })).toEqual({
      input_tokens: 10,
      output_tokens: 0,
    });
  });

  it('feeds the pricer: an Anthropic cached call costs what Anthropic bills', () => {
    const pricer = createPricer(loadShippedPriceTable());
    const usage = normalizeUsage({
      model: 'claude-3-5-sonnet-20241022',
      usage: {
        input_tokens: 100,
        cache_read_input_tokens: 10_000,
        cache_creation_input_tokens: 1_000,
        output_tokens: 50,
      },
    })!;
    // 100 × $3/M + 10k × $0.30/M + 1k × $3.75/M + 50 × $15/M = 300k + 3M + 3.75M + 750k nano.
    expect(pricer.quote(usage, Date.parse('2025-01-15T00:00:00Z')).cost_nano).toBe(7_800_000);
  });
});
