import { describe, expect, it } from 'vitest';
import {
  canonicalModel,
  createPricer,
  loadPriceTable,
  loadShippedPriceTable,
  nanoToUsd,
  type PriceEntry,
  usdPerMillionToPico,
  usdToNano,
} from './pricing.ts';

const table = loadShippedPriceTable();
const pricer = createPricer(table);
const NOW = Date.parse('2025-12-01T12:00:00Z');
const M = 1_000_000;

/** Cost in USD of `usage` at `at`, or null. */
const usd = (usage: Parameters<typeof pricer.quote>[0], at = NOW, overrides?: PriceEntry[]) => {
  const q = pricer.quote(usage, at, overrides);
  return q.cost_nano === null ? null : nanoToUsd(q.cost_nano);
};
const io = (model: string, input = M, output = 0, provider?: string) => ({
  model,
  provider,
  input_tokens: input,
  output_tokens: output,
});

describe('price table', () => {
  it('loads the shipped table with exact integer prices', () => {
    const gpt4o = table.entries.find((e) => e.model === 'gpt-4o' && !e.effective_to)!;
    expect(gpt4o).toMatchObject({ provider: 'openai', input: 2_500_000, cached_input: 1_250_000, output: 10_000_000 });
    const mini = table.entries.find((e) => e.model === 'gpt-4o-mini')!;
    expect(mini).toMatchObject({ input: 150_000, cached_input: 75_000, output: 600_000 });
    for (const e of table.entries) {
      for (const k of ['input', 'cached_input', 'cache_write', 'output', 'reasoning'] as const) {
        if (e[k] !== undefined) expect(Number.isSafeInteger(e[k]), `${e.model}.${k}`).toBe(true);
      }
    }
    for (const p of ['openai', 'anthropic', 'google', 'mistral', 'groq', 'together', 'deepseek'])
      expect(table.sources[p], p).toBeTruthy();
  });

  it('converts USD per 1M tokens exactly and refuses a seventh decimal', () => {
    expect(usdPerMillionToPico('0.01875')).toBe(18_750);
    expect(usdPerMillionToPico(0.075)).toBe(75_000);
    expect(usdPerMillionToPico('600')).toBe(600_000_000);
    expect(() => usdPerMillionToPico('0.0000001')).toThrow();
    expect(() => usdPerMillionToPico(-1)).toThrow();
  });

  it('refuses overlapping periods, bad dates and bad prices', () => {
    const entry = { provider: 'x', model: 'm', match: ['m'], input: '1', output: '2', effective_from: '2025-01-01' };
    const t = (models: unknown[]) => ({ unit: 'USD per 1M tokens', sources: {}, models });
    expect(() => loadPriceTable(t([entry]))).not.toThrow();
    expect(() => loadPriceTable(t([entry, { ...entry, effective_from: '2025-06-01' }]))).toThrow(/overlapping/);
    expect(() =>
      loadPriceTable(
        t([
          { ...entry, effective_to: '2025-06-01' },
          { ...entry, effective_from: '2025-06-01' },
        ]),
      ),
    ).not.toThrow();
    expect(() => loadPriceTable(t([{ ...entry, effective_from: '2025-13-45' }]))).toThrow();
    expect(() => loadPriceTable(t([{ ...entry, input: 'free' }]))).toThrow();
    expect(() => loadPriceTable(t([{ ...entry, effective_to: '2024-01-01' }]))).toThrow();
  });
});

