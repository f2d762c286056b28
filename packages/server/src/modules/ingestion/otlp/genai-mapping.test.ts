import { aiSdkProvider, aiSdkUsage, fieldsOf, IngestEvent, IngestRunBody } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import { agentIdentityOf, classifySpan, usageOf } from './genai-attributes.ts';
import { type GenAiMapping, mapGenAiSpans } from './genai-mapping.ts';
import type { OtlpSpan } from './otlp-decode.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const TRACE_2 = '1bf7651916cd43dd8448eb211c80319d';
const ROOT = '1000000000000001';
const CHAT = '2000000000000002';
const TOOL = '3000000000000003';
const SUB = '4000000000000004';
const SUB_CHAT = '5000000000000005';
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function span(p: Partial<OtlpSpan> & { spanId: string }): OtlpSpan {
  return {
    traceId: TRACE,
    name: 'span',
    kind: 1,
    startMs: T0,
    endMs: T0 + 1000,
    attributes: {},
    status: { code: 0 },
    events: [],
    resource: { 'service.name': 'otel-demo' },
    scope: { name: 'test' },
    ...p,
  };
}

const rootAgent = (attrs: Record<string, unknown> = {}, p: Partial<OtlpSpan> = {}) =>
  span({
    spanId: ROOT,
    name: 'invoke_agent OtelBot',
    startMs: T0,
    endMs: T0 + 1500,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'OtelBot', ...attrs },
    status: { code: 1 },
    ...p,
  });

const chat = (attrs: Record<string, unknown> = {}, p: Partial<OtlpSpan> = {}) =>
  span({
    spanId: CHAT,
    parentSpanId: ROOT,
    name: 'chat gpt-4o-mini',
    kind: 3,
    startMs: T0 + 10,
    endMs: T0 + 700,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 2000,
      'gen_ai.usage.output_tokens': 100,
      ...attrs,
    },
    ...p,
  });

const tool = (attrs: Record<string, unknown> = {}, p: Partial<OtlpSpan> = {}) =>
  span({
    spanId: TOOL,
    parentSpanId: ROOT,
    name: 'execute_tool lookup_order',
    startMs: T0 + 800,
    endMs: T0 + 1200,
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup_order',
      'gen_ai.tool.call.id': 'call_1',
      ...attrs,
    },
    ...p,
  });

const byId = (m: GenAiMapping, id: string) => m.events.find((e) => e.event_id === id);
const ofType = (m: GenAiMapping, type: string) => m.events.filter((e) => e.type === type);
const tokens = (m: GenAiMapping) =>
  ofType(m, 'llm_call').reduce(
    (acc, e) => ({
      input: acc.input + (e.payload.input_tokens as number),
      output: acc.output + (e.payload.output_tokens as number),
    }),
    { input: 0, output: 0 },
  );

/** Every output must pass the contracts the ingestion service validates with. */
function expectValid(m: GenAiMapping) {
  for (const r of m.runs) expect(IngestRunBody.safeParse(r).error).toBeUndefined();
  for (const e of m.events) expect(IngestEvent.safeParse(e).error).toBeUndefined();
  expect(m.runSpans).toHaveLength(m.runs.length);
  expect(m.eventSpans).toHaveLength(m.events.length);
}

