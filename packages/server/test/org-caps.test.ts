/**
 * The caps on what one org may create (platform/org-caps.ts), tried as an attacker would: an org filled to
 * one below its cap creates one more, then the next create is refused with 409 problem+json naming the
 * cap, nothing already there is lost, and another org is not affected. Filling a cap through the API
 * would take thousands of requests, so all but the last rows are copies of one real row, written
 * straight to its table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/schema.ts';
import { trustedOrgId } from '../src/platform/caller.ts';
import { type CappedKind, ORG_CAPS } from '../src/platform/org-caps.ts';
import { createTestHub, type SeededOrg, type TestHub } from '../src/testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

let n = 0;
const unique = () => `${Date.now().toString(36)}${(n++).toString(36)}`;

interface Kind {
  kind: CappedKind;
  table: keyof Database;
  path: string;
  /** Where the created object sits in the answer (the API key's create answers `{key, api_key}`). */
  idOf?: (body: Record<string, unknown>) => string;
  body: () => Record<string, unknown>;
  auth?: 'owner';
}

const kinds: Kind[] = [
  {
    kind: 'policies',
    table: 'policies',
    path: '/v1/policies',
    body: () => ({
      name: `p ${unique()}`,
      status: 'active',
      rule: { when: { field: 'action.type', op: 'eq', value: 'refund' }, then: 'log_only' },
    }),
  },
  {
    kind: 'budgets',
    table: 'budgets',
    path: '/v1/budgets',
    body: () => ({ scope: 'org', amount_usd: 10, period: 'month' }),
  },
  {
    kind: 'alert rules',
    table: 'alert_rules',
    path: '/v1/alerts',
    body: () => ({
      name: `a ${unique()}`,
      signal: 'failed_runs',
      window_minutes: 60,
      threshold: 5,
      channels: [{ type: 'in_app' }],
    }),
  },
  {
    kind: 'webhooks',
    table: 'webhooks',
    path: '/v1/webhooks',
    body: () => ({ url: `https://hooks.example.test/${unique()}`, events: ['approval.requested'] }),
  },
  {
    kind: 'reports',
    table: 'reports',
    path: '/v1/reports',
    body: () => ({ name: `r ${unique()}`, template: 'weekly_summary', recipients: ['ops@acme.test'] }),
  },
  {
    kind: 'active API keys',
    table: 'api_keys',
    path: '/v1/api-keys',
    auth: 'owner',
    idOf: (b) => String((b.api_key as { id?: string } | undefined)?.id ?? b.id),
    body: () => ({ name: `k ${unique()}`, scopes: ['ingest'] }),
  },
  { kind: 'teams', table: 'teams', path: '/v1/teams', auth: 'owner', body: () => ({ name: `t ${unique()}` }) },
  {
    kind: 'invitations a day',
    table: 'invitations',
    path: '/v1/invitations',
    auth: 'owner',
    body: () => ({ email: `${unique()}@invited.test`, role: 'viewer' }),
  },
];

async function create(a: SeededOrg, k: Kind) {
  return t.request('POST', k.path, { auth: k.auth === 'owner' ? a.owner : a.apiKey, body: k.body() });
}

const countOf = async (k: Kind, a: SeededOrg) =>
  Number(
    (
      await t.hub.ctx.db.db
        .selectFrom(k.table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('org_id', '=', trustedOrgId(a.org.id))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Copies the row `id` of `k.table` until the org has `total` rows there (ids and unique columns made new). */
async function fillTo(k: Kind, a: SeededOrg, id: string, total: number) {
  const db = t.hub.ctx.db.db;
  const row = (await db.selectFrom(k.table).selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as Record<
    string,
    unknown
  >;
  const missing = total - (await countOf(k, a));
  const copies = Array.from({ length: missing }, (_, i) => ({
    ...row,
    id: `${id}c${i}`,
    ...('key_hash' in row ? { key_hash: `${row.key_hash}c${i}` } : {}),
    ...('token_hash' in row ? { token_hash: `${row.token_hash}c${i}` } : {}),
    ...(k.table === 'teams' ? { name: `${row.name} ${i}` } : {}),
  }));
  for (let i = 0; i < copies.length; i += 200)
    await db
      .insertInto(k.table)
      .values(copies.slice(i, i + 200) as never)
      .execute();
}

describe('per-org caps on configuration', () => {
  for (const k of kinds) {
    it(`${k.kind}: the create past ${ORG_CAPS[k.kind]} is refused, nothing is lost, another org is not affected`, async () => {
      const a = await t.seedOrg();
      const first = await create(a, k);
      expect(first.status, first.text).toBe(201);
      const firstId = k.idOf ? k.idOf(first.body) : String(first.body.id);
      await fillTo(k, a, firstId, ORG_CAPS[k.kind] - 1);

      const last = await create(a, k);
      expect(last.status, last.text).toBe(201);
      expect(await countOf(k, a)).toBe(ORG_CAPS[k.kind]);

      const refused = await create(a, k);
      expect(refused.status).toBe(409);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.body.detail).toBe(`An organization can have at most ${ORG_CAPS[k.kind]} ${k.kind}.`);
      expect(await countOf(k, a)).toBe(ORG_CAPS[k.kind]);

      // The list answers every one of them in one page: the cap is what bounds it.
      const list = await t.request('GET', k.path, { auth: a.owner });
      expect(list.status).toBe(200);
      expect(list.body.data.length).toBe(ORG_CAPS[k.kind]);
      expect(list.body.next_cursor).toBeNull();

      const other = await t.seedOrg();
      expect((await create(other, k)).status).toBe(201);
    });
  }

  it('revoked API keys do not count against the cap', async () => {
    const k = kinds.find((x) => x.kind === 'active API keys')!;
    const a = await t.seedOrg();
    const first = await create(a, k);
    const firstId = k.idOf!(first.body);
    await fillTo(k, a, firstId, ORG_CAPS[k.kind]);
    expect((await create(a, k)).status).toBe(409);
    expect((await t.request('DELETE', `/v1/api-keys/${firstId}`, { auth: a.owner })).status).toBe(200);
    expect((await create(a, k)).status).toBe(201);
  });

  it('invitations count for a day whatever became of them: revoking and inviting again does not get round it', async () => {
    const k = kinds.find((x) => x.kind === 'invitations a day')!;
    const a = await t.seedOrg();
    const first = await create(a, k);
    await fillTo(k, a, String(first.body.id), ORG_CAPS[k.kind]);
    expect((await t.request('DELETE', `/v1/invitations/${first.body.id}`, { auth: a.owner })).status).toBe(204);
    expect((await create(a, k)).status).toBe(409);
    // A day later they no longer count.
    await t.hub.ctx.db.db
      .updateTable('invitations')
      .set({ created_at: Date.now() - 86_400_001 })
      .where('org_id', '=', trustedOrgId(a.org.id))
      .execute();
    expect((await create(a, k)).status).toBe(201);
  });

  it('org exports: five a day, then 409 until a day has passed', async () => {
    const a = await t.seedOrg();
    const exportNow = () => t.request('POST', '/v1/org/export', { auth: a.apiKey });
    for (let i = 0; i < ORG_CAPS['exports a day']; i++) expect((await exportNow()).status).toBe(202);
    const refused = await exportNow();
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(`An organization can have at most ${ORG_CAPS['exports a day']} exports a day.`);
    await t.hub.ctx.db.db
      .updateTable('org_exports')
      .set({ created_at: Date.now() - 86_400_001 })
      .where('org_id', '=', trustedOrgId(a.org.id))
      .execute();
    expect((await exportNow()).status).toBe(202);
  });
});
