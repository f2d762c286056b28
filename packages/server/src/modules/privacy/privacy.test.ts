/**
 * Privacy through the app, on a real database: settings (validation, audit, isolation), the sample box,
 * redaction on every ingestion path (REST, OTLP traces and logs, Langfuse) under `redacted` and `metadata_only`,
 * proven by searching the stored bytes (SQLite files, PostgreSQL tables as text) for the original values,
 * and content hidden from callers without `view_content`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedOrgId } from '../../platform/caller.ts';
import { type Auth, createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { content, ORIGINALS, RULES, sentence } from './fixtures.testing.ts';
import { archivedText, storedText } from './stored-text.testing.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

async function setPrivacy(org: SeededOrg, body: object) {
  const r = await t.request('PUT', '/v1/privacy', { auth: org.apiKey, body });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

/** Sends the same content through REST (run + events), OTLP traces and the Langfuse batch API. */
async function ingestEverywhere(org: SeededOrg, agent: string) {
  const t0 = Date.now() - 60_000;
  const rest = await t.request('POST', '/v1/ingest/run', {
    auth: org.apiKey,
    body: {
      agent,
      status: 'completed',
      started_at: iso(t0),
      ended_at: iso(t0 + 3000),
      input: content(),
      output: { answer: sentence },
      metadata: { customer_email: 'ann.lee@example.com', api_key: 'sk-proj-abcdefghijklmnop1234567890' },
      events: [
        {
          type: 'llm_call',
          timestamp: iso(t0 + 100),
          duration_ms: 800,
          payload: { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, prompt: sentence },
        },
        { type: 'tool_called', timestamp: iso(t0 + 900), payload: { tool: 'crm', args: content() } },
      ],
    },
  });
  expect(rest.status, rest.text).toBe(202);
  const runId = rest.body.run_id as string;
  const more = await t.request('POST', '/v1/ingest/events', {
    auth: org.apiKey,
    body: {
      events: [{ run_id: runId, type: 'log', timestamp: iso(t0 + 1000), payload: { note: sentence } }],
    },
  });
  expect(more.body.accepted).toBe(1);

  const traceId = randomUUID().replaceAll('-', '');
  const otlp = await t.request('POST', '/v1/traces', {
    auth: org.apiKey,
    body: {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: 'c1'.repeat(8),
                  name: `invoke_agent ${agent}`,
                  kind: 1,
                  startTimeUnixNano: String(BigInt(t0) * 1_000_000n),
                  endTimeUnixNano: String(BigInt(t0 + 2000) * 1_000_000n),
                  attributes: [
                    { key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } },
                    { key: 'gen_ai.agent.name', value: { stringValue: agent } },
                    { key: 'gen_ai.prompt', value: { stringValue: sentence } },
                    { key: 'user.email', value: { stringValue: 'bob+vip@shop.co.uk' } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
  });
  expect(otlp.status, otlp.text).toBe(200);
  // OTLP logs: GenAI message events and a plain log line in that span (OTLP/JSON, as the SDKs send it).
  const kv = (key: string, stringValue: string) => ({ key, value: { stringValue } });
  const record = (name: string | null, body: object) => ({
    timeUnixNano: String(BigInt(t0 + 500) * 1_000_000n),
    traceId,
    spanId: 'c1'.repeat(8),
    attributes: name ? [kv('event.name', name), kv('gen_ai.system', 'openai')] : [],
    body,
  });
  const logs = await t.request('POST', '/v1/logs', {
    auth: org.apiKey,
    body: {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                record('gen_ai.user.message', { kvlistValue: { values: [kv('content', sentence)] } }),
                record(null, { stringValue: sentence }),
              ],
            },
          ],
        },
      ],
    },
  });
  expect(logs.status, logs.text).toBe(200);
  expect(logs.body.partialSuccess?.rejectedLogRecords ?? '0').toBe('0');

  const trace = randomUUID();
  const at = (s: number) => iso(t0 + s * 1000);
  const item = (type: string, body: object, s: number) => ({ id: randomUUID(), type, timestamp: at(s), body });
  const gen = randomUUID();
  const lf = await t.request('POST', '/api/public/ingestion', {
    auth: null,
    headers: { authorization: basic(agent, org.apiKey) },
    body: {
      batch: [
        item('trace-create', { id: trace, name: 'ticket', input: content(), metadata: { phone: '(415) 555-0123' } }, 0),
        item(
          'generation-create',
          {
            id: gen,
            traceId: trace,
            model: 'gpt-4o-mini',
            input: [{ role: 'user', content: sentence }],
            startTime: at(1),
          },
          1,
        ),
        item(
          'generation-update',
          {
            id: gen,
            traceId: trace,
            output: { content: sentence },
            usageDetails: { input: 100, output: 8 },
            endTime: at(2),
          },
          2,
        ),
      ],
    },
  });
  expect(lf.status, lf.text).toBe(207);
  expect(lf.body.errors).toEqual([]);
  await t.hub.ctx.enrichment.catchUp();
  return runId;
}