describe('a GenAI agent trace', () => {
  it('maps the root invoke_agent span to the run, chat to llm_call and execute_tool to tool_called + tool_result', () => {
    const m = mapGenAiSpans([rootAgent(), chat(), tool()]);
    expectValid(m);
    expect(m.runs).toEqual([
      expect.objectContaining({
        run_id: `otel_${TRACE}`,
        agent: 'OtelBot',
        status: 'completed',
        started_at: '2026-03-01T10:00:00.000Z',
        ended_at: '2026-03-01T10:00:01.500Z',
      }),
    ]);
    expect(m.runs[0].parent_run_id).toBeUndefined();
    expect(m.runs[0].metadata).toMatchObject({
      source: 'otlp',
      otel: { trace_id: TRACE, span_id: ROOT, service_name: 'otel-demo' },
    });
    expect(m.events.map((e) => `${e.type}:${e.event_id}`).sort()).toEqual(
      [
        `run_started:otel_${ROOT}`,
        `run_completed:otel_${ROOT}_end`,
        `llm_call:otel_${CHAT}`,
        `tool_called:otel_${TOOL}`,
        `tool_result:otel_${TOOL}_result`,
      ].sort(),
    );
    for (const e of m.events) {
      expect(e.run_id).toBe(`otel_${TRACE}`);
      expect(e.agent).toBe('OtelBot');
    }
    const llm = byId(m, `otel_${CHAT}`)!;
    expect(llm.timestamp).toBe('2026-03-01T10:00:00.010Z');
    expect(llm.parent_id).toBe(`otel_${ROOT}`);
    expect(llm.payload).toMatchObject({
      model: 'gpt-4o-mini',
      provider: 'openai',
      input_tokens: 2000,
      output_tokens: 100,
      duration_ms: 690,
    });
    expect(llm.payload.cost_usd).toBeUndefined();
    expect(byId(m, `otel_${TOOL}`)!.payload).toEqual({ tool: 'lookup_order', call_id: 'call_1' });
    const result = byId(m, `otel_${TOOL}_result`)!;
    expect(result.timestamp).toBe('2026-03-01T10:00:01.200Z');
    expect(result.payload).toMatchObject({ tool: 'lookup_order', call_id: 'call_1', status: 'ok', duration_ms: 400 });
    expect(byId(m, `otel_${ROOT}_end`)!.timestamp).toBe('2026-03-01T10:00:01.500Z');
  });

  it('keeps tool arguments and results (JSON strings parsed) and tool metadata', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      tool({
        'gen_ai.tool.call.arguments': '{"order_id": 42}',
        'gen_ai.tool.call.result': '{"status":"shipped"}',
        'gen_ai.tool.type': 'function',
        'gen_ai.tool.description': 'Looks up an order',
      }),
    ]);
    expect(byId(m, `otel_${TOOL}`)!.payload).toEqual({
      tool: 'lookup_order',
      call_id: 'call_1',
      args: { order_id: 42 },
      tool_type: 'function',
      description: 'Looks up an order',
    });
    expect(byId(m, `otel_${TOOL}_result`)!.payload.result).toEqual({ status: 'shipped' });
  });

  it('takes the response model over the request model and gen_ai.system when gen_ai.provider.name is absent', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      chat({
        'gen_ai.provider.name': undefined,
        'gen_ai.system': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4',
        'gen_ai.response.model': 'claude-sonnet-4-20250514',
      }),
    ]);
    expect(byId(m, `otel_${CHAT}`)!.payload).toMatchObject({
      model: 'claude-sonnet-4-20250514',
      provider: 'anthropic',
      request_model: 'claude-sonnet-4',
    });
  });

  it('reads cache and reasoning tokens, and trusts a cost the client sent', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      chat({
        'gen_ai.usage.cache_read_input_tokens': 1500,
        'gen_ai.usage.cache_creation_input_tokens': 300,
        'gen_ai.usage.reasoning_tokens': 64,
        'gen_ai.usage.cost': 0.0123,
      }),
    ]);
    expectValid(m);
    expect(byId(m, `otel_${CHAT}`)!.payload).toMatchObject({
      input_tokens: 2000,
      output_tokens: 100,
      cached_input_tokens: 1500,
      cache_write_tokens: 300,
      reasoning_tokens: 64,
      cost_usd: 0.0123,
    });
  });

  it('reads the dotted cache attribute variants and numeric strings', () => {
    const usage = usageOf({
      'gen_ai.usage.input_tokens': '120',
      'gen_ai.usage.output_tokens': '30',
      'gen_ai.usage.cache_read.input_tokens': '100',
      'gen_ai.usage.cache_write.input_tokens': 20,
    });
    expect(usage).toEqual({ input_tokens: 120, output_tokens: 30, cached_input_tokens: 100, cache_write_tokens: 20 });
  });

  it('treats generate_content and text_completion as model calls too', () => {
    for (const op of ['generate_content', 'text_completion']) {
      const m = mapGenAiSpans([rootAgent(), chat({ 'gen_ai.operation.name': op })]);
      expect(byId(m, `otel_${CHAT}`)!.type).toBe('llm_call');
      expect(byId(m, `otel_${CHAT}`)!.payload.operation).toBe(op);
    }
  });

  it('maps several traces in one export to separate runs', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      chat(),
      rootAgent({ 'gen_ai.agent.name': 'OtherBot' }, { traceId: TRACE_2 }),
      chat({}, { traceId: TRACE_2 }),
    ]);
    expect(m.runs.map((r) => [r.run_id, r.agent]).sort()).toEqual([
      [`otel_${TRACE}`, 'OtelBot'],
      [`otel_${TRACE_2}`, 'OtherBot'],
    ]);
    expect(
      ofType(m, 'llm_call')
        .map((e) => e.run_id)
        .sort(),
    ).toEqual([`otel_${TRACE}`, `otel_${TRACE_2}`]);
  });

  it('ignores a span sent twice in one export', () => {
    const m = mapGenAiSpans([rootAgent(), chat(), chat()]);
    expect(ofType(m, 'llm_call')).toHaveLength(1);
  });

  it('reads the environment from deployment.environment(.name)', () => {
    const m = mapGenAiSpans([rootAgent({}, { resource: { 'deployment.environment.name': 'production' } })]);
    expect(m.runs[0].environment).toBe('prod');
    const dev = mapGenAiSpans([rootAgent({}, { resource: { 'deployment.environment': 'dev' } })]);
    expect(dev.runs[0].environment).toBeUndefined();
  });

  it('keeps run input and output from gen_ai.input.messages / gen_ai.output.messages', () => {
    const m = mapGenAiSpans([
      rootAgent({
        'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Where is order 42?"}]}]',
        'gen_ai.output.messages': 'Shipped yesterday.',
      }),
    ]);
    // Normalized to one message shape whatever the convention (conventions/messages.ts).
    expect(m.runs[0].input).toEqual([{ role: 'user', content: 'Where is order 42?' }]);
    expect(m.runs[0].output).toEqual([{ role: 'assistant', content: 'Shipped yesterday.' }]);
  });

  it("takes the first call's prompt as the run's input when the agent span carries only its instructions", () => {
    // Pydantic AI's agent span: `gen_ai.system_instructions` and no input messages of its own.
    const m = mapGenAiSpans([
      rootAgent({ 'gen_ai.system_instructions': '[{"type":"text","content":"You answer order questions."}]' }),
      chat({
        'gen_ai.system_instructions': '[{"type":"text","content":"You answer order questions."}]',
        'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"What is order A-1001?"}]}]',
      }),
    ]);
    const input = m.runs[0].input as { role: string; content: string }[];
    expect(input).toContainEqual({ role: 'user', content: 'What is order A-1001?' });
    expect(input).toContainEqual({ role: 'system', content: 'You answer order questions.' });
    // With no model call to take it from, the instructions are still better than nothing.
    const alone = mapGenAiSpans([
      rootAgent({ 'gen_ai.system_instructions': '[{"type":"text","content":"You answer order questions."}]' }),
    ]);
    expect(alone.runs[0].input).toEqual([{ role: 'system', content: 'You answer order questions.' }]);
  });
});

