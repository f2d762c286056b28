import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { periodOf } from './calendar.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

async function call(a: SeededOrg, agent: string, at: string, cost: number | null, model = 'gpt-4o') {
  const ts = Date.parse(at);
  const r = await t.request('POST', '/v1/ingest/run', {
    auth: a.apiKey,
    body: {
      agent,
      status: 'completed',
      started_at: new Date(ts - 1000).toISOString(),
      ended_at: new Date(ts).toISOString(),
      events: [
        {
          type: 'llm_call',
          timestamp: new Date(ts).toISOString(),
          payload: { model, input_tokens: 100, output_tokens: 20, ...(cost === null ? {} : { cost_usd: cost }) },
        },
      ],
    },
  });
  expect(r.status, r.text).toBeLessThan(300);
}
const costs = async (a: SeededOrg, query: string) => {
  const r = await t.request('GET', `/v1/costs?${query}`, { auth: a.apiKey });
  expect(r.status, r.text).toBe(200);
  return r.body;
};

describe('calendar periods', () => {
  it('days follow the org time zone, including 23- and 25-hour days at DST changes', () => {
    const spring = periodOf(Date.parse('2026-03-29T12:00:00Z'), 'day', 'Europe/Paris');
    expect(new Date(spring.start).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
    const autumn = periodOf(Date.parse('2026-10-25T12:00:00Z'), 'day', 'Europe/Paris');
    expect(autumn.end - autumn.start).toBe(25 * 3_600_000);
    const week = periodOf(Date.parse('2026-11-29T23:30:00Z'), 'week', 'UTC'); // a Sunday
    expect(new Date(week.start).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    const month = periodOf(Date.parse('2026-12-01T03:00:00Z'), 'month', 'America/New_York'); // Nov 30, 22:00 local
    expect(new Date(month.start).toISOString()).toBe('2026-11-01T04:00:00.000Z');
  });
});

describe('GET /v1/costs', () => {
  it('groups by agent, team, model and local day; totals are exact; unpriced calls are flagged, not $0', async () => {
    const a = await t.seedOrg();
    await t.request('PATCH', '/v1/org', { auth: a.apiKey, body: { timezone: 'Asia/Tokyo' } });
    const team = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'Sales' } });
    await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'SellBot', environment: 'prod', team_id: team.body.id },
    });
    // 23:30 UTC on Nov 24 is 08:30 on Nov 25 in Tokyo.
    await call(a, 'SellBot', '2026-11-24T23:30:00Z', 0.1);
    await call(a, 'SellBot', '2026-11-24T10:00:00Z', 0.2, 'gpt-4o-mini');
    await call(a, 'HelpBot', '2026-11-24T10:00:00Z', 0.3);
    await call(a, 'HelpBot', '2026-11-24T11:00:00Z', null, 'acme-secret-model');
    await t.hub.ctx.ingestion.drain();
    const range = 'from=2026-11-20&to=2026-11-30';

    const byAgent = await costs(a, `group_by=agent&${range}`);
    expect(byAgent.timezone).toBe('Asia/Tokyo');
    expect(byAgent.from).toBe('2026-11-19T15:00:00.000Z'); // local midnight
    expect(byAgent.total_usd).toBe(0.6);
    expect(byAgent.unpriced_calls).toBe(1);
    expect(byAgent.data.map((r: any) => [r.name, r.cost_usd, r.runs, r.llm_calls])).toEqual([
      ['HelpBot', 0.3, 2, 2],
      ['SellBot', 0.3, 2, 2],
    ]);
    expect(byAgent.data[0]).toMatchObject({ input_tokens: 200, output_tokens: 40, unpriced_calls: 1, share: 0.5 });

    const byTeam = await costs(a, `group_by=team&${range}`);
    expect(byTeam.data.map((r: any) => [r.name, r.cost_usd])).toEqual([
      ['No team', 0.3],
      ['Sales', 0.3],
    ]);
    const byModel = await costs(a, `group_by=model&${range}`);
    expect(Object.fromEntries(byModel.data.map((r: any) => [r.key, r.cost_usd]))).toEqual({
      'gpt-4o': 0.4,
      'gpt-4o-mini': 0.2,
      'acme-secret-model': 0,
    });
    expect(byModel.data.find((r: any) => r.key === 'acme-secret-model').unpriced_calls).toBe(1);

    const byDay = await costs(a, `group_by=day&${range}`);
    expect(byDay.data.map((r: any) => [r.key, r.cost_usd])).toEqual([
      ['2026-11-24', 0.5],
      ['2026-11-25', 0.1],
    ]);
    const oneTeam = await costs(a, `group_by=agent&team_id=${team.body.id}&${range}`);
    expect(oneTeam.data.map((r: any) => r.name)).toEqual(['SellBot']);
  });

  it('exports CSV for finance, with fields a spreadsheet cannot run as formulas', async () => {
    const a = await t.seedOrg();
    await call(a, '=HYPERLINK("http://evil.test","Bot, Inc")', new Date().toISOString(), 1.25);
    await t.hub.ctx.ingestion.drain();
    for (const req of [
      { url: '/v1/costs?group_by=agent&format=csv', headers: {} as Record<string, string> },
      { url: '/v1/costs?group_by=agent', headers: { accept: 'text/csv' } },
    ]) {
      const r = await t.request('GET', req.url, { auth: a.apiKey, headers: req.headers });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toContain('text/csv');
      expect(r.headers['content-disposition']).toMatch(/attachment; filename="costs-by-agent-\d{4}-\d{2}-\d{2}\.csv"/);
      const lines = r.text.trim().split('\n');
      expect(lines[0]).toBe('key,name,cost_usd,input_tokens,output_tokens,llm_calls,runs,unpriced_calls,share');
      expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil.test"",""Bot, Inc"")"`);
      expect(lines[1]).toContain(',1.25,100,20,1,1,0,1');
    }
  });

  it('rejects a bad range naming the field, and never shows another org', async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    await call(a, 'SecretBot', new Date().toISOString(), 0.5);
    await t.hub.ctx.ingestion.drain();
    const bad = await t.request('GET', '/v1/costs?from=2026-12-01&to=2026-11-01', { auth: a.apiKey });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('from');
    const notDate = await t.request('GET', '/v1/costs?group_by=agent&to=yesterday', { auth: a.apiKey });
    expect(notDate.status).toBe(400);
    const wrongGroup = await t.request('GET', '/v1/costs?group_by=planet', { auth: a.apiKey });
    expect(wrongGroup.status).toBe(400);
    expect(wrongGroup.text).toContain('group_by');
    const theirs = await t.request('GET', '/v1/costs?group_by=agent', { auth: b.apiKey });
    expect(theirs.body.total_usd).toBe(0);
    expect(theirs.text).not.toContain('SecretBot');
    const filtered = await t.request('GET', `/v1/costs?group_by=agent&agent_id=${encodeURIComponent('x')}`, {
      auth: b.apiKey,
    });
    expect(filtered.body.data).toEqual([]);
  });
});
