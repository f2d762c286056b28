/** The optional demo data set: five runs of three sample agents, with model and tool steps. */

export function demoRuns() {
  const t0 = Date.now() - 3_600_000;
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const run = (i: number, agent: string, ok: boolean, start: number) => ({
    run_id: `run_demo_${agent}_${i}_${t0}`,
    agent,
    status: ok ? 'completed' : 'failed',
    started_at: at(start),
    ended_at: at(start + 6),
    input: { ticket: `Demo ticket ${i}`, customer: `c_${100 + i}` },
    output: ok ? 'Answered the customer.' : undefined,
    error: ok ? undefined : { message: 'Order service timed out' },
    metadata: { demo: true },
    events: [
      {
        type: 'llm_call',
        timestamp: at(start + 1),
        payload: {
          model: 'gpt-4o-mini',
          provider: 'openai',
          input_tokens: 420 + i * 10,
          output_tokens: 120,
          duration_ms: 900,
        },
      },
      {
        type: 'tool_called',
        timestamp: at(start + 2),
        payload: { tool: 'lookup_order', input: { order_id: `o_${i}` }, duration_ms: 300 },
      },
      {
        type: 'tool_result',
        timestamp: at(start + 3),
        payload: { tool: 'lookup_order', output: ok ? { status: 'shipped' } : { error: 'timeout' } },
      },
      {
        type: 'llm_call',
        timestamp: at(start + 4),
        payload: { model: 'gpt-4o', provider: 'openai', input_tokens: 800, output_tokens: 200, duration_ms: 1500 },
      },
    ],
  });
  return [
    run(1, 'support-bot', true, 0),
    run(2, 'support-bot', true, 60),
    run(3, 'support-bot', false, 120),
    run(4, 'sales-outreach', true, 180),
    run(5, 'invoice-checker', true, 240),
  ];
}