describe('matching', () => {
  it('prices gpt-4o at $2.50/M input and $10/M output', () => {
    expect(usd(io('gpt-4o', M, M))).toBe(12.5);
    expect(pricer.quote(io('gpt-4o'), NOW).matched).toEqual({ provider: 'openai', model: 'gpt-4o', source: 'table' });
  });

  it('tolerates provider prefixes, dated names, Bedrock and Vertex ids, and case', () => {
    const same = (name: string, expected: string) =>
      expect(pricer.quote(io(name), NOW).matched?.model, name).toBe(expected);
    same('openai/gpt-4o', 'gpt-4o');
    same('azure/gpt-4o-2024-08-06', 'gpt-4o');
    same('GPT-4o', 'gpt-4o');
    same('gpt-4o-2024-11-20', 'gpt-4o');
    same('models/gemini-1.5-pro', 'gemini-1.5-pro');
    same('models/gemini-1.5-pro-002', 'gemini-1.5-pro');
    same('gemini-2.5-pro-preview-06-05', 'gemini-2.5-pro');
    same('gemini-2.5-flash-lite-preview-09-2025', 'gemini-2.5-flash-lite');
    same('us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet');
    same('anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku');
    same('claude-3-5-sonnet-20241022', 'claude-3-5-sonnet');
    same('claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet');
    same('anthropic/claude-3.5-sonnet', 'claude-3-5-sonnet');
    same('Claude-Sonnet-4-5-20250929', 'claude-sonnet-4-5');
    same('claude-opus-4-1-20250805', 'claude-opus-4-1');
    same('meta-llama/Llama-3.3-70B-Instruct-Turbo', 'Llama-3.3-70B-Instruct-Turbo');
    same('gpt-4.1-2025-04-14', 'gpt-4.1');
    same('o3-mini-2025-01-31', 'o3-mini');
  });

  it('never prices a variant as its base model: the most specific pattern wins', () => {
    expect(pricer.quote(io('gpt-4o-mini'), NOW).matched?.model).toBe('gpt-4o-mini');
    expect(pricer.quote(io('openai/gpt-4o-mini-2024-07-18'), NOW).matched?.model).toBe('gpt-4o-mini');
    expect(usd(io('gpt-4o-mini', M, M))).toBe(0.75);
    expect(pricer.quote(io('gpt-4.1-nano'), NOW).matched?.model).toBe('gpt-4.1-nano');
    expect(pricer.quote(io('o3-pro'), NOW).matched?.model).toBe('o3-pro');
    expect(pricer.quote(io('gemini-2.0-flash-lite-001'), NOW).matched?.model).toBe('gemini-2.0-flash-lite');
    expect(pricer.quote(io('gemini-1.5-flash-8b'), NOW).matched?.model).toBe('gemini-1.5-flash-8b');
    expect(pricer.quote(io('claude-opus-4-5'), NOW).matched?.model).toBe('claude-opus-4-5');
    // The dated gpt-4o snapshot keeps its own (higher) price.
    expect(usd(io('gpt-4o-2024-05-13', M, 0))).toBe(5);
    // Unknown variants are unknown, not their base model's price.
    for (const m of ['gpt-4o-realtime-preview', 'ft:gpt-4o-mini-2024-07-18:acme::abc', 'claude-opus-4-7', 'gpt-5.2'])
      expect(pricer.quote(io(m), NOW), m).toEqual({ cost_nano: null, matched: null });
  });

  it('flags an unknown or missing model with a null cost, never 0', () => {
    expect(pricer.quote(io('my-local-llm'), NOW)).toEqual({ cost_nano: null, matched: null });
    expect(pricer.quote({ input_tokens: 10, output_tokens: 10 }, NOW)).toEqual({ cost_nano: null, matched: null });
    // Before the model existed there is no price in force either.
    expect(pricer.quote(io('gpt-5'), Date.parse('2025-01-01T00:00:00Z')).cost_nano).toBeNull();
  });

  it('prefers the entry of the named provider and still finds hosted models elsewhere', () => {
    expect(pricer.quote(io('claude-sonnet-4', M, 0, 'aws.bedrock'), NOW).matched?.provider).toBe('anthropic');
    expect(pricer.quote(io('gemini-2.5-flash', M, 0, 'gcp.vertex_ai'), NOW).matched?.provider).toBe('google');
    expect(canonicalModel('groq/llama-3.1-8b-instant')).toEqual({
      model: 'llama-3-1-8b-instant',
      providerHint: 'groq',
    });
  });
});

