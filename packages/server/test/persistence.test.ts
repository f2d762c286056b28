/** What was accepted survives a restart, and headless init runs once, idempotently. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHub } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { headlessInit } from '../src/init.ts';
import { createTestDatabase } from '../src/testing/test-db.ts';

const KEY = `ahk_${'a1B2c3D4'.repeat(6)}`;
const dbs: Awaited<ReturnType<typeof createTestDatabase>>[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

async function boot(database: Awaited<ReturnType<typeof createTestDatabase>>) {
  const config = loadConfig({
    HUB_DATA_DIR: database.dataDir,
    HUB_PUBLIC_URL: 'http://hub.test',
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    HUB_INIT_ORG_NAME: 'Acme',
    HUB_INIT_USER_EMAIL: 'Owner@Acme.test',
    HUB_INIT_USER_PASSWORD: 'correct-horse-battery-9',
    HUB_INIT_API_KEY: KEY,
  });
  const hub = await buildHub(config, { logger: false });
  const init = await headlessInit(hub.ctx);
  const get = async (url: string, auth = KEY) =>
    hub.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${auth}` } });
  return { hub, init, get, config };
}

describe('restart and headless init', () => {
  it('creates owner, org and key once; keeps everything across restarts; stores no secret in clear', async () => {
    const database = await createTestDatabase();
    dbs.push(database);
    const first = await boot(database);
    expect(first.init?.created).toEqual(['user', 'org', 'api_key']);
    const me = JSON.parse((await first.get('/v1/me')).body);
    expect(me.org.name).toBe('Acme');
    const agent = await first.hub.app.inject({
      method: 'POST',
      url: '/v1/agents',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        name: 'Survivor',
        environment: 'prod',
        provider: { kind: 'mcp', connection: { token: 'mcp-secret-xyz' } },
      }),
    });
    expect(agent.statusCode).toBe(201);
    await first.hub.close();

    const second = await boot(database);
    expect(second.init?.created).toEqual([]);
    const me2 = JSON.parse((await second.get('/v1/me')).body);
    expect(me2.org.id).toBe(me.org.id);
    const again = await second.get('/v1/agents/Survivor');
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body).provider.connection_fields).toEqual(['token']);
    const orgs = await second.hub.ctx.db.db.selectFrom('orgs').select('id').execute();
    expect(orgs).toHaveLength(1);
    const verify = JSON.parse((await second.get('/v1/audit/verify')).body);
    expect(verify.ok).toBe(true);
    await second.hub.close();

    if (!database.databaseUrl) {
      const files: string[] = [];
      (function walk(d: string) {
        for (const f of readdirSync(d)) {
          const p = join(d, f);
          if (statSync(p).isDirectory()) walk(p);
          else files.push(p);
        }
      })(database.dataDir);
      const raw = files.map((f) => readFileSync(f).toString('latin1')).join('\n');
      expect(raw).not.toContain(KEY);
      expect(raw).not.toContain('correct-horse-battery-9');
      expect(raw).not.toContain('mcp-secret-xyz');
    }
  });

  it('stops with a message naming the variable when configuration is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(/PORT[\s\S]*DATABASE_URL/);
    expect(() => loadConfig({ HUB_INIT_API_KEY: 'not-a-key' })).toThrow(/HUB_INIT_API_KEY/);
  });
});