describe('nested agents', () => {
  const sub = (attrs: Record<string, unknown> = {}) =>
    span({
      spanId: SUB,
      parentSpanId: ROOT,
      name: 'invoke_agent Researcher',
      startMs: T0 + 100,
      endMs: T0 + 900,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'Researcher', ...attrs },
    });
  const subChat = () => chat({}, { spanId: SUB_CHAT, parentSpanId: SUB, startMs: T0 + 200, endMs: T0 + 800 });

  it('makes a nested invoke_agent span a child run with its own agent', () => {
    const m = mapGenAiSpans([subChat(), sub(), chat(), rootAgent()]);
    expectValid(m);
    expect(m.runs.map((r) => r.run_id)).toEqual([`otel_${TRACE}`, `otel_${SUB}`]); // parent first
    expect(m.runs[1]).toMatchObject({ agent: 'Researcher', parent_run_id: `otel_${TRACE}`, status: 'completed' });
    expect(byId(m, `otel_${SUB_CHAT}`)).toMatchObject({
      run_id: `otel_${SUB}`,
      agent: 'Researcher',
      parent_id: `otel_${SUB}`,
    });
    expect(byId(m, `otel_${CHAT}`)).toMatchObject({ run_id: `otel_${TRACE}`, agent: 'OtelBot' });
    expect(byId(m, `otel_${SUB}`)).toMatchObject({ type: 'run_started', run_id: `otel_${SUB}` });
  });

  it('gives a child run whose parent has not arrived the trace run as parent', () => {
    const m = mapGenAiSpans([sub(), subChat()]);
    expect(m.runs).toEqual([expect.objectContaining({ run_id: `otel_${SUB}`, parent_run_id: `otel_${TRACE}` })]);
  });

  it('never counts the totals an agent span repeats', () => {
    const m = mapGenAiSpans([
      rootAgent({ 'gen_ai.usage.input_tokens': 4000, 'gen_ai.usage.output_tokens': 200 }),
      sub({ 'gen_ai.usage.input_tokens': 2000, 'gen_ai.usage.output_tokens': 100 }),
      subChat(),
      chat(),
    ]);
    expect(tokens(m)).toEqual({ input: 4000, output: 200 });
  });

  it('treats OpenInference AGENT and Traceloop agent spans below the root as child runs', () => {
    for (const attrs of [
      { 'openinference.span.kind': 'AGENT', 'agent.name': 'Researcher' },
      { 'traceloop.span.kind': 'agent', 'traceloop.entity.name': 'x', 'gen_ai.agent.name': 'Researcher' },
    ]) {
      const m = mapGenAiSpans([rootAgent(), span({ spanId: SUB, parentSpanId: ROOT, attributes: attrs })]);
      expect(m.runs.find((r) => r.run_id === `otel_${SUB}`)).toMatchObject({ agent: 'Researcher' });
    }
  });

  it('does not make create_agent, a nested CHAIN or a Traceloop workflow below the root a child run', () => {
    for (const attrs of [
      { 'gen_ai.operation.name': 'create_agent', 'gen_ai.agent.name': 'Maker' },
      { 'openinference.span.kind': 'CHAIN' },
      { 'traceloop.span.kind': 'workflow' },
    ]) {
      const m = mapGenAiSpans([rootAgent(), span({ spanId: SUB, parentSpanId: ROOT, attributes: attrs })]);
      expect(m.runs).toHaveLength(1);
    }
    const created = mapGenAiSpans([
      rootAgent(),
      span({
        spanId: SUB,
        parentSpanId: ROOT,
        name: 'create_agent Maker',
        attributes: { 'gen_ai.operation.name': 'create_agent' },
      }),
    ]);
    expect(byId(created, `otel_${SUB}`)).toMatchObject({
      type: 'log',
      run_id: `otel_${TRACE}`,
      payload: { operation: 'create_agent' },
    });
  });
});

describe('leaf-only token counting', () => {
  it('counts the nested model calls, not the LLM span that wraps them', () => {
    const wrapper = chat(
      { 'gen_ai.usage.input_tokens': 3000, 'gen_ai.usage.output_tokens': 300 },
      { spanId: SUB, name: 'chat (with retries)' },
    );
    const a = chat(
      { 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 100 },
      { spanId: CHAT, parentSpanId: SUB },
    );
    const b = chat(
      { 'gen_ai.usage.input_tokens': 2000, 'gen_ai.usage.output_tokens': 200 },
      { spanId: SUB_CHAT, parentSpanId: SUB },
    );
    const m = mapGenAiSpans([rootAgent(), b, wrapper, a]);
    expectValid(m);
    expect(tokens(m)).toEqual({ input: 3000, output: 300 });
    const group = byId(m, `otel_${SUB}`)!;
    expect(group.type).toBe('log');
    expect(group.payload).toMatchObject({
      kind: 'llm_group',
      reported_usage: { input_tokens: 3000, output_tokens: 300 },
    });
    expect(byId(m, `otel_${CHAT}`)!.parent_id).toBe(`otel_${SUB}`);
  });

  it('looks through a non-GenAI span between the wrapper and the call', () => {
    const wrapper = chat({}, { spanId: SUB });
    const http = span({
      spanId: '6000000000000006',
      parentSpanId: SUB,
      name: 'POST',
      attributes: { 'http.method': 'POST' },
    });
    const call = chat({}, { spanId: CHAT, parentSpanId: '6000000000000006' });
    const m = mapGenAiSpans([rootAgent(), wrapper, http, call]);
    expect(ofType(m, 'llm_call').map((e) => e.event_id)).toEqual([`otel_${CHAT}`]);
    expect(byId(m, `otel_${CHAT}`)!.parent_id).toBe(`otel_${SUB}`); // the skipped HTTP span is looked through
    expect(m.skipped).toEqual([{ spanId: '6000000000000006', reason: 'no GenAI meaning' }]);
  });
});

