/**
 * The shared tenant-isolation suite. Every module that adds a resource registers it here: org B, with
 * a `full` key and with its owner's session, must get 404 (never 403, never data) for each of org A's
 * resources on every route, and org B's lists must hold nothing of org A.
 *
 * @example
 * tenantIsolationSuite('agents', () => t, {
 *   create: async (a) => (await t.request('POST', '/v1/agents', { auth: a.apiKey, body: {...} })).body,
 *   routes: (id) => [['GET', `/v1/agents/${id}`], ['PATCH', `/v1/agents/${id}`, { description: 'x' }], ['DELETE', `/v1/agents/${id}`]],
 *   list: '/v1/agents',
 * });
 */
import { describe, expect, it } from 'vitest';
import type { SeededOrg, TestHub } from './test-hub.ts';

export interface IsolatedResource {
  /** Creates the resource in org A; returns its wire form (must have `id`). */
  create(a: SeededOrg): Promise<{ id: string; [k: string]: unknown }>;
  /** Every route that names one resource: [method, path, body?]. */
  routes(id: string): [string, string, unknown?][];
  /** List path(s) whose answer must not mention the resource. */
  list?: string[];
  /** A string that identifies the resource in a response (defaults to its id). */
  marker?(resource: { id: string; [k: string]: unknown }): string;
}

export function tenantIsolationSuite(name: string, getHub: () => TestHub, resource: IsolatedResource) {
  describe(`tenant isolation: ${name}`, () => {
    it("another org never sees, changes or deletes org A's resource (404, no data)", async () => {
      const t = getHub();
      const a = await t.seedOrg('Org A');
      const b = await t.seedOrg('Org B');
      const created = await resource.create(a);
      const marker = resource.marker?.(created) ?? created.id;
      for (const auth of [b.apiKey, b.owner]) {
        for (const [method, path, body] of resource.routes(created.id)) {
          const r = await t.request(method, path, { auth, body });
          expect(r.status, `${method} ${path} as org B`).toBe(404);
          expect(r.text).not.toContain(marker === created.id ? `"${marker}"` : marker);
          expect(r.headers['content-type']).toContain('application/problem+json');
        }
        for (const path of resource.list ?? []) {
          const r = await t.request('GET', path, { auth });
          expect(r.status, `GET ${path} as org B`).toBe(200);
          expect(r.text).not.toContain(marker);
        }
      }
      // And org A still sees it, unchanged by B's attempts.
      const [method, path] = resource.routes(created.id).find(([m]) => m === 'GET') ?? [];
      if (method && path) expect((await t.request(method, path, { auth: a.apiKey })).status).toBe(200);
    });

    it("naming org A in X-Org-Id gives org B's user nothing (404)", async () => {
      const t = getHub();
      const a = await t.seedOrg('Org A');
      const b = await t.seedOrg('Org B');
      const created = await resource.create(a);
      for (const [method, path, body] of resource.routes(created.id)) {
        const r = await t.request(method, path, { auth: { cookie: b.cookie, org: a.org.id }, body });
        expect(r.status, `${method} ${path} with X-Org-Id of org A`).toBe(404);
      }
    });
  });
}
