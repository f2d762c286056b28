import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { extract } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedOrgId } from '../../platform/caller.ts';
import { tenantIsolationSuite } from '../../testing/tenant-isolation.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';
import { allTables, orgScopedTables } from './org-tables.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();
const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((x, y) => (x.id < y.id ? -1 : 1));

/** An org with something in most tables: agents, runs and events, a decision and an approval, a pack
 * (policies, a budget, notification settings), a team, an invitation, a webhook, an old archived run. */
async function populatedOrg(name: string) {
  const a = await t.seedOrg(name);
  const req = (method: string, url: string, body?: unknown) => t.request(method, url, { auth: a.apiKey, body });
  await req('PATCH', '/v1/org', { industry: 'saas' });
  await req('POST', '/v1/agents', { name: 'OutreachBot', type: 'outreach', environment: 'prod', tags: ['sales'] });
  await req('POST', '/v1/policy-packs/default-saas-starter/apply', {});
  await req('POST', '/v1/policy-packs/conservative-discounts/apply', {});
  const now = Date.now();
  for (const [runId, at] of [
    ['run-1', now - 60_000],
    ['run-2', now - 30_000],
    ['run-old', Date.parse('2020-03-01T00:00:00Z')],
  ] as const) {
    const r = await req('POST', '/v1/ingest/run', {
      run_id: runId,
      agent: 'OutreachBot',
      status: 'completed',
      started_at: iso(at),
      ended_at: iso(at + 500),
      input: { note: `${name} ${runId}` },
      output: { ok: true },
      usage: { model: 'gpt-4o', input_tokens: 100, output_tokens: 20 },
      events: [
        { event_id: `${runId}-e1`, type: 'tool_called', timestamp: iso(at + 10), payload: { tool: 'crm' } },
        { event_id: `${runId}-e2`, type: 'tool_result', timestamp: iso(at + 20), payload: { ok: true } },
      ],
    });
    expect(r.status).toBe(202);
  }
  await t.hub.ctx.enrichment.catchUp();
  const held = await req('POST', '/v1/policy/evaluate', {
    agent: 'OutreachBot',
    action: { type: 'send_email', discount: 35 },
    run_id: 'run-1',
  });
  expect(held.body.decision).toBe('REQUIRE_APPROVAL');
  await req('POST', '/v1/policy/evaluate', { agent: 'OutreachBot', action: { type: 'send_email', discount: 5 } });
  await req('POST', '/v1/teams', { name: 'Sales' });
  await t.request('POST', '/v1/invitations', {
    auth: a.owner,
    body: { email: `x-${name}@example.test`, role: 'member' },
  });
  const hook = await req('POST', '/v1/webhooks', {
    url: 'https://hooks.example.test/in',
    events: ['approval.requested'],
  });
  expect(hook.status).toBe(201);
  // Cold storage: the old run leaves the database for a gzipped archive under the data dir.
  await t.hub.ctx.retention.runAll();
  await t.hub.ctx.evaluator.flushHits();
  await t.hub.ctx.jobs.drain();
  return { ...a, webhookSecret: hook.body.secret as string };
}