describe('OpenInference spans', () => {
  it('maps an AGENT root, LLM and TOOL spans with llm.* attributes', () => {
    const m = mapGenAiSpans([
      span({
        spanId: ROOT,
        name: 'agent',
        attributes: { 'openinference.span.kind': 'AGENT', 'agent.name': 'PhoenixBot', 'input.value': 'hi' },
      }),
      span({
        spanId: CHAT,
        parentSpanId: ROOT,
        name: 'ChatCompletion',
        attributes: {
          'openinference.span.kind': 'LLM',
          'llm.model_name': 'gpt-4o',
          'llm.provider': 'openai',
          'llm.token_count.prompt': 500,
          'llm.token_count.completion': 50,
          'llm.token_count.prompt_details.cache_read': 400,
          'llm.token_count.completion_details.reasoning': 10,
          'llm.cost.total': 0.002,
        },
      }),
      span({
        spanId: TOOL,
        parentSpanId: ROOT,
        name: 'search',
        attributes: {
          'openinference.span.kind': 'TOOL',
          'tool.name': 'search',
          'tool_call.id': 'tc_9',
          'input.value': '{"q":"weather"}',
          'output.value': 'sunny',
        },
      }),
    ]);
    expectValid(m);
    expect(m.runs[0]).toMatchObject({ agent: 'PhoenixBot', input: 'hi' });
    expect(byId(m, `otel_${CHAT}`)!.payload).toMatchObject({
      model: 'gpt-4o',
      provider: 'openai',
      input_tokens: 500,
      output_tokens: 50,
      cached_input_tokens: 400,
      reasoning_tokens: 10,
      cost_usd: 0.002,
    });
    expect(byId(m, `otel_${TOOL}`)!.payload).toEqual({ tool: 'search', call_id: 'tc_9', args: { q: 'weather' } });
    expect(byId(m, `otel_${TOOL}_result`)!.payload).toMatchObject({ result: 'sunny', status: 'ok' });
  });

  it('maps a CHAIN root to the run and other kinds (RETRIEVER, EMBEDDING) to log events', () => {
    const m = mapGenAiSpans([
      span({ spanId: ROOT, name: 'RAG', attributes: { 'openinference.span.kind': 'CHAIN' } }),
      span({
        spanId: CHAT,
        parentSpanId: ROOT,
        name: 'retrieve',
        attributes: { 'openinference.span.kind': 'RETRIEVER' },
      }),
    ]);
    expect(m.runs[0]).toMatchObject({ run_id: `otel_${TRACE}`, agent: 'otel-demo' });
    expect(byId(m, `otel_${CHAT}`)).toMatchObject({
      type: 'log',
      payload: { operation: 'retriever', message: 'retrieve' },
    });
  });
});

describe('OpenLLMetry (Traceloop) spans', () => {
  it('maps a workflow root, llm.request.type spans with prompt/completion tokens, and tools', () => {
    const m = mapGenAiSpans([
      span({
        spanId: ROOT,
        name: 'support.workflow',
        attributes: { 'traceloop.span.kind': 'workflow', 'traceloop.workflow.name': 'support' },
      }),
      span({
        spanId: CHAT,
        parentSpanId: ROOT,
        name: 'openai.chat',
        attributes: {
          'llm.request.type': 'chat',
          'gen_ai.system': 'OpenAI',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.prompt_tokens': 800,
          'gen_ai.usage.completion_tokens': 80,
          'llm.usage.total_tokens': 880,
          'traceloop.workflow.name': 'support',
        },
      }),
      span({
        spanId: TOOL,
        parentSpanId: ROOT,
        name: 'get_ticket.tool',
        attributes: {
          'traceloop.span.kind': 'tool',
          'traceloop.entity.name': 'get_ticket',
          'traceloop.entity.input': '{"args":[7]}',
          'traceloop.entity.output': '{"id":7}',
        },
      }),
    ]);
    expectValid(m);
    expect(m.runs[0].agent).toBe('support');
    expect(byId(m, `otel_${CHAT}`)!.payload).toMatchObject({
      model: 'gpt-4o-2024-08-06',
      provider: 'OpenAI',
      input_tokens: 800,
      output_tokens: 80,
      total_tokens: 880,
      operation: 'chat',
    });
    expect(byId(m, `otel_${TOOL}`)!.payload).toMatchObject({ tool: 'get_ticket', args: { args: [7] } });
    expect(byId(m, `otel_${TOOL}_result`)!.payload).toMatchObject({ result: { id: 7 } });
  });

  it('splits llm.usage.total_tokens when only one side is known, and prices an unsplit total as input', () => {
    expect(usageOf({ 'llm.usage.total_tokens': 100, 'gen_ai.usage.completion_tokens': 30 })).toMatchObject({
      input_tokens: 70,
      output_tokens: 30,
    });
    expect(usageOf({ 'llm.usage.total_tokens': 100 })).toMatchObject({ input_tokens: 100, output_tokens: 0 });
  });

  it('maps Traceloop tasks to log events', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      span({ spanId: TOOL, parentSpanId: ROOT, name: 'summarize.task', attributes: { 'traceloop.span.kind': 'task' } }),
    ]);
    expect(byId(m, `otel_${TOOL}`)).toMatchObject({ type: 'log', payload: { operation: 'task' } });
  });
});