describe('effective dates', () => {
  it('uses the price in force at the event time', () => {
    const before = Date.parse('2025-05-01T00:00:00Z');
    const after = Date.parse('2025-06-10T00:00:00Z');
    expect(usd(io('o3', M, M), before)).toBe(50);
    expect(usd(io('o3', M, M), after - 1)).toBe(50);
    expect(usd(io('o3', M, M), after)).toBe(10);
    // gpt-4o before the alias moved to the 2024-08-06 snapshot.
    expect(usd(io('gpt-4o', M, M), Date.parse('2024-07-01T00:00:00Z'))).toBe(20);
    // DeepSeek: three periods.
    expect(usd(io('deepseek-chat', M, M), Date.parse('2025-03-01T00:00:00Z'))).toBe(1.37);
    expect(usd(io('deepseek-chat', M, M), Date.parse('2025-09-10T00:00:00Z'))).toBe(2.24);
    expect(usd(io('deepseek-chat', M, M), NOW)).toBe(0.7);
  });
});

describe('cost formula', () => {
  it('bills cached input at the cached rate, the rest at the input rate', () => {
    // gpt-4o: 1M input of which 400k cached, 100k output.
    const u = { model: 'gpt-4o', input_tokens: M, cached_input_tokens: 400_000, output_tokens: 100_000 };
    expect(usd(u)).toBe(0.6 * 2.5 + 0.4 * 1.25 + 0.1 * 10);
  });

  it('bills Anthropic cache writes and reads at their rates', () => {
    // claude-sonnet-4-5: 100k input = 10k uncached ($3) + 80k read ($0.30) + 10k written ($3.75); 10k output ($15).
    const u = {
      model: 'claude-sonnet-4-5',
      input_tokens: 100_000,
      cached_input_tokens: 80_000,
      cache_write_tokens: 10_000,
      output_tokens: 10_000,
    };
    expect(pricer.quote(u, NOW).cost_nano).toBe(30_000_000 + 24_000_000 + 37_500_000 + 150_000_000);
  });

  it('falls back to the input rate when a model has no cache rates', () => {
    const u = {
      model: 'gpt-4-turbo',
      input_tokens: M,
      cached_input_tokens: M,
      cache_write_tokens: 0,
      output_tokens: 0,
    };
    expect(usd(u)).toBe(10);
  });

  it('bills reasoning tokens as output unless the model has a reasoning rate', () => {
    const o4 = { model: 'o4-mini', input_tokens: 0, output_tokens: M, reasoning_tokens: 900_000 };
    expect(usd(o4)).toBe(4.4);
    const at = Date.parse('2025-05-01T00:00:00Z');
    const flash = {
      model: 'gemini-2.5-flash-preview-04-17',
      input_tokens: 0,
      output_tokens: M,
      reasoning_tokens: 600_000,
    };
    expect(pricer.quote(flash, at).cost_nano).toBe(400_000 * 600 + 600_000 * 3500);
  });

  it('applies long-context rates above the threshold', () => {
    expect(usd(io('claude-sonnet-4', 200_000, 0))).toBe(0.6);
    expect(pricer.quote(io('claude-sonnet-4', 200_001, M), NOW).cost_nano).toBe(200_001 * 6000 + M * 22_500);
    expect(usd(io('gemini-2.5-pro', 300_000, M))).toBe(0.75 + 15);
  });

  it('clamps impossible subsets instead of going negative', () => {
    const u = { model: 'gpt-4o', input_tokens: 100, cached_input_tokens: 500, output_tokens: 10, reasoning_tokens: 50 };
    // All 100 input tokens cached, all 10 output tokens reasoning.
    expect(pricer.quote(u, NOW).cost_nano).toBe(100 * 1250 + 10 * 10_000);
  });

  it('handles sub-nano costs by rounding half up once per call', () => {
    // gemini-1.5-flash cached input: $0.01875/M = 18.75 nano-USD per token, exact in pico-USD.
    const u = (n: number) => ({ model: 'gemini-1.5-flash', input_tokens: n, cached_input_tokens: n, output_tokens: 0 });
    expect(pricer.quote(u(1), NOW).cost_nano).toBe(19);
    expect(pricer.quote(u(2), NOW).cost_nano).toBe(38);
    expect(pricer.quote(u(4), NOW).cost_nano).toBe(75);
    expect(pricer.quote(u(1000), NOW).cost_nano).toBe(18_750);
  });

  it('sums a million calls with no drift', () => {
    const call = { model: 'gpt-4o-mini', input_tokens: 1234, cached_input_tokens: 1000, output_tokens: 321 };
    const one = pricer.quote(call, NOW).cost_nano!;
    expect(one).toBe(234 * 150 + 1000 * 75 + 321 * 600);
    let total = 0;
    let floatTotal = 0;
    for (let i = 0; i < 1_000_000; i++) {
      total += pricer.quote(call, NOW).cost_nano!;
      floatTotal += 0.0000351 + 0.000075 + 0.0001926; // what float USD would add up
    }
    expect(Number.isSafeInteger(total)).toBe(true);
    expect(total).toBe(one * 1_000_000);
    expect(nanoToUsd(total)).toBe(302.7);
    // The float sum is off: the reason money is integers.
    expect(floatTotal).not.toBe(302.7);
  });

  it('converts USD and nano-USD', () => {
    expect(usdToNano(0.1 + 0.2)).toBe(300_000_000);
    expect(usdToNano(12.5)).toBe(12_500_000_000);
    expect(nanoToUsd(2_500)).toBe(0.0000025);
  });
});