describe('privacy settings', () => {
  it('default to full capture, validate rules naming the field, and audit each change', async () => {
    const a = await t.seedOrg();
    const d = await t.request('GET', '/v1/privacy', { auth: a.apiKey });
    expect(d.body).toMatchObject({ capture: 'full', rules: [], agents: [], updated_at: null });
    expect(d.body.detectors.email).toBe('label');

    const bad = await t.request('PUT', '/v1/privacy', {
      auth: a.apiKey,
      body: { rules: [{ name: 'x', pattern: '(a)\\1', action: 'label' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body.errors[0].path).toBe('rules.0.pattern');
    const both = await t.request('PUT', '/v1/privacy', {
      auth: a.apiKey,
      body: { rules: [{ name: 'x', key: 'a', pattern: 'b', action: 'label' }] },
    });
    expect(both.body.errors[0].path).toBe('rules.0');
    const level = await t.request('PUT', '/v1/privacy', { auth: a.apiKey, body: { capture: 'everything' } });
    expect(level.status).toBe(400);
    expect(JSON.stringify(level.body.errors)).toContain('capture');

    const ok = await setPrivacy(a, { capture: 'redacted', detectors: { email: 'hash' }, rules: RULES });
    expect(ok).toMatchObject({ capture: 'redacted', detectors: { email: 'hash', card: 'label' } });
    const audit = await t.request('GET', '/v1/audit?entity_type=privacy_settings', { auth: a.owner });
    expect(audit.body.data[0]).toMatchObject({ action: 'privacy.updated' });
  });

  it("an agent's capture level: set, cleared, and another org's agent is a 404", async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    const agent = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'Private', environment: 'prod' },
    });
    const id = agent.body.id as string;
    const put = await t.request('PUT', `/v1/privacy/agents/${id}`, {
      auth: a.apiKey,
      body: { capture: 'metadata_only' },
    });
    expect(put.body).toMatchObject({ agent_id: id, capture: 'metadata_only', effective: 'metadata_only' });
    expect((await t.request('GET', '/v1/privacy', { auth: a.apiKey })).body.agents).toEqual([
      { agent_id: id, capture: 'metadata_only' },
    ]);
    expect((await t.request('GET', `/v1/privacy/agents/${id}`, { auth: b.apiKey })).status).toBe(404);
    expect(
      (await t.request('PUT', `/v1/privacy/agents/${id}`, { auth: b.apiKey, body: { capture: 'full' } })).status,
    ).toBe(404);
    const cleared = await t.request('PUT', `/v1/privacy/agents/${id}`, { auth: a.apiKey, body: { capture: null } });
    expect(cleared.body).toMatchObject({ capture: null, effective: 'full' });
  });

  it("team leads set their own teams' agents' capture level, never looser than the org's", async () => {
    const a = await t.seedOrg();
    await setPrivacy(a, { capture: 'redacted' });
    const team = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'Support' } });
    const ours = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'TeamBot', environment: 'prod', team_id: team.body.id },
    });
    const theirs = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'Other', environment: 'prod' },
    });
    const lead = await t.addMember(a, 'team_lead', team.body.id);
    const member = await t.addMember(a, 'member');
    const put = (auth: Auth, id: string, capture: string | null) =>
      t.request('PUT', `/v1/privacy/agents/${id}`, { auth, body: { capture } });

    const tighter = await put(lead.auth, ours.body.id, 'metadata_only');
    expect(tighter.status, tighter.text).toBe(200);
    expect(tighter.body).toMatchObject({ capture: 'metadata_only', effective: 'metadata_only' });
    // Below the org's level: only someone with agents:edit on every agent.
    const looser = await put(lead.auth, ours.body.id, 'full');
    expect(looser.status).toBe(403);
    expect(looser.body.detail).toContain('redacted');
    expect((await put(lead.auth, ours.body.id, null)).body).toMatchObject({ capture: null, effective: 'redacted' });
    expect((await put(lead.auth, theirs.body.id, 'metadata_only')).status).toBe(403);
    expect((await put(member.auth, ours.body.id, 'metadata_only')).status).toBe(403);
    expect((await put(a.apiKey, ours.body.id, 'full')).status).toBe(200);
    const audit = await t.request('GET', '/v1/audit?entity_type=agent', { auth: a.owner });
    expect(audit.body.data.filter((e: { action: string }) => e.action === 'privacy.agent_updated')).toHaveLength(3);
  });

  it('the sample box shows what a payload would become, joinable hashes included, and stores nothing', async () => {
    const a = await t.seedOrg();
    await setPrivacy(a, { detectors: { email: 'hash' }, rules: RULES });
    const r = await t.request('POST', '/v1/privacy/test', {
      auth: a.apiKey,
      body: { capture: 'redacted', payload: { a: 'x ann@example.com', b: 'ann@example.com', c: '4111111111111111' } },
    });
    expect(r.status).toBe(200);
    expect(r.body.result.c).toBe('[CARD]');
    expect(r.body.result.b).toMatch(/^\[#[0-9a-f]{16}\]$/);
    expect(r.body.result.a).toBe(`x ${r.body.result.b}`);
    const meta = await t.request('POST', '/v1/privacy/test', {
      auth: a.apiKey,
      body: { capture: 'metadata_only', payload: { a: 'hello', n: 3 } },
    });
    expect(meta.body.result).toEqual({ a: '[omitted]', n: 3 });
  });
});