describe('failures', () => {
  it('fails the run on an ERROR status, with the status message', () => {
    const m = mapGenAiSpans([rootAgent({}, { status: { code: 2, message: 'model refused' } }), chat()]);
    expectValid(m);
    expect(m.runs[0]).toMatchObject({ status: 'failed', error: { message: 'model refused' } });
    expect(byId(m, `otel_${ROOT}_end`)).toMatchObject({
      type: 'run_failed',
      payload: { error: { message: 'model refused' } },
    });
    expect(ofType(m, 'run_completed')).toHaveLength(0);
  });

  it('fails the run on an exception event even with an unset status', () => {
    const m = mapGenAiSpans([
      rootAgent(
        {},
        {
          status: { code: 0 },
          events: [
            {
              name: 'exception',
              timeMs: T0 + 1400,
              attributes: {
                'exception.type': 'TimeoutError',
                'exception.message': 'tool timed out',
                'exception.stacktrace': 'at x',
              },
            },
          ],
        },
      ),
    ]);
    expect(m.runs[0]).toMatchObject({
      status: 'failed',
      error: { message: 'tool timed out', type: 'TimeoutError', stacktrace: 'at x' },
    });
  });

  it('names an ERROR without a message by error.type, or says so', () => {
    expect(mapGenAiSpans([rootAgent({ 'error.type': 'rate_limit' }, { status: { code: 2 } })]).runs[0].error).toEqual({
      message: 'rate_limit',
    });
    expect(mapGenAiSpans([rootAgent({}, { status: { code: 2 } })]).runs[0].error).toEqual({
      message: 'the span ended with an error status',
    });
  });

  it('keeps a failed tool or model call on its event without failing a run that recovered', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      tool({}, { status: { code: 2, message: 'order not found' } }),
      chat(
        {},
        { events: [{ name: 'exception', timeMs: T0 + 600, attributes: { 'exception.message': 'overloaded' } }] },
      ),
    ]);
    expect(m.runs[0].status).toBe('completed');
    expect(byId(m, `otel_${TOOL}_result`)!.payload).toMatchObject({
      status: 'error',
      error: { message: 'order not found' },
    });
    expect(byId(m, `otel_${CHAT}`)!.payload).toMatchObject({ status: 'error', error: { message: 'overloaded' } });
  });

  it('fails a child run without failing its parent', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      span({
        spanId: SUB,
        parentSpanId: ROOT,
        attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'Researcher' },
        status: { code: 2, message: 'gave up' },
      }),
    ]);
    expect(m.runs.map((r) => [r.agent, r.status])).toEqual([
      ['OtelBot', 'completed'],
      ['Researcher', 'failed'],
    ]);
  });
});

describe('late and out-of-order spans', () => {
  it('gives the same ids whatever the order of the spans', () => {
    const spans = [rootAgent(), chat(), tool()];
    const ids = (m: GenAiMapping) => [...m.events.map((e) => `${e.event_id}@${e.run_id}`)].sort();
    expect(ids(mapGenAiSpans([...spans].reverse()))).toEqual(ids(mapGenAiSpans(spans)));
  });

  it('attributes children that arrive before their root to the trace run, with the best agent identity', () => {
    // First export: only the children (they end first); the chat span names the agent, the tool does not.
    const early = mapGenAiSpans([chat({ 'gen_ai.agent.name': 'OtelBot' }), tool()]);
    expectValid(early);
    expect(early.runs).toEqual([]);
    expect(byId(early, `otel_${CHAT}`)).toMatchObject({
      run_id: `otel_${TRACE}`,
      agent: 'OtelBot',
      parent_id: `otel_${ROOT}`,
    });
    // No identity anywhere on the chain: the service name.
    expect(byId(early, `otel_${TOOL}`)).toMatchObject({ run_id: `otel_${TRACE}`, agent: 'otel-demo' });

    // Second export: the root. Its run id is the one the early events used, and its run_started id is
    // the parent id they pointed at; together the two exports give what one export gives.
    const late = mapGenAiSpans([rootAgent()]);
    expect(late.runs[0].run_id).toBe(`otel_${TRACE}`);
    expect(byId(late, `otel_${ROOT}`)!.type).toBe('run_started');
    const together = mapGenAiSpans([rootAgent(), chat({ 'gen_ai.agent.name': 'OtelBot' }), tool()]);
    const ids = (ms: GenAiMapping[]) => ms.flatMap((m) => m.events.map((e) => `${e.event_id}@${e.run_id}`)).sort();
    expect(ids([early, late])).toEqual(ids([together]));
  });

  it('produces identical output when the same export is sent again', () => {
    const spans = [rootAgent(), chat(), tool()];
    expect(mapGenAiSpans(spans)).toEqual(mapGenAiSpans(spans));
  });

  it('attributes the events of a grandchild whose parent is missing to the trace run', () => {
    const m = mapGenAiSpans([rootAgent(), chat({}, { spanId: SUB_CHAT, parentSpanId: 'ffffffffffffffff' })]);
    expect(byId(m, `otel_${SUB_CHAT}`)).toMatchObject({ run_id: `otel_${TRACE}`, parent_id: 'otel_ffffffffffffffff' });
  });
});

