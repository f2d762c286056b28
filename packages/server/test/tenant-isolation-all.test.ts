/**
 * Tenant isolation on every `/v1` route with a path parameter, listed from the app itself (`t.routes()`),
 * not by hand. For each route, org A creates the resource through the API, then org B (with a `full`
 * API key, with its owner's session, and with its session naming org A in X-Org-Id) calls the route
 * with A's id, with every method the route answers: the answer must be 404, never 403, never A's data.
 *
 * A route is covered when its prefix (its path up to its first parameter) is in `PREFIXES`, or when it is
 * classified in `NOT_TENANT_IDS` (the parameter is not an id of an org's row) or `LINK_TOKEN_ROUTES` (the
 * credential is a link token, not an org). A new route under no prefix fails the first test: add it.
 * A new route under a known prefix is tested at once (a POST/PUT/PATCH gets `{}` unless `BODIES` says).
 *
 * The per-module suites (testing/tenant-isolation.ts) also check the lists; this file checks the routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveLinkSecret, signLinkToken } from '../src/modules/approvals/approval-links.ts';
import { trustedOrgId } from '../src/platform/caller.ts';
import { type Auth, createTestHub, type SeededOrg, uniqueEmail } from '../src/testing/test-hub.ts';

// A known key, so the test can sign approval-link tokens as the hub does.
const ENCRYPTION_KEY = 'a1'.repeat(32);
const t = await createTestHub({ HUB_ENCRYPTION_KEY: ENCRYPTION_KEY });
afterAll(() => t.close());

let a: SeededOrg;
let b: SeededOrg;
beforeAll(async () => {
  a = await t.seedOrg(`Iso A ${Math.random().toString(36).slice(2, 8)}`);
  b = await t.seedOrg(`Iso B ${Math.random().toString(36).slice(2, 8)}`);
});

/** What a factory made: the value of each route parameter, and strings that identify it in an answer. */
interface Made {
  params: Record<string, string>;
  /** Names, emails, titles: must not appear in org B's answer (ids are checked quoted, as `"id"`). */
  markers: string[];
}
type Factory = (o: SeededOrg) => Promise<Made>;

const rand = () => Math.random().toString(36).slice(2, 8);

async function ok(method: string, url: string, o: SeededOrg, body?: unknown, auth: 'key' | 'owner' = 'key') {
  const r = await t.request(method, url, { auth: auth === 'key' ? o.apiKey : o.owner, body });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
  return r.body;
}

async function newAgent(o: SeededOrg) {
  const name = `IsoAgent-${rand()}`;
  return { ...(await ok('POST', '/v1/agents', o, { name, environment: 'prod' })), name } as {
    id: string;
    name: string;
  };
}

async function newApproval(o: SeededOrg) {
  const agent = await newAgent(o);
  const marker = `iso-approval-${rand()}`;
  await ok('POST', '/v1/policies', o, {
    name: `Approve ${marker}`,
    status: 'active',
    priority: 100,
    rule: {
      when: {
        all: [
          { field: 'agent.name', op: 'eq', value: agent.name },
          { field: 'action.type', op: 'eq', value: 'send_email' },
        ],
      },
      then: 'require_approval',
      approval_timeout_s: 3600,
    },
  });
  const d = await ok('POST', '/v1/policy/evaluate', o, {
    agent: agent.name,
    action: { type: 'send_email', to: `${marker}@example.test` },
  });
  if (!d.approval_id) throw new Error(`no approval: ${JSON.stringify(d)}`);
  return { params: { id: d.approval_id as string }, markers: [marker] };
}

const agentFactory: Factory = async (o) => {
  const agent = await newAgent(o);
  return { params: { id: agent.id }, markers: [agent.name] };
};