describe('redaction at ingestion', () => {
  it('stores none of the original values under redacted and metadata_only, on every path, and the runs stay complete', async () => {
    const a = await t.seedOrg();
    await setPrivacy(a, { capture: 'redacted', rules: RULES });
    const redactedRun = await ingestEverywhere(a, 'RedactedBot');
    const agent = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'QuietBot', environment: 'prod' },
    });
    await t.request('PUT', `/v1/privacy/agents/${agent.body.id}`, {
      auth: a.apiKey,
      body: { capture: 'metadata_only' },
    });
    const quietRun = await ingestEverywhere(a, 'QuietBot');

    const stored = await storedText(t);
    // The search reads real stored content: the labels are there, the originals are not.
    expect(stored).toContain('[EMAIL]');
    expect(stored).toContain('[omitted]');
    for (const v of ORIGINALS) expect(stored.includes(v), v).toBe(false);

    // Still complete: tokens, cost, timeline.
    const r = await t.request('GET', `/v1/runs/${redactedRun}`, { auth: a.apiKey });
    expect(r.body).toMatchObject({ status: 'completed', latency_ms: 3000, input_tokens: 1000, output_tokens: 500 });
    expect(r.body.cost_usd).toBeGreaterThan(0);
    expect(r.body.events.map((e: { type: string }) => e.type)).toEqual(['llm_call', 'tool_called', 'log']);
    expect(r.body.events[0]).toMatchObject({ model: 'gpt-4o', duration_ms: 800 });
    expect(r.body.input.messages[0].content).toContain('[EMAIL]');
    expect(r.body.input.customer).toEqual({});
    expect(r.body.metadata).toEqual({ customer_email: '[EMAIL]', api_key: '[SECRET]' });
    const q = await t.request('GET', `/v1/runs/${quietRun}`, { auth: a.apiKey });
    expect(q.body).toMatchObject({ input_tokens: 1000, output_tokens: 500 });
    expect(q.body.output).toEqual({ answer: '[omitted]' });
    expect(q.body.events[0].payload).toMatchObject({ model: 'gpt-4o', input_tokens: 1000, prompt: '[omitted]' });
    // The OTLP and Langfuse runs were kept too, with their tokens.
    const runs = await t.request('GET', '/v1/runs?limit=20', { auth: a.apiKey });
    expect(runs.body.data).toHaveLength(6);
    // The OTLP log lines were stored (redacted), not dropped.
    const timelines = await Promise.all(
      runs.body.data.map(
        async (x: { id: string }) => (await t.request('GET', `/v1/runs/${x.id}`, { auth: a.apiKey })).body,
      ),
    );
    const logText = JSON.stringify(
      timelines.flatMap((x) => x.events.filter((e: { type: string }) => e.type === 'log')),
    );
    expect(logText).toContain('[EMAIL]');
    expect(logText).toContain('[omitted]');
  });
});

