/**
 * Drop-in: OpenTelemetry's own OpenAI instrumentation (`@opentelemetry/instrumentation-openai` 0.21, the
 * last for Node 20) pointed at the hub, as docs/ingestion.md tells people to: spans to `/v1/traces`, message
 * content (it sends it as OTLP log records) to `/v1/logs`, both with `Authorization: Bearer ahk_…`.
 * Everything is real — the `openai` client, the instrumentation, the SDK providers and OTLP proto
 * exporters, the hub on a loopback port — except the model, a scripted OpenAI-compatible server on loopback.
 * The run must come out whole whichever signal is exported first.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type OpenAIType from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ListeningHub, type ScriptedModel, startListeningHub, startScriptedModel } from './harness.ts';

let hub: ListeningHub;
let model: ScriptedModel;
let instrumentation: OpenAIInstrumentation;
let unregister: () => void;
let OpenAI: typeof OpenAIType;
beforeAll(async () => {
  process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = 'true';
  instrumentation = new OpenAIInstrumentation();
  unregister = registerInstrumentations({ instrumentations: [instrumentation] });
  // How the patch gets in: the instrumentation hooks `require('openai')` (require-in-the-middle) and, under
  // Node's ESM loader hook, `import 'openai'` (import-in-the-middle). Vitest runs this file as ESM without
  // that hook, so a static `import OpenAI from 'openai'` would be the unpatched class. `openai` is a CommonJS
  // package, so requiring it after `registerInstrumentations` goes through the real require hook, as in a
  // CommonJS app that starts its telemetry first: the instrumentation wraps
  // `OpenAI.Chat.Completions.prototype.create` on the exports it hands back. That happens once per process
  // (a later require returns the cached, already patched module), so the instrumentation is registered once
  // here and each test gives it its own providers.
  ({ OpenAI } = createRequire(import.meta.url)('openai') as { OpenAI: typeof OpenAIType });
  hub = await startListeningHub();
  model = await startScriptedModel([
    { content: 'Parcel kestrel-9 left the Leeds depot at noon.', input_tokens: 1200, output_tokens: 40 },
  ]);
});
afterAll(async () => {
  unregister?.();
  await model?.close();
  await hub?.close();
});

/**
 * The SDK set up as an application would: one tracer and one logger provider for the service (= the agent),
 * OTLP/HTTP protobuf exporters to the hub, given to the instrumentation (content capture is switched on by
 * the documented environment variable, above). Batch processors with a long delay, so the test decides by force-flushing
 * which signal reaches the hub first.
 */
function instrumentedApp(agent: string) {
  const headers = { Authorization: `Bearer ${hub.org.apiKey}` };
  const resource = resourceFromAttributes({ 'service.name': agent });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${hub.url}/v1/traces`, headers }), {
        scheduledDelayMillis: 60_000,
      }),
    ],
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${hub.url}/v1/logs`, headers }),
        scheduledDelayMillis: 60_000,
      }),
    ],
  });
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.setLoggerProvider(loggerProvider);
  const client = new OpenAI({ baseURL: model.baseUrl, apiKey: 'scripted', maxRetries: 0 });
  return {
    client,
    flushSpans: () => tracerProvider.forceFlush(),
    flushLogs: () => loggerProvider.forceFlush(),
    async close() {
      await tracerProvider.shutdown();
      await loggerProvider.shutdown();
    },
  };
}

interface RunDetail {
  id: string;
  agent_name: string;
  status: string;
  input: unknown;
  output: unknown;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  cost_unknown: boolean;
  events: Array<{ id: string; type: string; model?: string; payload: Record<string, unknown> }>;
}

async function runsOf(agent: string) {
  const res = await hub.t.request('GET', `/v1/runs?agent=${encodeURIComponent(agent)}`, { auth: hub.org.apiKey });
  return (res.body.data ?? []) as Array<{ id: string }>;
}

