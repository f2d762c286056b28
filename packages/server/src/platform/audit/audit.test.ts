import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

/** Edits one audit row behind the hub's back, the way an attacker with file/DB access would. */
async function tamper(sqlText: string) {
  const ctx = t.hub.ctx;
  if (ctx.db.dialect === 'sqlite') {
    const file = new Database(join(t.config.dataDir, 'hub.db'));
    file.exec('DROP TRIGGER audit_log_no_update');
    file.exec(sqlText);
    file.exec(
      `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
    );
    file.close();
  } else {
    const c = new pg.Client({ connectionString: t.config.databaseUrl });
    await c.connect();
    await c.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    await c.query(sqlText);
    await c.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    await c.end();
  }
}

describe('hub audit log', () => {
  it('chains every entry and verifies', async () => {
    const a = await t.seedOrg();
    await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Chained', environment: 'prod' } });
    const v = await t.request('GET', '/v1/audit/verify', { auth: a.apiKey });
    expect(v.body).toMatchObject({ ok: true });
    expect(v.body.entries).toBeGreaterThanOrEqual(4); // org, owner, key, agent
    const list = await t.request('GET', '/v1/audit?limit=200', { auth: a.apiKey });
    const entries = [...list.body.data].reverse();
    for (let i = 1; i < entries.length; i++) expect(entries[i].prev_hash).toBe(entries[i - 1].hash);
    expect(entries[entries.length - 1].hash).toBe(v.body.head_hash);
  });

  it('is append-only: the database itself refuses updates and deletes', async () => {
    const a = await t.seedOrg();
    const db = t.hub.ctx.db.db;
    await expect(
      db.updateTable('audit_log').set({ action: 'forged' }).where('org_id', '=', a.org.id).execute(),
    ).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('audit_log').where('org_id', '=', a.org.id).execute()).rejects.toThrow(/append-only/);
  });

  it('detects an entry edited in the database file', async () => {
    const a = await t.seedOrg();
    await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Victim', environment: 'prod' } });
    expect((await t.request('GET', '/v1/audit/verify', { auth: a.apiKey })).body.ok).toBe(true);
    await tamper(
      `UPDATE audit_log SET actor_name = 'someone else' WHERE org_id = '${a.org.id}' AND action = 'agent.created'`,
    );
    const v = await t.request('GET', '/v1/audit/verify', { auth: a.apiKey });
    expect(v.body.ok).toBe(false);
    expect(v.body.problem).toBe('entry was modified');
    // Another org's chain is untouched by it.
    const b = await t.seedOrg();
    expect((await t.request('GET', '/v1/audit/verify', { auth: b.apiKey })).body.ok).toBe(true);
  });

  it('detects a deleted entry', async () => {
    const a = await t.seedOrg();
    await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'Gone', environment: 'prod' } });
    const ctx = t.hub.ctx;
    if (ctx.db.dialect === 'sqlite') {
      const file = new Database(join(t.config.dataDir, 'hub.db'));
      file.exec('DROP TRIGGER audit_log_no_delete');
      file.exec(`DELETE FROM audit_log WHERE org_id = '${a.org.id}' AND seq = 2`);
      file.close();
    } else {
      await tamper(`DELETE FROM audit_log WHERE org_id = '${a.org.id}' AND seq = 2`);
    }
    const v = await t.request('GET', '/v1/audit/verify', { auth: a.apiKey });
    expect(v.body).toMatchObject({ ok: false, broken_at_seq: 2 });
  });

  it('filters and exports as JSONL and CSV', async () => {
    const a = await t.seedOrg();
    await t.request('POST', '/v1/agents', {
      auth: a.apiKey,
      body: { name: '=cmd|calc, "quoted"', environment: 'prod' },
    });
    const agents = await t.request('GET', '/v1/audit?entity_type=agent', { auth: a.apiKey });
    expect(agents.body.data).toHaveLength(1);
    expect(agents.body.data[0].actor.type).toBe('api_key');
    const jsonl = await t.request('GET', '/v1/audit?format=jsonl', { auth: a.apiKey });
    expect(jsonl.headers['content-type']).toContain('application/x-ndjson');
    const lines = jsonl.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.action === 'agent.created')).toBe(true);
    const csv = await t.request('GET', '/v1/audit?format=csv&entity_type=agent', { auth: a.apiKey });
    expect(csv.headers['content-type']).toContain('text/csv');
    const [header, row] = csv.text.trim().split('\n');
    expect(header).toBe(
      'id,seq,at,actor_type,actor_id,actor_name,action,entity_type,entity_id,reason,changes,hash,prev_hash',
    );
    expect(row).toContain('agent.created');
    // The agent name holds a quote and a comma: the changes cell is quoted, its quotes doubled.
    expect(row).toMatch(/,"\{""id"":""agt_/);
    expect(row).toContain(String.raw`""name"":""=cmd|calc, \""quoted\""""`);
    const future = await t.request(
      'GET',
      `/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      {
        auth: a.apiKey,
      },
    );
    expect(future.body.data).toHaveLength(0);
  });

  it('pages with a cursor', async () => {
    const a = await t.seedOrg();
    for (let i = 0; i < 3; i++)
      await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: `P${i}`, environment: 'prod' } });
    const p1 = await t.request('GET', '/v1/audit?limit=2', { auth: a.apiKey });
    const p2 = await t.request('GET', `/v1/audit?limit=2&cursor=${p1.body.next_cursor}`, { auth: a.apiKey });
    expect(p2.body.data[0].seq).toBe(p1.body.data[1].seq - 1);
  });
});