describe('cold archives', () => {
  it('hold only what was stored: a redacted run past retention is archived without the original values', async () => {
    const a = await t.seedOrg();
    await setPrivacy(a, { capture: 'redacted', rules: RULES });
    await t.hub.ctx.db.db.updateTable('orgs').set({ plan: 'starter' }).where('id', '=', a.org.id).execute(); // 14 days
    const old = Date.now() - 20 * 86_400_000;
    const r = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: {
        run_id: 'archived-run',
        agent: 'Archivist',
        status: 'completed',
        started_at: iso(old),
        ended_at: iso(old + 100),
        input: content(),
        events: [{ type: 'tool_called', timestamp: iso(old + 10), payload: { tool: 'crm', args: content() } }],
      },
    });
    expect(r.status).toBe(202);
    await t.hub.ctx.enrichment.catchUp();
    expect(await t.hub.ctx.retention.runForOrg(trustedOrgId(a.org.id))).toMatchObject({ runs: 1, events: 1 });
    const archived = archivedText(t, a.org.id);
    expect(archived).toContain('archived-run');
    expect(archived).toContain('[EMAIL]');
    for (const v of ORIGINALS) expect(archived.includes(v), v).toBe(false);
  });
});

describe('view_content', () => {
  it("team leads see the content of their teams' agents' runs, and not of others", async () => {
    const a = await t.seedOrg();
    const team = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'Support' } });
    await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'TeamBot', environment: 'prod', team_id: team.body.id },
    });
    const lead = await t.addMember(a, 'team_lead', team.body.id);
    const runOf = async (agent: string) =>
      (
        await t.request('POST', '/v1/ingest/run', {
          auth: a.apiKey,
          body: { agent, status: 'completed', started_at: iso(Date.now() - 1000), input: { q: `${agent} text` } },
        })
      ).body.run_id as string;
    const ours = await runOf('TeamBot');
    const theirs = await runOf('OtherBot');
    expect((await t.request('GET', `/v1/runs/${ours}`, { auth: lead.auth })).body.input).toEqual({ q: 'TeamBot text' });
    expect((await t.request('GET', `/v1/runs/${theirs}`, { auth: lead.auth })).body.input).toBe('[hidden]');
    const list = await t.request('GET', '/v1/runs', { auth: lead.auth });
    const byId = new Map(list.body.data.map((r: { id: string; input: unknown }) => [r.id, r.input]));
    expect(byId.get(ours)).toEqual({ q: 'TeamBot text' });
    expect(byId.get(theirs)).toBe('[hidden]');
  });

  it('members see runs with their content hidden; owners and admins see it; search needs it', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: {
        agent: 'Shown',
        status: 'completed',
        started_at: iso(Date.now() - 5000),
        input: { q: 'visible text' },
        events: [
          {
            type: 'llm_call',
            timestamp: iso(Date.now() - 4000),
            payload: { model: 'gpt-4o', input_tokens: 5, output_tokens: 1, prompt: 'p' },
          },
        ],
      },
    });
    const member = await t.addMember(a, 'member');
    const admin = await t.addMember(a, 'admin');
    const hidden = await t.request('GET', `/v1/runs/${r.body.run_id}`, { auth: member.auth });
    expect(hidden.status).toBe(200);
    expect(hidden.body).toMatchObject({ input: '[hidden]', content_hidden: true, input_tokens: 5 });
    expect(hidden.body.events[0].payload).toEqual({
      model: 'gpt-4o',
      input_tokens: 5,
      output_tokens: 1,
      prompt: '[hidden]',
    });
    const list = await t.request('GET', '/v1/runs', { auth: member.auth });
    expect(list.body.data[0].input).toBe('[hidden]');
    expect((await t.request('GET', '/v1/runs?q=visible', { auth: member.auth })).status).toBe(403);
    expect((await t.request('POST', '/v1/privacy/test', { auth: member.auth, body: { payload: 'x' } })).status).toBe(
      403,
    );
    const shown = await t.request('GET', `/v1/runs/${r.body.run_id}`, { auth: admin.auth });
    expect(shown.body.input).toEqual({ q: 'visible text' });
    expect((await t.request('GET', `/v1/runs/${r.body.run_id}`, { auth: a.owner })).body.input).toEqual({
      q: 'visible text',
    });
  });
});