describe('overrides', () => {
  const override = (o: Partial<PriceEntry>): PriceEntry => ({
    provider: null,
    model: 'gpt-4o',
    match: ['gpt-4o'],
    input: usdPerMillionToPico(1),
    output: usdPerMillionToPico(2),
    effective_from: 0,
    id: 'prc_1',
    ...o,
  });

  it('win over the table', () => {
    const q = pricer.quote(io('openai/gpt-4o-2024-08-06', M, M), NOW, [override({})]);
    expect(q).toEqual({
      cost_nano: 3_000_000_000,
      matched: { provider: null, model: 'gpt-4o', source: 'override', id: 'prc_1' },
    });
    // Not for another model: gpt-4o-mini still comes from the table.
    expect(pricer.quote(io('gpt-4o-mini'), NOW, [override({})]).matched?.source).toBe('table');
  });

  it('price models the table does not know, with globs', () => {
    const local = override({ model: 'acme-*', match: ['acme-*'], input: 1000, output: 2000 });
    expect(pricer.quote(io('acme-llm-7b', 1000, 1000), NOW, [local]).cost_nano).toBe(3000);
  });

  it('respect their effective date and provider, and the latest one in force wins', () => {
    const from = Date.parse('2025-11-01T00:00:00Z');
    const later = override({ id: 'prc_2', input: usdPerMillionToPico(0.5), effective_from: from });
    expect(pricer.quote(io('gpt-4o'), NOW, [override({}), later]).matched?.id).toBe('prc_2');
    expect(pricer.quote(io('gpt-4o'), from - 1, [override({}), later]).matched?.id).toBe('prc_1');
    const azureOnly = override({ provider: 'openai', id: 'prc_3' });
    expect(pricer.quote(io('gpt-4o', M, 0, 'azure'), NOW, [azureOnly]).matched?.id).toBe('prc_3');
    expect(pricer.quote(io('gpt-4o', M, 0, 'groq'), NOW, [azureOnly]).matched?.source).toBe('table');
  });
});