async function detail(id: string): Promise<RunDetail> {
  const res = await hub.t.request('GET', `/v1/runs/${id}`, { auth: hub.org.apiKey });
  expect(res.status).toBe(200);
  return res.body as RunDetail;
}

/** One instrumented chat call, signals exported in `order`; returns the run as the replay shows it. */
async function callAndExport(agent: string, prompt: string, order: 'logs first' | 'spans first') {
  const app = instrumentedApp(agent);
  try {
    const completion = await app.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You answer parcel questions in one sentence.' },
        { role: 'user', content: prompt },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('Parcel kestrel-9 left the Leeds depot at noon.');
    if (order === 'logs first') {
      await app.flushLogs();
      await app.flushSpans();
    } else {
      await app.flushSpans();
      await app.flushLogs();
    }
  } finally {
    await app.close();
  }
  const [run] = await eventually(
    () => runsOf(agent),
    (runs) => runs.length === 1,
  );
  // Cost is priced by enrichment, behind ingestion: wait for it.
  return eventually(
    () => detail(run!.id),
    (r) => r.cost_usd > 0,
  );
}

function expectWholeRun(run: RunDetail, agent: string, prompt: string) {
  expect(run).toMatchObject({ agent_name: agent, status: 'completed', input_tokens: 1200, output_tokens: 40 });
  expect(run.cost_unknown).toBe(false);
  expect(run.cost_usd).toBeGreaterThan(0);
  const llm = run.events.filter((e) => e.type === 'llm_call');
  expect(llm).toHaveLength(1);
  expect(llm[0]!.model ?? llm[0]!.payload.model).toBe('gpt-4o-mini');
  // The replay: the prompt and the completion on the run, and as content events on its timeline.
  expect(JSON.stringify(run.input)).toContain(prompt);
  expect(JSON.stringify(run.input)).toContain('You answer parcel questions in one sentence.');
  expect(JSON.stringify(run.output)).toContain('Parcel kestrel-9 left the Leeds depot at noon.');
  const content = run.events.filter((e) => e.payload.kind === 'gen_ai.content');
  expect(content.map((e) => e.payload.event_name).sort()).toEqual([
    'gen_ai.choice',
    'gen_ai.system.message',
    'gen_ai.user.message',
  ]);
}

async function searchIds(q: string) {
  const res = await hub.t.request('GET', `/v1/runs?q=${encodeURIComponent(q)}`, { auth: hub.org.apiKey });
  expect(res.status).toBe(200);
  return (res.body.data as Array<{ id: string }>).map((r) => r.id);
}

describe('@opentelemetry/instrumentation-openai → /v1/traces + /v1/logs', () => {
  it('logs exported before the spans: the run still gets the prompt, the completion, tokens and cost', async () => {
    const prompt = 'Where is parcel kestrel-9 (ref wagtail-314)?';
    const run = await callAndExport('OtelOpenAiLogsFirst', prompt, 'logs first');
    expectWholeRun(run, 'OtelOpenAiLogsFirst', prompt);
    expect(await searchIds('wagtail-314')).toEqual([run.id]);
  });

  it('logs exported after the spans: the same whole run', async () => {
    const prompt = 'Where is parcel kestrel-9 (ref plover-272)?';
    const run = await callAndExport('OtelOpenAiSpansFirst', prompt, 'spans first');
    expectWholeRun(run, 'OtelOpenAiSpansFirst', prompt);
    expect(await searchIds('plover-272')).toEqual([run.id]);
  });

  it('docs/ingestion.md gives these exact settings', () => {
    const doc = readFileSync(new URL('../../../../docs/ingestion.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## OTLP logs'));
    expect(section.length).toBeGreaterThan(100);
    for (const setting of [
      'POST /v1/logs',
      '@opentelemetry/instrumentation-openai',
      'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true',
      'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=https://hub.example.com/v1/logs',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://hub.example.com/v1/traces',
      'OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer ahk_',
      'OTEL_LOGS_EXPORTER=otlp',
    ]) {
      expect(section).toContain(setting);
    }
  });
});