describe('missing attributes', () => {
  it('makes a plain root span the run, named after the service', () => {
    const m = mapGenAiSpans([
      span({ spanId: ROOT, name: 'POST /chat', kind: 2, attributes: { 'http.method': 'POST' } }),
    ]);
    expectValid(m);
    expect(m.runs).toEqual([
      expect.objectContaining({ run_id: `otel_${TRACE}`, agent: 'otel-demo', status: 'completed' }),
    ]);
  });

  it('falls back to "unknown_service" without a resource', () => {
    const m = mapGenAiSpans([span({ spanId: ROOT, resource: {} })]);
    expect(m.runs[0].agent).toBe('unknown_service');
  });

  it('keeps a model call without a model or usage (model "unknown", zero tokens)', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      span({ spanId: CHAT, parentSpanId: ROOT, attributes: { 'gen_ai.operation.name': 'chat' } }),
    ]);
    expectValid(m);
    expect(byId(m, `otel_${CHAT}`)!.payload).toMatchObject({ model: 'unknown', input_tokens: 0, output_tokens: 0 });
  });

  it('takes the tool name from the span name when gen_ai.tool.name is missing', () => {
    const m = mapGenAiSpans([rootAgent(), tool({ 'gen_ai.tool.name': undefined, 'gen_ai.tool.call.id': undefined })]);
    expect(byId(m, `otel_${TOOL}`)!.payload).toEqual({ tool: 'lookup_order' });
  });

  it('makes a bare chat trace (no agent span) a run with its llm_call', () => {
    const bare = chat({}, { parentSpanId: undefined });
    const m = mapGenAiSpans([bare]);
    expectValid(m);
    expect(m.runs[0]).toMatchObject({ run_id: `otel_${TRACE}`, agent: 'otel-demo' });
    expect(byId(m, `otel_${CHAT}`)!.type).toBe('llm_call');
    expect(byId(m, `otel_${CHAT}_start`)!.type).toBe('run_started');
  });

  it('skips spans without GenAI meaning, and rejects spans with impossible timestamps', () => {
    const m = mapGenAiSpans([
      rootAgent(),
      span({ spanId: TOOL, parentSpanId: ROOT, name: 'SELECT', attributes: { 'db.system': 'postgresql' } }),
      chat({}, { startMs: 1e16, endMs: 1e16 }),
    ]);
    expect(m.skipped.map((s) => s.spanId)).toEqual([TOOL]);
    expect(m.rejected).toEqual([{ spanId: CHAT, reason: 'timestamps out of range' }]);
    expect(byId(m, `otel_${CHAT}`)).toBeUndefined();
  });

  it('makes a non-GenAI root with an agent child two runs: the request and the agent', () => {
    const m = mapGenAiSpans([
      span({ spanId: ROOT, name: 'POST /chat', kind: 2 }),
      span({
        spanId: SUB,
        parentSpanId: ROOT,
        attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'OtelBot' },
      }),
    ]);
    expect(m.runs.map((r) => [r.run_id, r.agent, r.parent_run_id])).toEqual([
      [`otel_${TRACE}`, 'otel-demo', undefined],
      [`otel_${SUB}`, 'OtelBot', `otel_${TRACE}`],
    ]);
  });

  it('clips an overlong agent name to the contract limit', () => {
    const m = mapGenAiSpans([rootAgent({ 'gen_ai.agent.name': 'x'.repeat(500) })]);
    expectValid(m);
    expect(m.runs[0].agent).toHaveLength(200);
  });
});

describe('agent identity', () => {
  it('prefers a hub agent id, then gen_ai.agent.name, agent.name, a provider id, traceloop.workflow.name', () => {
    expect(agentIdentityOf({ 'gen_ai.agent.id': 'agt_123', 'gen_ai.agent.name': 'Bot' })).toBe('agt_123');
    expect(agentIdentityOf({ 'gen_ai.agent.id': 'asst_abc', 'gen_ai.agent.name': 'Bot' })).toBe('Bot');
    expect(agentIdentityOf({ 'agent.name': 'OiBot', 'traceloop.workflow.name': 'wf' })).toBe('OiBot');
    expect(agentIdentityOf({ 'gen_ai.agent.id': 'asst_abc', 'traceloop.workflow.name': 'wf' })).toBe('asst_abc');
    expect(agentIdentityOf({ 'traceloop.workflow.name': 'wf' })).toBe('wf');
    expect(agentIdentityOf({ 'gen_ai.agent.name': '  ' })).toBeUndefined();
  });

  it('keeps a provider agent id and the conversation id in the run metadata', () => {
    const m = mapGenAiSpans([rootAgent({ 'gen_ai.agent.id': 'asst_abc', 'gen_ai.conversation.id': 'conv_1' })]);
    expect(m.runs[0].agent).toBe('OtelBot');
    expect(m.runs[0].metadata).toMatchObject({ otel: { agent_id: 'asst_abc', conversation_id: 'conv_1' } });
  });
});

describe('classifySpan', () => {
  it.each([
    [{ 'gen_ai.operation.name': 'invoke_agent' }, 'agent'],
    [{ 'gen_ai.operation.name': 'create_agent' }, 'agent'],
    [{ 'gen_ai.operation.name': 'chat' }, 'llm'],
    [{ 'gen_ai.operation.name': 'execute_tool' }, 'tool'],
    [{ 'gen_ai.operation.name': 'embeddings' }, 'genai'],
    [{ 'openinference.span.kind': 'LLM' }, 'llm'],
    [{ 'openinference.span.kind': 'CHAIN' }, 'workflow'],
    [{ 'traceloop.span.kind': 'workflow' }, 'workflow'],
    [{ 'llm.request.type': 'completion' }, 'llm'],
    [{ 'gen_ai.request.model': 'gpt-4o' }, 'llm'],
    [{ 'gen_ai.system': 'openai' }, 'genai'],
    [{ 'http.method': 'GET' }, 'other'],
  ])('%j is %s', (attributes, cls) => {
    expect(classifySpan({ attributes })).toBe(cls);
  });
});