async function exportArchive(a: SeededOrg) {
  const started = await t.request('POST', '/v1/org/export', { auth: a.apiKey });
  expect(started.status, started.text).toBe(202);
  expect(started.body.status).toBe('pending');
  const pending = await t.request('GET', `/v1/org/export/${started.body.id}`, { auth: a.apiKey });
  expect(pending.status).toBe(202);
  await t.hub.ctx.jobs.drain(60_000);
  const got = await t.hub.app.inject({
    method: 'GET',
    url: `/v1/org/export/${started.body.id}`,
    headers: { authorization: `Bearer ${a.apiKey}` },
  });
  expect(got.statusCode, got.body).toBe(200);
  expect(got.headers['content-type']).toContain('application/gzip');
  const dir = mkdtempSync(join(tmpdir(), 'hub-export-'));
  const file = join(dir, 'export.tar.gz');
  writeFileSync(file, got.rawPayload);
  const out = join(dir, 'x');
  mkdirSync(out);
  await extract({ file, cwd: out });
  const read = (name: string) =>
    readFileSync(join(out, name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  return {
    id: started.body.id as string,
    names: readdirSync(out),
    read,
    raw: (name: string) => readFileSync(join(out, name), 'utf8'),
    bytes: (name: string) => readFileSync(join(out, name)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('org export', () => {
  it('writes everything the org owns as JSONL, in the shapes the API shows, and no secret', async () => {
    const a = await populatedOrg('Exporter');
    const get = async (url: string) => (await t.request('GET', url, { auth: a.apiKey })).body;
    const x = await exportArchive(a);
    try {
      for (const f of ['manifest.json', 'org.jsonl', 'members.jsonl', 'agents.jsonl', 'runs.jsonl', 'events.jsonl'])
        expect(x.names).toContain(f);
      for (const f of ['policies.jsonl', 'decisions.jsonl', 'approvals.jsonl', 'budgets.jsonl', 'audit.jsonl'])
        expect(x.names).toContain(f);
      // Tables nobody listed by hand are there too (found by their org_id column).
      for (const f of ['webhooks.jsonl', 'policy_pack_items.jsonl', 'notification_prefs.jsonl', 'rollups_hourly.jsonl'])
        expect(x.names).toContain(f);

      expect(x.read('org.jsonl')).toEqual([await get('/v1/org')]);
      expect(x.read('members.jsonl')).toEqual((await get('/v1/members')).data);
      expect(byId(x.read('agents.jsonl'))).toEqual(byId((await get('/v1/agents')).data));
      expect(byId(x.read('policies.jsonl'))).toEqual(byId((await get('/v1/policies')).data));
      expect(byId(x.read('approvals.jsonl'))).toEqual(byId((await get('/v1/approvals')).data));
      expect(x.read('api_keys.jsonl')).toEqual((await get('/v1/api-keys')).data);
      expect(x.read('teams.jsonl')).toEqual((await get('/v1/teams')).data);
      const runs = (await get('/v1/runs')).data;
      expect(runs).toHaveLength(2); // the old run is in cold storage now
      expect(byId(x.read('runs.jsonl'))).toEqual(byId(runs).map((r) => expect.objectContaining(r)));
      const replay = await get('/v1/runs/run-1');
      const events = x.read('events.jsonl').filter((e) => e.run_id === 'run-1');
      expect(events.map((e) => e.id).sort()).toEqual(replay.events.map((e: { id: string }) => e.id).sort());
      expect(
        x
          .read('decisions.jsonl')
          .filter((d) => d.run_id === 'run-1')
          .map((d) => d.id)
          .sort(),
      ).toEqual(replay.decisions.map((d: { id: string }) => d.id).sort());
      expect(x.read('budgets.jsonl').map((b) => b.id)).toEqual(
        (await get('/v1/budgets')).data.map((b: { id: string }) => b.id),
      );
      // The audit log as GET /v1/audit shows it, up to the export request.
      const audit = x.read('audit.jsonl');
      const shown = new Map((await get('/v1/audit?limit=200')).data.map((e: { id: string }) => [e.id, e]));
      expect(audit.length).toBeGreaterThan(5);
      for (const e of audit) expect(e).toEqual(shown.get(e.id));
      expect(audit.at(-1).action).toBe('org.export_requested');

      const manifest = JSON.parse(x.raw('manifest.json'));
      expect(manifest.org_id).toBe(a.org.id);
      for (const f of manifest.files.filter((f: { name: string }) => !f.name.startsWith('cold/')))
        expect(x.read(f.name)).toHaveLength(f.rows);
      // Cold storage comes along: the retention archive that holds the old run.
      const cold = manifest.files.filter((f: { name: string }) => f.name.startsWith('cold/'));
      expect(cold.length).toBeGreaterThan(0);
      const coldText = cold.map((f: { name: string }) => gunzipSync(x.bytes(f.name)).toString()).join('\n');
      expect(coldText).toContain('run-old');
      expect(cold.reduce((n: number, f: { rows: number }) => n + f.rows, 0)).toBe(
        coldText.split('\n').filter(Boolean).length,
      );

      const everything = x.names
        .filter((n) => n.endsWith('.jsonl'))
        .map(x.raw)
        .join('\n');
      expect(everything).not.toContain(a.apiKey);
      expect(everything).not.toContain(a.webhookSecret);
      expect(everything).not.toMatch(/"(key_hash|token_hash|secret|provider_secret)"/);

      const list = await get('/v1/org/exports');
      expect(list.data[0]).toMatchObject({ id: x.id, status: 'completed', download_url: `/v1/org/export/${x.id}` });
      const auditNow = (await get('/v1/audit?entity_type=org')).data.map((e: { action: string }) => e.action);
      expect(auditNow).toContain('org.export_downloaded');
      // Deleting the export drops its archive.
      const archive = join(t.config.dataDir, 'exports', a.org.id, `${x.id}.tar.gz`);
      expect(existsSync(archive)).toBe(true);
      expect((await t.request('DELETE', `/v1/org/exports/${x.id}`, { auth: a.apiKey })).status).toBe(204);
      expect(existsSync(archive)).toBe(false);
      expect((await t.request('GET', `/v1/org/exports/${x.id}`, { auth: a.apiKey })).status).toBe(404);
    } finally {
      x.cleanup();
    }
  });

  it('only owners may export or download: an admin and an admin key get 403', async () => {
    const a = await t.seedOrg();
    const admin = await t.addMember(a, 'admin');
    expect((await t.request('POST', '/v1/org/export', { auth: admin.auth })).status).toBe(403);
    const key = await t.request('POST', '/v1/api-keys', { auth: a.owner, body: { name: 'adm', scopes: ['admin'] } });
    expect((await t.request('POST', '/v1/org/export', { auth: key.body.key })).status).toBe(403);
    const mine = await t.request('POST', '/v1/org/export', { auth: a.owner });
    expect(mine.status).toBe(202);
    expect((await t.request('GET', `/v1/org/export/${mine.body.id}`, { auth: admin.auth })).status).toBe(403);
  });
});

tenantIsolationSuite('org exports', () => t, {
  create: async (a) => (await t.request('POST', '/v1/org/export', { auth: a.apiKey })).body,
  routes: (id) => [
    ['GET', `/v1/org/exports/${id}`],
    ['GET', `/v1/org/export/${id}`],
    ['DELETE', `/v1/org/exports/${id}`],
  ],
  list: ['/v1/org/exports'],
});

/** Rows of each org-scoped table that belong to `orgId`. */
async function countsOf(orgId: string) {
  const db = t.hub.ctx.db;
  const out: Record<string, number> = {};
  for (const table of await orgScopedTables(db.db, db.dialect)) {
    const r = await sql<{
      n: number | string;
    }>`SELECT count(*) AS n FROM ${sql.table(table)} WHERE org_id = ${orgId}`.execute(db.db);
    out[table] = Number(r.rows[0]!.n);
  }
  return out;
}

/** Every row of every table in which any column mentions `text`: [table, row] pairs. */
async function rowsMentioning(text: string) {
  const db = t.hub.ctx.db;
  const found: [string, Record<string, unknown>][] = [];
  for (const table of await allTables(db.db, db.dialect)) {
    const cols =
      db.dialect === 'sqlite'
        ? (await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`.execute(db.db)).rows
        : (
            await sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = ${table}`.execute(db.db)
          ).rows;
    if (!cols.length) continue;
    const pattern = `%${text}%`;
    const where = sql.join(
      cols.map((c) =>
        db.dialect === 'sqlite'
          ? sql`CAST(${sql.ref(c.name)} AS TEXT) LIKE ${pattern}`
          : sql`CAST(${sql.ref(c.name)} AS TEXT) LIKE ${pattern}`,
      ),
      sql` OR `,
    );
    const rows = (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} WHERE ${where}`.execute(db.db))
      .rows;
    for (const r of rows) found.push([table, r]);
  }
  return found;
}

describe('org deletion', () => {
  it('needs the owner and the exact org name', async () => {
    const a = await t.seedOrg('Careful Co');
    const admin = await t.addMember(a, 'admin');
    expect((await t.request('DELETE', '/v1/org', { auth: admin.auth, body: { confirm: 'Careful Co' } })).status).toBe(
      403,
    );
    const wrong = await t.request('DELETE', '/v1/org', { auth: a.apiKey, body: { confirm: 'careful co' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].path).toBe('confirm');
    expect((await t.request('GET', '/v1/org', { auth: a.apiKey })).status).toBe(200);
  });

  it("erases every row of the org in every table and its archives, keeps only a tombstone, and leaves org A's rows as they were", async () => {
    const a = await populatedOrg('Keeper A');
    const b = await populatedOrg('Leaver B');
    const x = await exportArchive(b);
    x.cleanup();
    const dataDir = t.config.dataDir;
    expect(existsSync(join(dataDir, 'exports', b.org.id))).toBe(true);
    expect(readdirSync(join(dataDir, 'archives', b.org.id)).length).toBeGreaterThan(0);

    const countsA = await countsOf(a.org.id);
    const countsB = await countsOf(b.org.id);
    for (const table of [
      'agents',
      'runs',
      'events',
      'policies',
      'decisions',
      'approvals',
      'budgets',
      'audit_log',
      'members',
    ])
      expect(countsB[table], table).toBeGreaterThan(0);
    const verifyA = (await t.request('GET', '/v1/audit/verify', { auth: a.apiKey })).body;

    const r = await t.request('DELETE', '/v1/org', { auth: b.owner, body: { confirm: 'Leaver B' } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.rows_deleted.events).toBe(countsB.events);

    // Every table, every column: nothing names org B but its tombstone.
    const left = await rowsMentioning(b.org.id);
    expect(left.map(([table, row]) => [table, row.action])).toEqual([['audit_log', 'org.deleted']]);
    const tomb = left[0]![1];
    expect(String(tomb.changes)).not.toContain('Leaver B');
    expect(String(tomb.changes)).not.toContain(b.email);
    expect(tomb.actor_name).toBeNull();
    for (const [table, n] of Object.entries(await countsOf(b.org.id)))
      expect(n, table).toBe(table === 'audit_log' ? 1 : 0);
    // Nothing that named its name is left either (runs' search index included).
    expect((await rowsMentioning('Leaver B')).map(([table]) => table)).toEqual([]);
    // Hot and cold storage: no export archive, no retention archive.
    expect(existsSync(join(dataDir, 'exports', b.org.id))).toBe(false);
    expect(existsSync(join(dataDir, 'archives', b.org.id))).toBe(false);
    expect(existsSync(join(dataDir, 'archives', a.org.id))).toBe(true);

    // Org A: the same rows, and its audit chain intact.
    expect(await countsOf(a.org.id)).toEqual(countsA);
    expect((await t.request('GET', '/v1/audit/verify', { auth: a.apiKey })).body).toEqual(verifyA);
    expect((await t.request('GET', '/v1/runs', { auth: a.apiKey })).body.data).toHaveLength(2);

    // B's credentials lead nowhere now.
    expect((await t.request('GET', '/v1/agents', { auth: b.apiKey })).status).toBe(401);
    const me = await t.request('GET', '/v1/me', { auth: { cookie: b.cookie } });
    expect(me.body.org).toBeNull();
    expect(me.body.orgs).toEqual([]);
    // The tombstone is append-only like every audit row.
    await expect(
      t.hub.ctx.db.db.deleteFrom('audit_log').where('org_id', '=', trustedOrgId(b.org.id)).execute(),
    ).rejects.toThrow(/append-only/);
  });
});