/** Route prefix (path up to and including its first parameter) → a factory for that resource. */
const PREFIXES: Record<string, Factory> = {
  '/v1/agents/:id': agentFactory,
  '/v1/stats/agents/:id': agentFactory,
  '/v1/privacy/agents/:id': agentFactory,
  '/v1/runs/:id': async (o) => {
    const marker = `iso-run-${rand()}`;
    const r = await ok('POST', '/v1/ingest/run', o, {
      agent: `IsoRunner-${rand()}`,
      status: 'completed',
      started_at: new Date().toISOString(),
      input: { secret: marker },
    });
    await t.hub.ctx.ingestion.drain();
    return { params: { id: r.run_id }, markers: [marker] };
  },
  '/v1/policies/:id': async (o) => {
    const name = `iso-policy-${rand()}`;
    const p = await ok('POST', '/v1/policies', o, POLICY(name));
    return { params: { id: p.id }, markers: [name] };
  },
  '/v1/approvals/:id': newApproval,
  '/v1/budgets/:id': async (o) => {
    const agent = await newAgent(o);
    const budget = await ok('POST', '/v1/budgets', o, {
      scope: 'agent',
      scope_id: agent.id,
      amount_usd: 3,
      period: 'day',
    });
    return { params: { id: budget.id }, markers: [agent.name] };
  },
  '/v1/alerts/:id': async (o) => {
    const name = `iso-alert-${rand()}`;
    const a = await ok('POST', '/v1/alerts', o, {
      name,
      signal: 'failed_runs',
      window_minutes: 60,
      threshold: 1,
      channels: [{ type: 'in_app' }],
    });
    return { params: { id: a.id }, markers: [name] };
  },
  // The endpoint's record and its MCP path (/v1/mcp-endpoints/:id/mcp): 404 before any MCP handling.
  '/v1/mcp-endpoints/:id': async (o) => {
    const marker = `iso-mcp-${rand()}`;
    const e = await ok('POST', '/v1/mcp-endpoints', o, {
      name: marker,
      agent: 'IsoBot',
      upstream_url: `https://mcp.example.test/${marker}`,
      upstream_headers: { 'X-Key': marker },
    });
    return { params: { id: e.id }, markers: [marker] };
  },
  '/v1/webhooks/:id': async (o) => {
    const marker = `iso-hook-${rand()}`;
    const w = await ok('POST', '/v1/webhooks', o, {
      url: `https://hooks.example.test/${marker}`,
      events: ['approval.requested'],
      description: marker,
    });
    return { params: { id: w.id }, markers: [marker] };
  },
  // Both parameters of /v1/teams/:id/members/:memberId, and the `member_id` of POST /v1/teams/:id/members.
  '/v1/teams/:id': async (o) => {
    const name = `IsoTeam-${rand()}`;
    const team = await ok('POST', '/v1/teams', o, { name }, 'owner');
    const member = await t.addMember(o, 'viewer', team.id);
    return { params: { id: team.id, memberId: member.memberId }, markers: [name, member.email] };
  },
  '/v1/members/:id': async (o) => {
    const member = await t.addMember(o, 'viewer');
    return { params: { id: member.memberId }, markers: [member.email] };
  },
  '/v1/invitations/:id': async (o) => {
    const email = uniqueEmail('iso-invitee');
    const inv = await ok('POST', '/v1/invitations', o, { email, role: 'viewer' }, 'owner');
    return { params: { id: inv.id }, markers: [email] };
  },
  // No route makes a notification on demand: the service every module calls makes one for the org's owner.
  '/v1/notifications/:id': async (o) => {
    const title = `iso-notification-${rand()}`;
    await t.hub.ctx.notifications.notify(trustedOrgId(o.org.id), {
      topic: 'approvals',
      type: 'iso.test',
      title,
      body: title,
    });
    const list = await ok('GET', '/v1/notifications', o, undefined, 'owner');
    const n = (list.data as { id: string; title: string }[]).find((x) => x.title === title);
    if (!n) throw new Error('notification not listed');
    return { params: { id: n.id }, markers: [title] };
  },
  '/v1/api-keys/:id': async (o) => {
    const name = `iso-key-${rand()}`;
    const k = await ok('POST', '/v1/api-keys', o, { name, scopes: ['read'] });
    return { params: { id: k.id }, markers: [name, k.prefix] };
  },
  '/v1/reports/:id': async (o) => {
    const name = `Iso report ${rand()}`;
    const r = await ok('POST', '/v1/reports', o, { name, template: 'weekly_summary', schedule: 'weekly' });
    return { params: { id: r.id }, markers: [name] };
  },
  '/v1/report-runs/:file': async (o) => {
    const name = `Iso run ${rand()}`;
    const rep = await ok('POST', '/v1/reports', o, { name, template: 'cost_breakdown' });
    const run = await ok('POST', `/v1/reports/${rep.id}/run`, o, { deliver: false });
    return { params: { file: run.id }, markers: [name] };
  },
  '/v1/prices/overrides/:id': async (o) => {
    const model = `iso-model-${rand()}`;
    const p = await ok('POST', '/v1/prices/overrides', o, { model, input: 1, output: 1 });
    return { params: { id: p.id }, markers: [model] };
  },
  '/v1/org/exports/:id': async (o) => ({ params: { id: (await ok('POST', '/v1/org/export', o)).id }, markers: [] }),
  '/v1/org/export/:id': async (o) => ({ params: { id: (await ok('POST', '/v1/org/export', o)).id }, markers: [] }),
  // The org itself: POST /v1/orgs/:id/activate makes it the session's active org.
  '/v1/orgs/:id': async (o) => ({ params: { id: o.org.id }, markers: [o.org.name] }),
};