// Attribute sets captured from the real packages (the drop-in tests in test/drop-in run them end to end).
describe('Vercel AI SDK spans (ai 6, captured)', () => {
  const wrapper = (attrs: Record<string, unknown> = {}) =>
    span({
      spanId: ROOT,
      name: 'ai.generateText',
      resource: { 'service.name': 'unknown_service:node' },
      attributes: {
        'operation.name': 'ai.generateText SupportBot',
        'ai.operationId': 'ai.generateText',
        'ai.telemetry.functionId': 'SupportBot',
        'ai.model.provider': 'openai.chat',
        'ai.model.id': 'gpt-4o-mini',
        'ai.settings.maxRetries': 2,
        'ai.prompt': '{"system":"You are a support bot.","prompt":"Where is my order A-1?"}',
        'ai.response.text': 'Your order A-1 shipped.',
        'ai.usage.inputTokens': 280,
        'ai.usage.outputTokens': 29,
        'ai.usage.cachedInputTokens': 64,
        ...attrs,
      },
    });
  const step = span({
    spanId: CHAT,
    parentSpanId: ROOT,
    name: 'ai.generateText.doGenerate',
    resource: { 'service.name': 'unknown_service:node' },
    attributes: {
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.telemetry.functionId': 'SupportBot',
      'ai.model.provider': 'openai.chat',
      'ai.model.id': 'gpt-4o-mini',
      'ai.prompt.messages':
        '[{"role":"system","content":"You are a support bot."},{"role":"user","content":[{"type":"text","text":"Where is my order A-1?"}]}]',
      'gen_ai.system': 'openai.chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'ai.response.finishReason': 'tool-calls',
      'ai.response.toolCalls':
        '[{"toolCallId":"call_1","toolName":"lookup_order","input":"{\\"order_id\\":\\"A-1\\"}"}]',
      'ai.response.id': 'chatcmpl-1',
      'ai.usage.inputTokens': 120,
      'ai.usage.inputTokenDetails.cacheReadTokens': 64,
      'ai.usage.outputTokens': 20,
      'ai.usage.outputTokenDetails.reasoningTokens': 3,
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 20,
    },
  });
  const toolCall = span({
    spanId: TOOL,
    parentSpanId: ROOT,
    name: 'ai.toolCall',
    attributes: {
      'ai.operationId': 'ai.toolCall',
      'ai.toolCall.name': 'lookup_order',
      'ai.toolCall.id': 'call_1',
      'ai.toolCall.args': '{"order_id":"A-1"}',
      'ai.toolCall.result': '{"status":"shipped"}',
    },
  });

  it('makes the wrapper the run (functionId as agent), the step an llm_call, ai.toolCall a tool', () => {
    const m = mapGenAiSpans([wrapper(), step, toolCall]);
    expectValid(m);
    expect(m.runs[0]).toMatchObject({
      agent: 'SupportBot',
      input: { system: 'You are a support bot.', prompt: 'Where is my order A-1?' },
      output: [{ role: 'assistant', content: 'Your order A-1 shipped.' }],
    });
    expect(byId(m, `otel_${CHAT}`)!.payload).toMatchObject({
      model: 'gpt-4o-mini',
      provider: 'openai',
      input_tokens: 120,
      output_tokens: 20,
      cached_input_tokens: 64,
      reasoning_tokens: 3,
      response_id: 'chatcmpl-1',
      operation: 'ai.generateText.doGenerate',
      input_messages: [
        { role: 'system', content: 'You are a support bot.' },
        { role: 'user', content: 'Where is my order A-1?' },
      ],
      tool_calls: [{ id: 'call_1', name: 'lookup_order', arguments: { order_id: 'A-1' } }],
    });
    expect(byId(m, `otel_${TOOL}`)!.payload).toMatchObject({
      tool: 'lookup_order',
      call_id: 'call_1',
      args: { order_id: 'A-1' },
    });
    expect(byId(m, `otel_${TOOL}_result`)!.payload).toMatchObject({ result: { status: 'shipped' } });
    expect(tokens(m)).toEqual({ input: 120, output: 20 });
  });

  it('never counts the wrapper, even when it arrives in an export of its own', () => {
    const alone = mapGenAiSpans([wrapper()]);
    expect(ofType(alone, 'llm_call')).toHaveLength(0);
    expect(byId(alone, `otel_${ROOT}`)!.payload).toMatchObject({
      kind: 'llm_group',
      reported_usage: { input_tokens: 280, output_tokens: 29, cached_input_tokens: 64 },
    });
  });

  it('prefers a configured service name to the functionId, and reads v4 usage names', () => {
    const m = mapGenAiSpans([wrapper({}), { ...step, resource: { 'service.name': 'shop-api' } }]);
    expect(m.runs[0].agent).toBe('SupportBot');
    const named = mapGenAiSpans([{ ...wrapper(), resource: { 'service.name': 'shop-api' } }]);
    expect(named.runs[0].agent).toBe('shop-api');
    expect(usageOf({ 'ai.usage.promptTokens': 10, 'ai.usage.completionTokens': 2 })).toMatchObject({
      input_tokens: 10,
      output_tokens: 2,
    });
  });

  it('keeps attributes without a field of their own on the event', () => {
    const m = mapGenAiSpans([wrapper(), step]);
    expect(byId(m, `otel_${ROOT}`)!.payload.attributes).toEqual({ 'ai.settings.maxRetries': 2 });
  });
});

