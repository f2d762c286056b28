import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

describe('agent registry', () => {
  it('creates, reads, updates and deletes an agent, each change audited', async () => {
    const a = await t.seedOrg();
    const created = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: {
        name: 'SupportBot',
        environment: 'prod',
        type: 'support',
        tags: ['support', 'tier1'],
        description: 'answers tickets',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'SupportBot',
      environment: 'prod',
      status: 'active',
      tags: ['support', 'tier1'],
    });
    expect(created.body.id).toMatch(/^agt_/);

    const byName = await t.request('GET', '/v1/agents/SupportBot', { auth: a.apiKey });
    expect(byName.body.id).toBe(created.body.id);

    const patched = await t.request('PATCH', `/v1/agents/${created.body.id}`, {
      auth: a.apiKey,
      body: { description: 'v2', tags: ['support'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'v2', tags: ['support'], name: 'SupportBot' });

    const del = await t.request('DELETE', `/v1/agents/${created.body.id}`, { auth: a.apiKey });
    expect(del.status).toBe(204);
    expect((await t.request('GET', `/v1/agents/${created.body.id}`, { auth: a.apiKey })).status).toBe(404);

    const audit = await t.request('GET', `/v1/audit?entity_type=agent&entity_id=${created.body.id}`, {
      auth: a.apiKey,
    });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
      'agent.deleted',
      'agent.updated',
      'agent.created',
    ]);
    const update = audit.body.data[1];
    expect(update.changes.before.description).toBe('answers tickets');
    expect(update.changes.after.description).toBe('v2');
  });

  it('names every invalid field in a problem+json answer', async () => {
    const a = await t.seedOrg();
    const r = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 42, environment: 'moon', tags: [''] },
    });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.body.code).toBe('validation_failed');
    const paths = r.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'environment', 'tags.0']));
  });

  it('keeps names unique per org (409 naming the field) but not across orgs', async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    const body = { name: 'Twin', environment: 'test' };
    expect((await t.request('POST', '/v1/agents', { auth: a.apiKey, body })).status).toBe(201);
    const dup = await t.request('POST', '/v1/agents', { auth: a.apiKey, body });
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0].path).toBe('name');
    expect((await t.request('POST', '/v1/agents', { auth: b.apiKey, body })).status).toBe(201);
  });

  it('filters by tag, type, environment and status, and pages with a cursor', async () => {
    const a = await t.seedOrg();
    const mk = (name: string, extra: object) =>
      t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name, environment: 'prod', ...extra } });
    await mk('A1', { type: 'support', tags: ['email'] });
    await mk('A2', { type: 'billing', tags: ['emails'] });
    await mk('A3', { type: 'support', environment: 'staging', tags: ['chat'] });
    const names = async (qs: string) =>
      (await t.request('GET', `/v1/agents?${qs}`, { auth: a.apiKey })).body.data
        .map((x: { name: string }) => x.name)
        .sort();
    expect(await names('tag=email')).toEqual(['A1']);
    expect(await names('type=support')).toEqual(['A1', 'A3']);
    expect(await names('environment=staging')).toEqual(['A3']);
    expect(await names('status=paused')).toEqual([]);
    // _ and % are literal in filters, not wildcards.
    await mk('U1', { tags: ['outbound_email'] });
    await mk('U2', { tags: ['outboundXemail'] });
    expect(await names('tag=outbound_email')).toEqual(['U1']);
    expect(await names('q=%25')).toEqual([]);
    for (const n of ['U1', 'U2']) await t.request('DELETE', `/v1/agents/${n}`, { auth: a.apiKey });
    const p1 = await t.request('GET', '/v1/agents?limit=2', { auth: a.apiKey });
    expect(p1.body.data).toHaveLength(2);
    const p2 = await t.request('GET', `/v1/agents?limit=2&cursor=${p1.body.next_cursor}`, { auth: a.apiKey });
    expect(p2.body.data).toHaveLength(1);
    expect(p2.body.next_cursor).toBeNull();
    const all = [...p1.body.data, ...p2.body.data].map((x: { name: string }) => x.name).sort();
    expect(all).toEqual(['A1', 'A2', 'A3']);
  });

  it('encrypts provider connection secrets at rest and never returns them', async () => {
    const a = await t.seedOrg();
    const secret = 'sk-live-very-secret-token-123';
    const r = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: {
        name: 'Asst',
        environment: 'prod',
        provider: { kind: 'openai_assistants', external_id: 'asst_1', connection: { api_key: secret } },
      },
    });
    expect(r.status).toBe(201);
    expect(r.text).not.toContain(secret);
    expect(r.body.provider).toEqual({
      kind: 'openai_assistants',
      external_id: 'asst_1',
      connection_fields: ['api_key'],
    });
    const row = await t.hub.ctx.db.db
      .selectFrom('agents')
      .select('provider_secret')
      .where('id', '=', r.body.id)
      .executeTakeFirstOrThrow();
    expect(row.provider_secret).toMatch(/^v1:/);
    expect(row.provider_secret).not.toContain(secret);
    expect(t.hub.ctx.secretBox.open(row.provider_secret!)).toContain(secret);
    const audit = await t.request('GET', '/v1/audit?format=jsonl', { auth: a.apiKey });
    expect(audit.text).not.toContain(secret);
    // Changing the kind without sending the connection keeps the stored secret.
    await t.request('PATCH', `/v1/agents/${r.body.id}`, { auth: a.apiKey, body: { provider: { kind: 'custom' } } });
    const after = await t.request('GET', `/v1/agents/${r.body.id}`, { auth: a.apiKey });
    expect(after.body.provider.connection_fields).toEqual(['api_key']);
  });

  it('lets a team lead manage only the agents of their team', async () => {
    const a = await t.seedOrg();
    const team = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'Support' } });
    const other = await t.request('POST', '/v1/teams', { auth: a.apiKey, body: { name: 'Sales' } });
    const lead = await t.addMember(a, 'team_lead', team.body.id);
    const own = await t.request('POST', '/v1/agents', {
      auth: lead.auth,
      body: { name: 'Mine', environment: 'prod', team_id: team.body.id },
    });
    expect(own.status).toBe(201);
    const foreign = await t.request('POST', '/v1/agents', {
      auth: lead.auth,
      body: { name: 'Theirs', environment: 'prod', team_id: other.body.id },
    });
    expect(foreign.status).toBe(403);
    const noTeam = await t.request('POST', '/v1/agents', {
      auth: lead.auth,
      body: { name: 'Loose', environment: 'prod' },
    });
    expect(noTeam.status).toBe(403);
    const salesAgent = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'SalesBot', environment: 'prod', team_id: other.body.id },
    });
    expect(
      (await t.request('PATCH', `/v1/agents/${salesAgent.body.id}`, { auth: lead.auth, body: { description: 'x' } }))
        .status,
    ).toBe(403);
    expect(
      (await t.request('PATCH', `/v1/agents/${own.body.id}`, { auth: lead.auth, body: { description: 'ok' } })).status,
    ).toBe(200);
    // Moving their agent to another team is moving it out of their reach: refused.
    expect(
      (await t.request('PATCH', `/v1/agents/${own.body.id}`, { auth: lead.auth, body: { team_id: other.body.id } }))
        .status,
    ).toBe(403);
    expect((await t.request('DELETE', `/v1/agents/${own.body.id}`, { auth: lead.auth })).status).toBe(204);
  });

  it('refuses a team of another org', async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    const teamB = await t.request('POST', '/v1/teams', { auth: b.apiKey, body: { name: 'B team' } });
    const r = await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: 'X', environment: 'prod', team_id: teamB.body.id },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].path).toBe('team_id');
  });

  it('answers plan_limit_reached with words when the plan has no room', async () => {
    const a = await t.seedOrg();
    await t.hub.ctx.db.db.updateTable('orgs').set({ plan: 'starter' }).where('id', '=', a.org.id).execute();
    for (let i = 0; i < 5; i++) {
      expect(
        (await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: `S${i}`, environment: 'test' } }))
          .status,
      ).toBe(201);
    }
    const over = await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'S5', environment: 'test' } });
    expect(over.status).toBe(402);
    expect(over.body.code).toBe('plan_limit_reached');
    expect(over.body.detail).toMatch(/starter plan allows 5 agents/);
  });
});

tenantIsolationSuite('agents', () => t, {
  create: async (a) =>
    (
      await t.request('POST', '/v1/agents', {
        auth: a.apiKey,
        body: { name: `Iso-${Date.now()}`, environment: 'prod' },
      })
    ).body,
  routes: (id) => [
    ['GET', `/v1/agents/${id}`],
    ['PATCH', `/v1/agents/${id}`, { description: 'hijack' }],
    ['DELETE', `/v1/agents/${id}`],
  ],
  list: ['/v1/agents'],
});