/**
 * Routes where an API key is refused whatever the id (the route belongs to a person): for those, org B's
 * key must get the same answer for A's id as for an id that exists nowhere, so the answer tells nothing.
 */
const PERSON_ONLY: Record<string, string> = {
  'POST /v1/orgs/:id/activate': "`auth: 'user'`: a signed-in person switches their own active org",
  'POST /v1/notifications/:id/read': 'read marks belong to a person; an API key is refused (403) for any id',
};

/** Parameters that are not ids of an org's rows: each one says why, and what is checked instead. */
const NOT_TENANT_IDS: Record<string, { why: string; check: () => Promise<void> }> = {
  // A flag name; the flag is set on the caller's own org (`ctx.plans.setFlag(callerOrg, flag)`).
  '/v1/org/features/:flag': {
    why: "a feature flag's name, set on the caller's own org",
    check: async () => {
      const before = (await ok('GET', '/v1/org/plan', a)).features;
      await ok('PUT', '/v1/org/features/insights', b, { enabled: !before.insights });
      expect((await ok('GET', '/v1/org/plan', a)).features).toEqual(before);
    },
  },
  // A category name (e.g. `payments`) paused within the caller's own org's controls.
  '/v1/controls/categories/:category': {
    why: "a category name, paused or resumed in the caller's own org",
    check: async () => {
      const category = `iso_${rand()}`;
      await ok('POST', `/v1/controls/categories/${category}/pause`, a, { reason: 'org A only' });
      const bState = await ok('GET', '/v1/controls', b);
      expect(JSON.stringify(bState)).not.toContain(category);
      await ok('POST', `/v1/controls/categories/${category}/resume`, b, {});
      expect(JSON.stringify(await ok('GET', '/v1/controls', a))).toContain(category);
    },
  },
  // The policy-pack catalog ships with the hub and is the same for every org; what an org applied is
  // looked up in the caller's org.
  '/v1/policy-packs/:id': {
    why: 'an id of the built-in pack catalog, the same in every org; applications are per org',
    check: async () => {
      const packs = (await ok('GET', '/v1/policy-packs', a)).data as { id: string }[];
      expect(packs.length).toBeGreaterThan(0);
      const id = packs[0]!.id;
      await ok('POST', `/v1/policy-packs/${id}/apply`, a, {});
      const applied = (await ok('GET', '/v1/policy-packs/applied', b)).data as { pack_id: string }[];
      expect(applied.map((x) => x.pack_id)).not.toContain(id);
      expect(JSON.stringify(await ok('GET', `/v1/policy-packs/${id}`, b))).not.toContain(a.org.id);
    },
  },
};

/**
 * The one-click links of approval emails (`auth: 'public'`): the credential is a signed token naming one
 * approval, not an org. Org B's genuine token (for B's own approval), on A's approval id, must be refused
 * like any bad credential (401), with or without B's key or session, and decide nothing.
 */
const LINK_TOKEN_ROUTES = ['/v1/approvals/:id/email/approve', '/v1/approvals/:id/email/reject'];