describe('OpenInference messages and cost (openinference-instrumentation-openai 4, captured)', () => {
  const llm = (attrs: Record<string, unknown> = {}) =>
    span({
      spanId: ROOT,
      name: 'OpenAI Chat Completions',
      attributes: {
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o-mini',
        'llm.system': 'openai',
        'input.value': '{"model":"gpt-4o-mini","messages":[]}',
        'input.mime_type': 'application/json',
        'llm.invocation_parameters': '{"model":"gpt-4o-mini"}',
        'llm.input_messages.0.message.role': 'user',
        'llm.input_messages.0.message.content': 'Where is my order A-1?',
        'llm.input_messages.1.message.role': 'assistant',
        'llm.input_messages.1.message.tool_calls.0.tool_call.id': 'call_1',
        'llm.input_messages.1.message.tool_calls.0.tool_call.function.name': 'lookup_order',
        'llm.input_messages.1.message.tool_calls.0.tool_call.function.arguments': '{"order_id":"A-1"}',
        'llm.input_messages.2.message.role': 'tool',
        'llm.input_messages.2.message.content': '{"status":"shipped"}',
        'llm.input_messages.2.message.tool_call_id': 'call_1',
        'llm.output_messages.0.message.role': 'assistant',
        'llm.output_messages.0.message.contents.0.message_content.type': 'text',
        'llm.output_messages.0.message.contents.0.message_content.text': 'Shipped.',
        'llm.token_count.prompt': 160,
        'llm.token_count.completion': 9,
        'llm.token_count.prompt_details.cache_read': 0,
        'llm.token_count.completion_details.reasoning': 4,
        ...attrs,
      },
    });

  it('rebuilds the flattened messages, and keeps the rest as attributes', () => {
    const m = mapGenAiSpans([llm()]);
    expectValid(m);
    const p = byId(m, `otel_${ROOT}`)!.payload;
    expect(p.input_messages).toEqual([
      { role: 'user', content: 'Where is my order A-1?' },
      { role: 'assistant', tool_calls: [{ id: 'call_1', name: 'lookup_order', arguments: { order_id: 'A-1' } }] },
      { role: 'tool', content: '{"status":"shipped"}', tool_call_id: 'call_1' },
    ]);
    expect(p.output_messages).toEqual([{ role: 'assistant', content: 'Shipped.' }]);
    expect(p).toMatchObject({ provider: 'openai', reasoning_tokens: 4 });
    expect(p.attributes).toEqual({ 'llm.invocation_parameters': '{"model":"gpt-4o-mini"}' });
    // The run of a bare LLM trace shows its messages, not the raw request in input.value.
    expect(m.runs[0].input).toEqual(p.input_messages);
  });

  it('trusts llm.cost.total, else the sum of llm.cost.prompt and llm.cost.completion', () => {
    expect(byId(mapGenAiSpans([llm({ 'llm.cost.total': 0.5 })]), `otel_${ROOT}`)!.payload.cost_usd).toBe(0.5);
    const parts = mapGenAiSpans([llm({ 'llm.cost.prompt': 0.25, 'llm.cost.completion': 0.125 })]);
    expect(byId(parts, `otel_${ROOT}`)!.payload.cost_usd).toBe(0.375);
    const half = mapGenAiSpans([llm({ 'llm.cost.prompt': 0.25 })]);
    expect(byId(half, `otel_${ROOT}`)!.payload.cost_usd).toBeUndefined();
  });
});

describe('OpenLLMetry before the semconv message shape (gen_ai.prompt.N / gen_ai.completion.N)', () => {
  it('rebuilds the messages and the tool calls, and gives a workflow run its first prompt and last answer', () => {
    const m = mapGenAiSpans([
      span({
        spanId: ROOT,
        name: 'support.workflow',
        attributes: {
          'traceloop.span.kind': 'workflow',
          'traceloop.workflow.name': 'support',
          'traceloop.entity.input': '{"args":[],"kwargs":{}}',
        },
      }),
      span({
        spanId: CHAT,
        parentSpanId: ROOT,
        name: 'openai.chat',
        attributes: {
          'llm.request.type': 'chat',
          'gen_ai.system': 'OpenAI',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.prompt.0.role': 'user',
          'gen_ai.prompt.0.content': 'Close ticket 7',
          'gen_ai.completion.0.role': 'assistant',
          'gen_ai.completion.0.finish_reason': 'tool_calls',
          'gen_ai.completion.0.tool_calls.0.id': 'call_7',
          'gen_ai.completion.0.tool_calls.0.name': 'close_ticket',
          'gen_ai.completion.0.tool_calls.0.arguments': '{"id":7}',
          'gen_ai.usage.prompt_tokens': 50,
          'gen_ai.usage.completion_tokens': 5,
          'gen_ai.usage.cache_read_input_tokens': 32,
        },
      }),
      span({
        spanId: SUB_CHAT,
        parentSpanId: ROOT,
        name: 'openai.chat',
        startMs: T0 + 500,
        attributes: {
          'llm.request.type': 'chat',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.completion.0.role': 'assistant',
          'gen_ai.completion.0.content': 'Ticket 7 is closed.',
          'gen_ai.usage.prompt_tokens': 60,
          'gen_ai.usage.completion_tokens': 6,
        },
      }),
    ]);
    expectValid(m);
    const first = byId(m, `otel_${CHAT}`)!.payload;
    expect(first.input_messages).toEqual([{ role: 'user', content: 'Close ticket 7' }]);
    expect(first.tool_calls).toEqual([{ id: 'call_7', name: 'close_ticket', arguments: { id: 7 } }]);
    expect(first.cached_input_tokens).toBe(32);
    expect(m.runs[0].input).toEqual([{ role: 'user', content: 'Close ticket 7' }]);
    expect(m.runs[0].output).toEqual([{ role: 'assistant', content: 'Ticket 7 is closed.' }]);
  });
});

describe('one AI SDK usage reading for the SDK integration and OTLP', () => {
  it('gives the same usage from the hook object and from the flattened ai.usage.* attributes', () => {
    const hookUsage = {
      inputTokens: 120,
      outputTokens: 20,
      inputTokenDetails: { noCacheTokens: 56, cacheReadTokens: 64, cacheWriteTokens: 8 },
      outputTokenDetails: { textTokens: 17, reasoningTokens: 3 },
    };
    const attrs: Record<string, unknown> = {};
    const flatten = (o: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        if (v && typeof v === 'object') flatten(v as Record<string, unknown>, `${prefix}${k}.`);
        else attrs[`${prefix}${k}`] = v;
      }
    };
    flatten(hookUsage, 'ai.usage.');
    const fromHook = aiSdkUsage(fieldsOf(hookUsage));
    expect(fromHook).toEqual({
      input_tokens: 120,
      output_tokens: 20,
      cached_input_tokens: 64,
      cache_write_tokens: 8,
      reasoning_tokens: 3,
    });
    expect(usageOf(attrs)).toEqual(fromHook);
    expect(aiSdkUsage(fieldsOf({ promptTokens: 5, completionTokens: 1 }))).toEqual({
      input_tokens: 5,
      output_tokens: 1,
    });
    expect(aiSdkProvider('openai.responses')).toBe('openai');
  });
});
