/**
 * The permission matrix, role by role, through real HTTP: what each role may do and what it is
 * refused (403 problem+json `forbidden`), and `GET /v1/me` telling the console the same thing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../src/testing/test-hub.ts';

let t: TestHub;
let org: SeededOrg;
const auth: Record<string, { cookie: string; org: string }> = {};
const ROLES = ['owner', 'admin', 'team_lead', 'member', 'viewer'] as const;

beforeAll(async () => {
  // The matrix registers a webhook on loopback, which the egress guard refuses unless the operator allows it.
  t = await createTestHub({ HUB_EGRESS_ALLOW: '127.0.0.1' });
  org = await t.seedOrg('Matrix');
  auth.owner = org.owner;
  for (const role of ROLES.slice(1)) auth[role] = (await t.addMember(org, role)).auth;
});
afterAll(async () => t?.close());

type Row = [
  what: string,
  method: string,
  path: () => string,
  body: (() => unknown) | undefined,
  allowed: (typeof ROLES)[number][],
];
let n = 0;
const MATRIX: Row[] = [
  ['list agents', 'GET', () => '/v1/agents', undefined, ['owner', 'admin', 'team_lead', 'member', 'viewer']],
  [
    'create an agent outside any team',
    'POST',
    () => '/v1/agents',
    () => ({ name: `m-${n++}`, environment: 'test' }),
    ['owner', 'admin'],
  ],
  ['read the org', 'GET', () => '/v1/org', undefined, ['owner', 'admin', 'team_lead', 'member', 'viewer']],
  ['change org settings', 'PATCH', () => '/v1/org', () => ({ locale: 'en-GB' }), ['owner', 'admin']],
  ['list API keys', 'GET', () => '/v1/api-keys', undefined, ['owner', 'admin']],
  ['create an API key', 'POST', () => '/v1/api-keys', () => ({ name: 'k', scopes: ['read'] }), ['owner', 'admin']],
  ['list members', 'GET', () => '/v1/members', undefined, ['owner', 'admin', 'team_lead', 'member', 'viewer']],
  [
    'invite a member',
    'POST',
    () => '/v1/invitations',
    () => ({ email: `x${n++}@example.test`, role: 'member' }),
    ['owner', 'admin'],
  ],
  ['create a team', 'POST', () => '/v1/teams', () => ({ name: `team-${n++}` }), ['owner', 'admin']],
  ['read the audit log', 'GET', () => '/v1/audit', undefined, ['owner', 'admin', 'team_lead']],
  ['list webhooks', 'GET', () => '/v1/webhooks', undefined, ['owner', 'admin']],
  [
    'create a webhook',
    'POST',
    () => '/v1/webhooks',
    () => ({ url: 'http://127.0.0.1:9/hook', events: ['agent.paused'] }),
    ['owner', 'admin'],
  ],
  [
    'read notifications',
    'GET',
    () => '/v1/notifications',
    undefined,
    ['owner', 'admin', 'team_lead', 'member', 'viewer'],
  ],
  ['read privacy settings', 'GET', () => '/v1/privacy', undefined, ['owner', 'admin', 'team_lead', 'member', 'viewer']],
  ['change privacy settings', 'PUT', () => '/v1/privacy', () => ({ capture: 'full' }), ['owner', 'admin']],
  ['re-redact stored data', 'POST', () => '/v1/privacy/redact-stored', undefined, ['owner', 'admin']],
  [
    'test a privacy sample (shows content)',
    'POST',
    () => '/v1/privacy/test',
    () => ({ payload: 'x' }),
    ['owner', 'admin'],
  ],
];

describe('permission matrix', () => {
  for (const [what, method, path, body, allowed] of MATRIX) {
    it(`${what}: ${allowed.join(', ')} may; the others get 403`, async () => {
      for (const role of ROLES) {
        const r = await t.request(method, path(), { auth: auth[role], body: body?.() });
        if (allowed.includes(role)) expect(r.status, `${role} ${method} ${path()}: ${r.text}`).toBeLessThan(300);
        else {
          expect(r.status, `${role} ${method} ${path()}`).toBe(403);
          expect(r.body.code).toBe('forbidden');
        }
      }
    });
  }

  it('GET /v1/me returns each role its permissions, so the console can hide what it may not do', async () => {
    const perms: Record<string, string[]> = {};
    for (const role of ROLES) {
      const me = await t.request('GET', '/v1/me', { auth: auth[role] });
      expect(me.body.org.role).toBe(role);
      perms[role] = me.body.permissions;
    }
    expect(perms.owner).toContain('org:delete');
    expect(perms.admin).not.toContain('org:delete');
    expect(perms.admin).toContain('api_keys:manage');
    expect(perms.team_lead).toContain('agents:edit:team');
    expect(perms.team_lead).not.toContain('agents:edit');
    expect(perms.member).toContain('approvals:decide');
    expect(perms.viewer).not.toContain('approvals:decide'); // viewers never approve
    expect(perms.viewer.every((p) => p.endsWith(':read'))).toBe(true);
    // Content of runs: owners and admins only (docs/privacy.md).
    for (const role of ROLES)
      expect(perms[role].includes('view_content'), role).toBe(role === 'owner' || role === 'admin');
  });

  it('API key scopes map to permissions: ingest, read, admin, full', async () => {
    const scopes: Record<string, string[]> = {};
    for (const s of ['ingest', 'read', 'admin', 'full']) {
      const k = await t.request('POST', '/v1/api-keys', { auth: org.apiKey, body: { name: s, scopes: [s] } });
      scopes[s] = (await t.request('GET', '/v1/me', { auth: k.body.key })).body.permissions;
    }
    expect(scopes.ingest).toEqual(expect.arrayContaining(['ingest:write', 'policy:evaluate', 'controls:read']));
    expect(scopes.ingest).not.toContain('agents:create');
    expect(scopes.read.every((p) => p.endsWith(':read'))).toBe(true);
    expect(scopes.admin).not.toContain('org:delete');
    expect(scopes.full).toContain('org:delete');
  });
});