const POLICY = (name: string) => ({
  name,
  status: 'active',
  priority: 100,
  rule: { when: { field: 'action.type', op: 'eq', value: `iso_${rand()}` }, then: 'block' },
});

/**
 * Where org A looks that its resource is still there after B's calls, for routes whose own GET is not a read
 * of it: an MCP endpoint's path answers a GET without a session with 400, as the protocol says.
 */
const STILL_THERE: Record<string, string> = { '/v1/mcp-endpoints/:id/mcp': '/v1/mcp-endpoints/:id' };

/** Valid bodies, so that the answer is about the id, not the body. Default for POST/PUT/PATCH: `{}`. */
const BODIES: Record<string, (p: Record<string, string>) => unknown> = {
  'PATCH /v1/agents/:id': () => ({ description: 'hijack' }),
  'POST /v1/agents/:id/pause': () => ({ reason: 'not yours' }),
  'PUT /v1/policies/:id': () => POLICY('hijack'),
  'POST /v1/policies/:id/rollback': () => ({ version: 1 }),
  'PATCH /v1/budgets/:id': () => ({ amount_usd: 9 }),
  'PATCH /v1/alerts/:id': () => ({ threshold: 9 }),
  'PATCH /v1/members/:id': () => ({ role: 'admin' }),
  'POST /v1/teams/:id/members': (p) => ({ member_id: p.memberId }),
  'PATCH /v1/reports/:id': () => ({ name: 'taken over' }),
  'POST /v1/reports/:id/run': () => ({ deliver: false }),
  'PUT /v1/privacy/agents/:id': () => ({ capture: 'metadata_only' }),
};
/** Extra forms of a parameter's value that the route also answers. */
const SUFFIXES: Record<string, string[]> = { '/v1/report-runs/:file': ['', '.html', '.pdf'] };

const ROUTES = t.routes().filter((r) => r.url.startsWith('/v1/') && r.url.includes('/:'));
/** The path up to and including its first parameter: `/v1/teams/:id/members/:memberId` → `/v1/teams/:id`. */
const prefixOfRoute = (url: string) => {
  const end = url.indexOf('/', url.indexOf('/:') + 1);
  return end === -1 ? url : url.slice(0, end);
};
const classified = (url: string) =>
  Object.keys(NOT_TENANT_IDS).find((p) => url === p || url.startsWith(`${p}/`)) ??
  LINK_TOKEN_ROUTES.find((p) => p === url);

/** Routes grouped by URL, with the methods each answers. */
const byUrl = new Map<string, string[]>();
for (const r of ROUTES) byUrl.set(r.url, [...(byUrl.get(r.url) ?? []), r.method]);

it('every /v1 route with a path parameter is covered by a factory or classified', () => {
  expect(byUrl.size).toBeGreaterThan(20);
  const uncovered = [...byUrl.keys()].filter((url) => !classified(url) && !PREFIXES[prefixOfRoute(url)]);
  expect(uncovered, 'add these routes to PREFIXES (or classify them) in tenant-isolation-all.test.ts').toEqual([]);
  // And nothing in the tables is stale.
  for (const p of [...Object.keys(PREFIXES), ...Object.keys(NOT_TENANT_IDS), ...LINK_TOKEN_ROUTES])
    expect(
      [...byUrl.keys()].some((url) => url === p || url.startsWith(`${p}/`)),
      `${p} matches no route`,
    ).toBe(true);
});

/** One factory result per prefix and org, made on first use (B's own is used for mixed-parameter calls). */
const made = new Map<string, Promise<Made>>();
const make = (prefix: string, o: SeededOrg) => {
  const key = `${prefix} ${o.org.id}`;
  if (!made.has(key)) made.set(key, PREFIXES[prefix]!(o));
  return made.get(key)!;
};

const fill = (url: string, params: Record<string, string>) =>
  url.replace(/:(\w+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`the factory for ${url} gives no value for :${name}`);
    return encodeURIComponent(v);
  });

