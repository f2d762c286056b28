/**
 * The shared tenant-isolation suite (testing/tenant-isolation.ts) on the platform's own resources:
 * webhooks, teams, members, invitations, notifications and the audit log. tenant-isolation-all.test.ts
 * proves every route with an id answers 404 across orgs; this adds the lists (org B's lists hold nothing
 * of org A) and the session naming org A in X-Org-Id, resource by resource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedOrgId } from '../src/platform/caller.ts';
import { tenantIsolationSuite } from '../src/testing/tenant-isolation.ts';
import { type Auth, createTestHub, type SeededOrg, type TestHub, uniqueEmail } from '../src/testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const rand = () => Math.random().toString(36).slice(2, 8);

async function ok(method: string, url: string, auth: Auth, body?: unknown) {
  const r = await t.request(method, url, { auth, body });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
  return r.body;
}

tenantIsolationSuite('webhooks', () => t, {
  create: async (a) => {
    const marker = `iso-hook-${rand()}`;
    const w = await ok('POST', '/v1/webhooks', a.apiKey, {
      url: `https://hooks.example.test/${marker}`,
      events: ['approval.requested'],
      description: marker,
    });
    return { id: w.id, marker };
  },
  marker: (w) => String(w.marker),
  routes: (id) => [
    ['GET', `/v1/webhooks/${id}/deliveries`],
    ['POST', `/v1/webhooks/${id}/test`, {}],
    ['DELETE', `/v1/webhooks/${id}`],
  ],
  list: ['/v1/webhooks'],
});

tenantIsolationSuite('teams', () => t, {
  create: async (a) => {
    const name = `IsoTeam-${rand()}`;
    return { ...(await ok('POST', '/v1/teams', a.owner, { name })), name };
  },
  marker: (team) => String(team.name),
  routes: (id) => [
    ['POST', `/v1/teams/${id}/members`, { member_id: 'mem_nowhere' }],
    ['DELETE', `/v1/teams/${id}`],
  ],
  list: ['/v1/teams'],
});

tenantIsolationSuite('members', () => t, {
  create: async (a) => {
    const m = await t.addMember(a, 'viewer');
    return { id: m.memberId, email: m.email };
  },
  marker: (m) => String(m.email),
  routes: (id) => [
    ['GET', `/v1/members/${id}`],
    ['PATCH', `/v1/members/${id}`, { role: 'admin' }],
    ['DELETE', `/v1/members/${id}`],
  ],
  list: ['/v1/members'],
});

tenantIsolationSuite('invitations', () => t, {
  create: async (a) => {
    const email = uniqueEmail('iso-invitee');
    return { ...(await ok('POST', '/v1/invitations', a.owner, { email, role: 'viewer' })), email };
  },
  marker: (inv) => String(inv.email),
  routes: (id) => [['DELETE', `/v1/invitations/${id}`]],
  list: ['/v1/invitations'],
});

/** A notification for org A's owner (the service every module calls; no route makes one on demand). */
async function notifyOwner(o: SeededOrg) {
  const title = `iso-notification-${rand()}`;
  await t.hub.ctx.notifications.notify(trustedOrgId(o.org.id), {
    topic: 'approvals',
    type: 'iso.test',
    title,
    body: title,
  });
  const list = await ok('GET', '/v1/notifications', o.owner);
  const n = (list.data as { id: string; title: string }[]).find((x) => x.title === title);
  if (!n) throw new Error('notification not listed');
  return { id: n.id, title };
}

// Marking read belongs to a person (an API key is refused for any id), so the by-id route is checked
// with sessions below; the suite checks the lists with both credentials.
tenantIsolationSuite('notifications', () => t, {
  create: notifyOwner,
  marker: (n) => String(n.title),
  routes: () => [],
  list: ['/v1/notifications', '/v1/notifications?unread=true'],
});

describe('tenant isolation: notifications and the audit log, by session', () => {
  let a: SeededOrg;
  let b: SeededOrg;
  beforeAll(async () => {
    a = await t.seedOrg();
    b = await t.seedOrg();
  });

  it("org B's person cannot mark org A's notification read (404), and it stays unread for A", async () => {
    const n = await notifyOwner(a);
    for (const auth of [b.owner, { cookie: b.cookie, org: a.org.id }]) {
      const r = await t.request('POST', `/v1/notifications/${n.id}/read`, { auth });
      expect(r.status).toBe(404);
      expect(r.text).not.toContain(n.title);
    }
    const unread = await ok('GET', '/v1/notifications?unread=true', a.owner);
    expect((unread.data as { id: string }[]).map((x) => x.id)).toContain(n.id);
  });

  it("org B's audit log, its exports and its chain hold nothing of org A's entries", async () => {
    const name = `IsoAudited-${rand()}`;
    const agent = await ok('POST', '/v1/agents', a.apiKey, { name, environment: 'prod' });
    // A's log has the entry, so its absence from B's answers means something.
    expect(JSON.stringify(await ok('GET', `/v1/audit?entity_id=${agent.id}`, a.apiKey))).toContain(name);
    for (const auth of [b.apiKey, b.owner]) {
      for (const path of ['/v1/audit?limit=200', `/v1/audit?entity_id=${agent.id}`, '/v1/audit?format=jsonl']) {
        const r = await t.request('GET', path, { auth });
        expect(r.status, `GET ${path} as org B`).toBe(200);
        expect(r.text).not.toContain(name);
        expect(r.text).not.toContain(agent.id);
      }
      const chain = await ok('GET', '/v1/audit/verify', auth);
      const own = await ok('GET', '/v1/audit?limit=200', auth);
      expect(chain.entries).toBe((own.data as unknown[]).length);
    }
    const named = await t.request('GET', '/v1/audit?limit=200', { auth: { cookie: b.cookie, org: a.org.id } });
    expect(named.status).toBe(404);
    expect(named.text).not.toContain(name);
  });
});
