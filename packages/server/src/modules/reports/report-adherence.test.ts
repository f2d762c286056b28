/**
 * Policy adherence in the weekly report, from real decisions through the API on a real hub: an agent
 * that asked the policy engine about clean actions last week and got blocked, overridden and rejected
 * this week shows this week's score with the counts behind it (the same figures as
 * `GET /v1/stats/agents/{id}`) in the kept HTML, the PDF and the preview, and an insight names the fall.
 */
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

const DAY = 86_400_000;
/** A clock the test moves back a week for last week's decisions, then returns to the present. */
let now = Date.now();
const clock = () => now;
let t: TestHub;
beforeAll(async () => {
  t = await createTestHub({}, { clock });
});
afterAll(async () => t?.close());

/** The text of every page of a PDF, as a reader's copy-paste would give it. */
async function pdfText(bytes: Uint8Array): Promise<string> {
  const doc = await getDocument({ data: new Uint8Array(bytes), verbosity: 0, useSystemFonts: false }).promise;
  let text = '';
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    text += `${content.items.map((it) => ('str' in it ? it.str : '')).join(' ')}\n`;
  }
  await doc.destroy();
  return text;
}

async function policy(a: SeededOrg, name: string, type: string, then: string) {
  const r = await t.request('POST', '/v1/policies', {
    auth: a.apiKey,
    body: { name, status: 'active', rule: { when: { field: 'action.type', op: 'eq', value: type }, then } },
  });
  expect(r.status, r.text).toBe(201);
}

/** A finished run of the agent at the clock's time, with a priced model call (so it is listed). */
async function run(a: SeededOrg, agent: string, runId: string) {
  const at = new Date(now - 60_000).toISOString();
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: a.apiKey,
    body: {
      run_id: runId,
      agent,
      status: 'completed',
      started_at: at,
      ended_at: at,
      events: [{ type: 'llm_call', timestamp: at, payload: { model: 'gpt-4o', input_tokens: 10, cost_usd: 0.1 } }],
    },
  });
  expect(r.status, r.text).toBe(202);
}

async function ask(a: SeededOrg, agent: string, runId: string, type: string) {
  const r = await t.request('POST', '/v1/policy/evaluate', {
    auth: a.apiKey,
    body: { agent, run_id: runId, action: { type, amount: 1 } },
  });
  expect(r.status, r.text).toBe(200);
  return r.body as { decision: string; approval_id?: string };
}

describe('adherence in the weekly report', () => {
  it("shows each agent's score and the counts behind it, as the stats API counts them", async () => {
    const a = await t.seedOrg();
    const agent = `AdhBot-${Math.random().toString(36).slice(2, 7)}`;
    await policy(a, 'no drops', 'drop_table', 'block');
    await policy(a, 'refunds need a human', 'refund', 'require_approval');
    await policy(a, 'watch emails', 'send_email', 'log_only');

    // Last week: five clean lookups (100%).
    const present = now;
    now = present - 8 * DAY;
    await run(a, agent, 'adh-last-week');
    for (let i = 0; i < 5; i++) await ask(a, agent, 'adh-last-week', 'lookup');
    await t.hub.ctx.evaluator.drain();

    // This week (two hours ago): 2 lookups, 2 blocks, a log-only match, a rejected refund, and a refund
    // still waiting.
    now = present - 2 * 3_600_000;
    await run(a, agent, 'adh-this-week');
    for (const type of ['lookup', 'lookup', 'drop_table', 'drop_table', 'send_email'])
      await ask(a, agent, 'adh-this-week', type);
    const refused = await ask(a, agent, 'adh-this-week', 'refund');
    const rejected = await t.request('POST', `/v1/approvals/${refused.approval_id}/reject`, {
      auth: a.owner,
      body: {},
    });
    expect(rejected.status, rejected.text).toBe(200);
    expect((await ask(a, agent, 'adh-this-week', 'refund')).decision).toBe('REQUIRE_APPROVAL');
    await t.hub.ctx.evaluator.drain();
    await t.hub.ctx.ingestion.drain();
    now = present;

    // The stats API's figures for the same week: 6 evaluated (1 waiting), 2 adherent.
    const agents = await t.request('GET', '/v1/agents', { auth: a.apiKey });
    const id = (agents.body.data as { id: string; name: string }[]).find((x) => x.name === agent)!.id;
    const from = new Date(present - 7 * DAY).toISOString();
    const to = new Date(present).toISOString();
    const stats = await t.request('GET', `/v1/stats/agents/${id}?from=${from}&to=${to}`, { auth: a.apiKey });
    expect(stats.status, stats.text).toBe(200);
    expect(stats.body.adherence).toMatchObject({
      evaluated: 6,
      adherent: 2,
      blocked: 2,
      rejected: 1,
      overridden: 1,
      pending: 1,
    });

    // A weekly report run over the same week, kept with its HTML and PDF.
    const report = await t.request('POST', '/v1/reports', {
      auth: a.apiKey,
      body: { name: 'Adherence week', template: 'weekly_summary', formats: ['html', 'pdf'] },
    });
    expect(report.status, report.text).toBe(201);
    const ran = await t.request('POST', `/v1/reports/${report.body.id}/run`, {
      auth: a.apiKey,
      body: { deliver: false, from, to },
    });
    expect(ran.status, ran.text).toBe(201);
    const html = (await t.request('GET', `/v1/report-runs/${ran.body.id}.html`, { auth: a.apiKey })).text;
    expect(html).toContain('Policy adherence');
    // Agent, score, evaluated, blocked, rejected, overridden, waiting.
    expect(html.replace(/<td style="[^"]*"/g, '<td')).toContain(
      `<tr><td>${agent}</td><td>33.3%</td><td>6</td><td>2</td><td>1</td><td>1</td><td>1</td></tr>`,
    );
    expect(html).toContain(
      '33.3% adherent across these agents: 2 of 6 evaluated actions went through without a block, a rejection or an override.',
    );
    expect(html).toContain(
      `Adherence of ${agent} fell from 100% to 33.3%: of 6 evaluated actions, 2 blocked, 1 rejected, 1 overridden.`,
    );

    const pdf = await t.hub.app.inject({
      method: 'GET',
      url: `/v1/report-runs/${ran.body.id}.pdf`,
      headers: { authorization: `Bearer ${a.apiKey}` },
    });
    expect(pdf.statusCode).toBe(200);
    const text = (await pdfText(new Uint8Array(pdf.rawPayload))).replace(/\s+/g, ' ');
    expect(text).toContain('Policy adherence');
    expect(text).toMatch(new RegExp(`${agent} 33\\.3% 6 2 1 1 1`));

    // Last week's report: every evaluated action adherent, nothing waiting.
    const lastWeek = await t.request('POST', '/v1/reports/preview', {
      auth: a.apiKey,
      body: { template: 'weekly_summary', from: new Date(present - 14 * DAY).toISOString(), to: from },
    });
    expect(lastWeek.text.replace(/<td style="[^"]*"/g, '<td')).toContain(
      `<tr><td>${agent}</td><td>100%</td><td>5</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>`,
    );
  });

  it('says so when no agent asked the policy engine anything', async () => {
    const a = await t.seedOrg();
    await run(a, 'Quiet', 'adh-quiet');
    await t.hub.ctx.ingestion.drain();
    const r = await t.request('POST', '/v1/reports/preview', { auth: a.apiKey, body: { template: 'weekly_summary' } });
    expect(r.text).toContain('No agent asked the policy engine about an action in this period.');
  });
});