describe('org B gets 404 and nothing of org A on every route with an id', () => {
  for (const [url, methods] of byUrl) {
    const prefix = prefixOfRoute(url);
    if (classified(url) || !PREFIXES[prefix]) continue;
    it(`${methods.join(', ')} ${url}`, async () => {
      const foreign = await make(prefix, a);
      const own = await make(prefix, b);
      const names = Object.keys(foreign.params);
      // All of A's values; and, with more than one parameter, each of A's values alone among B's own.
      const variants = [foreign.params];
      if (names.length > 1) for (const n of names) variants.push({ ...own.params, [n]: foreign.params[n]! });
      const markers = [...foreign.markers, ...Object.values(foreign.params).map((v) => `"${v}"`)];
      for (const method of methods) {
        const routeKey = `${method} ${url}`;
        const bodyOf = (params: Record<string, string>) =>
          ['POST', 'PUT', 'PATCH'].includes(method) ? (BODIES[routeKey]?.(params) ?? {}) : undefined;
        const ownCall = JSON.stringify([fill(url, own.params), bodyOf(own.params)]);
        for (const params of variants) {
          // A variant that names none of A's values on this route is B's own call: not an isolation case.
          if (JSON.stringify([fill(url, params), bodyOf(params)]) === ownCall) continue;
          for (const suffix of SUFFIXES[prefix] ?? ['']) {
            const path = fill(url, params) + suffix;
            const body = bodyOf(params);
            const auths: [string, Auth][] = [
              ['key', b.apiKey],
              ['session', b.owner],
              ['session naming org A', { cookie: b.cookie, org: a.org.id }],
            ];
            for (const [how, auth] of auths) {
              const r = await t.request(method, path, { auth, body });
              const what = `${method} ${path} as org B (${how}) ${r.text.slice(0, 200)}`;
              if (how === 'key' && PERSON_ONLY[routeKey]) {
                // Refused whatever the id: the same answer as for an id that exists nowhere.
                const nowhere = Object.fromEntries(Object.keys(params).map((k) => [k, `nowhere_${k}`]));
                const none = await t.request(method, fill(url, nowhere), { auth, body });
                expect(r.status, what).toBe(none.status);
                expect(r.status, what).toBeGreaterThanOrEqual(400);
              } else {
                expect(r.status, what).toBe(404);
                if (method !== 'HEAD') expect(r.headers['content-type'], what).toContain('application/problem+json');
              }
              for (const m of markers) expect(r.text, what).not.toContain(m);
            }
          }
        }
      }
      // Org A's resource is still there, untouched by B's calls.
      if (methods.includes('GET')) {
        const r = await t.request('GET', fill(STILL_THERE[url] ?? url, foreign.params), { auth: a.apiKey });
        expect([200, 202], `GET ${url} as org A`).toContain(r.status);
      }
    });
  }
});

describe('parameters that are not ids of an org row', () => {
  for (const [prefix, c] of Object.entries(NOT_TENANT_IDS)) it(`${prefix}: ${c.why}`, () => c.check());
});

describe("approval email links: org B's token on org A's approval", () => {
  it('is refused (401) with or without B credentials, and decides nothing', async () => {
    const secret = deriveLinkSecret(Buffer.from(ENCRYPTION_KEY, 'hex'));
    const foreign = await newApproval(a);
    const own = await newApproval(b);
    for (const url of LINK_TOKEN_ROUTES) {
      const decision = url.endsWith('approve') ? 'approve' : 'reject';
      const token = signLinkToken(secret, {
        approval_id: own.params.id!,
        org_id: b.org.id,
        user_id: b.userId,
        decision,
        exp: Date.now() + 3_600_000,
      });
      const path = `${fill(url, foreign.params)}?token=${encodeURIComponent(token)}`;
      for (const method of byUrl.get(url) ?? []) {
        for (const auth of [null, b.apiKey, b.owner]) {
          const r = await t.request(method, path, { auth, body: method === 'POST' ? {} : undefined });
          expect(r.status, `${method} ${url} with B's token`).toBe(401);
          for (const m of [...foreign.markers, `"${foreign.params.id}"`]) expect(r.text).not.toContain(m);
        }
      }
    }
    expect((await ok('GET', `/v1/approvals/${foreign.params.id}`, a)).status).toBe('pending');
  });
});
