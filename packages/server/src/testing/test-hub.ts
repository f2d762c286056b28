/**
 * Builds a real hub for tests (real DB, real HTTP handling through `app.inject`) and seeds tenants.
 * Every test makes its own org with `seedOrg()`, so tests never share data.
 *
 * @example
 * const t = await createTestHub();
 * const a = await t.seedOrg();
 * const r = await t.request('POST', '/v1/agents', { auth: a.apiKey, body: { name: 'x', environment: 'test' } });
 */
import { buildHub, type Hub } from '../app.ts';
import { type Config, loadConfig } from '../config.ts';
import { createTestDatabase, type TestDatabase } from './test-db.ts';

export interface TestResponse {
  status: number;
  body: any;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Auth = string | { cookie: string; org?: string } | null;

export interface SeededOrg {
  org: { id: string; name: string };
  apiKey: string;
  userId: string;
  email: string;
  password: string;
  cookie: string;
  /** Auth for this org's owner session. */
  owner: { cookie: string; org: string };
}

let counter = 0;
export const uniqueEmail = (prefix = 'user') =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.test`;

export async function createTestHub(
  overrides: Record<string, string> = {},
  opts: {
    clock?: () => number /** Share another test hub's database (a second hub process). */;
    shareWith?: { database: TestDatabase };
  } = {},
) {
  const database = opts.shareWith?.database ?? (await createTestDatabase());
  const ownsDatabase = !opts.shareWith;
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    HUB_DATA_DIR: database.dataDir,
    HUB_PUBLIC_URL: 'http://hub.test',
    HUB_LOG_LEVEL: 'silent',
    RATE_LIMIT_AUTH_PER_MINUTE: '10000',
    // Tests make many accounts and orgs on one hub; the sign-up policy's own tests override these.
    HUB_SIGNUP: 'open',
    HUB_ORGS_PER_USER: '1000',
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    ...overrides,
  });
  const hub: Hub = await buildHub(config, { logger: false, clock: opts.clock });

  async function request(
    method: string,
    url: string,
    o: { auth?: Auth; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<TestResponse> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (typeof o.auth === 'string') headers.authorization = `Bearer ${o.auth}`;
    else if (o.auth && typeof o.auth === 'object') {
      headers.cookie = o.auth.cookie;
      headers.origin = config.publicUrl;
      if (o.auth.org) headers['x-org-id'] = o.auth.org;
    }
    let payload: string | undefined = o.raw;
    if (o.body !== undefined && payload === undefined) {
      payload = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await hub.app.inject({ method: method as any, url, headers, payload });
    let body: any;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, body, text: res.body, headers: res.headers as TestResponse['headers'] };
  }

  function cookieOf(res: { headers: Record<string, string | string[] | undefined> }) {
    const set = res.headers['set-cookie'];
    const list = Array.isArray(set) ? set : set ? [set] : [];
    return list.map((c) => c.split(';')[0]).join('; ');
  }

  /** Signs a user up through Better Auth's real route; returns the session cookie. */
  async function signUp(email = uniqueEmail(), password = 'a-long-test-password-1') {
    const res = await request('POST', '/api/auth/sign-up/email', {
      body: { email, password, name: email.split('@')[0] },
      headers: { origin: config.publicUrl },
    });
    if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${res.text}`);
    return { cookie: cookieOf(res), userId: res.body.user.id as string, email, password };
  }

  async function signIn(email: string, password: string) {
    const res = await request('POST', '/api/auth/sign-in/email', {
      body: { email, password },
      headers: { origin: config.publicUrl },
    });
    return { res, cookie: cookieOf(res) };
  }

  /** A new org with its owner (signed in) and a `full` API key. */
  async function seedOrg(name = `Org ${counter++}`): Promise<SeededOrg> {
    const user = await signUp();
    const org = await request('POST', '/v1/orgs', { auth: { cookie: user.cookie }, body: { name } });
    if (org.status !== 201) throw new Error(`org creation failed: ${org.status} ${org.text}`);
    const owner = { cookie: user.cookie, org: org.body.id as string };
    const key = await request('POST', '/v1/api-keys', { auth: owner, body: { name: 'test', scopes: ['full'] } });
    if (key.status !== 201) throw new Error(`key creation failed: ${key.status} ${key.text}`);
    return {
      org: { id: org.body.id, name },
      apiKey: key.body.key,
      userId: user.userId,
      email: user.email,
      password: user.password,
      cookie: user.cookie,
      owner,
    };
  }

  /** Adds a new user to `org` with `role` (through a real invitation) and returns their session auth. */
  async function addMember(seed: SeededOrg, role: string, teamId?: string) {
    const user = await signUp();
    const inv = await request('POST', '/v1/invitations', {
      auth: seed.owner,
      body: { email: user.email, role, team_id: teamId },
    });
    if (inv.status !== 201) throw new Error(`invitation failed: ${inv.status} ${inv.text}`);
    const token = new URL(inv.body.accept_url).searchParams.get('token')!;
    const acc = await request('POST', '/v1/invitations/accept', { auth: { cookie: user.cookie }, body: { token } });
    if (acc.status !== 200) throw new Error(`accept failed: ${acc.status} ${acc.text}`);
    return { ...user, memberId: acc.body.member_id as string, auth: { cookie: user.cookie, org: seed.org.id } };
  }

  /**
   * Every route the app serves, as `{ method, url }` (HEAD included), for tests that must cover all of them.
   * Read from Fastify's route tree (`printRoutes`): the routes are declared inside buildHub, before a test
   * could add an `onRoute` hook, and find-my-way keeps its own list private. Each line of the tree is a
   * piece of path under the line above it; every result is checked with `findRoute`, so a misread fails.
   */
  function routes(): { method: string; url: string }[] {
    const out: { method: string; url: string }[] = [];
    const prefixes: string[] = [];
    for (const line of hub.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = line.match(/^(.*?)[└├]── (.+?)(?: \(([A-Z, ]+)\))?$/);
      if (!m) continue;
      const depth = m[1]!.length / 4;
      const url = (prefixes[depth - 1] ?? '') + m[2]!;
      prefixes[depth] = url;
      for (const method of m[3]?.split(', ') ?? []) {
        if (!hub.app.findRoute({ method: method as 'GET', url })) throw new Error(`misread route ${method} ${url}`);
        out.push({ method, url });
      }
    }
    return out;
  }

  /**
   * An active policy in `seed`'s org that asks a person before every action of `actionType`: the usual
   * start of an approval test. Returns the policy's id; throws when it is not created.
   */
  async function requireApprovalFor(seed: SeededOrg, actionType = 'refund'): Promise<string> {
    const res = await request('POST', '/v1/policies', {
      auth: seed.apiKey,
      body: {
        name: `${actionType} needs a human`,
        status: 'active',
        rule: { when: { field: 'action.type', op: 'eq', value: actionType }, then: 'require_approval' },
      },
    });
    if (res.status !== 201) throw new Error(`policy creation failed: ${res.status} ${res.text}`);
    return res.body.id as string;
  }

  return {
    hub,
    config,
    requireApprovalFor,
    routes,
    database,
    request,
    signUp,
    signIn,
    seedOrg,
    addMember,
    cookieOf,
    async close() {
      await hub.close();
      if (ownsDatabase) await database.drop();
    },
  };
}
export type TestHub = Awaited<ReturnType<typeof createTestHub>>;
