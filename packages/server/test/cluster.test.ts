/**
 * Three hub processes on one PostgreSQL database and Redis, under faults: priced LLM calls are sent
 * round-robin, one process is SIGKILLed in the middle and restarted, and then every acknowledged event
 * is there, the org's cost is exactly what was acknowledged, each budget threshold was notified once,
 * and a kill switch engaged through one process blocks `evaluate` on another within a second.
 *
 * Only the PostgreSQL pass runs the cluster: SQLite is one process per data directory (there is
 * nothing to share), and the SQLite pass checks that instead.
 */
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort } from '../src/testing/free-port.ts';
import { testDialect } from '../src/testing/test-db.ts';
import { createTestHub } from '../src/testing/test-hub.ts';
import {
  type ClusterOrg,
  clusterEnv,
  eventually,
  freshDatabase,
  type HubProcess,
  metric,
  seedOrgs,
  startHub,
} from './cluster-hubs.ts';

/**
 * Ports for hubs that must come back on their own port after a SIGKILL: below Linux's ephemeral range
 * (32768–60999), so no outgoing connection of another test takes one while its hub is down, and each
 * checked free now.
 */
async function portsBelowEphemeral(n: number): Promise<number[]> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  const ports: number[] = [];
  for (let port = 20_000 + (process.pid % 4000) * 3; ports.length < n; port = port >= 32_700 ? 20_000 : port + 1)
    if (await free(port)) ports.push(port);
  return ports;
}

const CALL_USD = 0.01;
const CALL_NANO = 10_000_000;

if (testDialect() !== 'postgres') {
  describe('cluster of hub processes: runs on the PostgreSQL pass only (HUB_TEST_DB=postgres), because SQLite is a single process', () => {
    it('a started SQLite hub enriches every org itself (no partitions to lease)', async () => {
      const t = await createTestHub();
      try {
        t.hub.ctx.enrichment.start();
        expect(t.hub.ctx.enrichment.partitions()).toBe('all');
      } finally {
        await t.hub.close();
      }
    });
  });
} else {
  describe('a cluster of three hub processes on PostgreSQL and Redis', () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let env: Record<string, string>;
    let orgs: ClusterOrg[];
    const hubs: HubProcess[] = [];
    let ports: number[] = [];
    let sql: pg.Client;

    beforeAll(async () => {
      db = await freshDatabase();
      env = clusterEnv(db.url);
      orgs = await seedOrgs(env, 3);
      ports = await portsBelowEphemeral(3);
      for (const port of ports) hubs.push(await startHub(env, port, 'all'));
      sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
    }, 240_000);

    afterAll(async () => {
      for (const h of hubs) if (h.child.exitCode === null) await h.stop();
      await sql?.end();
      await db?.drop();
    }, 60_000);

    const call = (hub: HubProcess, org: ClusterOrg, i: number) =>
      fetch(`${hub.url}/v1/ingest/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          agent: `Bot${i % 2}`,
          status: 'completed',
          started_at: new Date(Date.now() - 1000).toISOString(),
          ended_at: new Date().toISOString(),
          events: [
            {
              type: 'llm_call',
              timestamp: new Date().toISOString(),
              payload: { model: 'gpt-4o', input_tokens: 10, output_tokens: 5, cost_usd: CALL_USD },
            },
          ],
        }),
      });

    it('keeps every acknowledged event and counts money exactly through a SIGKILL', async () => {
      const budgeted = orgs[0]!;
      const budget = await fetch(`${hubs[0]!.url}/v1/budgets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${budgeted.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'org', amount_usd: 5, period: 'month', thresholds: [2, 6, 10] }),
      });
      expect(budget.status, await budget.clone().text()).toBe(201);

      // Every process leases a share of the partitions.
      await eventually(async () => {
        const held = await Promise.all(hubs.map((h) => metric(h, 'hub_enrichment_partitions')));
        return held.every((n) => (n ?? 0) > 0) && held.reduce((a, b) => a! + b!, 0) === 16;
      }, 'the three processes to share the 16 partitions');

      const acked = new Map<string, number>(orgs.map((o) => [o.orgId, 0]));
      const unknown = new Map<string, number>(orgs.map((o) => [o.orgId, 0]));
      const total = 240;
      const victim = 1;
      let restarted: Promise<void> | null = null;
      for (let i = 0; i < total; i += 6) {
        await Promise.all(
          Array.from({ length: 6 }, async (_, k) => {
            const n = i + k;
            const org = orgs[n % orgs.length]!;
            try {
              const r = await call(hubs[n % hubs.length]!, org, n);
              if (r.status === 202) acked.set(org.orgId, acked.get(org.orgId)! + 1);
              else unknown.set(org.orgId, unknown.get(org.orgId)! + 1);
            } catch {
              // The connection broke (the process was killed): the outcome is unknown, not acknowledged.
              unknown.set(org.orgId, unknown.get(org.orgId)! + 1);
            }
          }),
        );
        if (i === 96) {
          await hubs[victim]!.kill();
          restarted = startHub(env, ports[victim]!, 'all').then((h) => {
            hubs[victim] = h;
          });
        }
      }
      await restarted;
      // The restarted process rejoins and gets a share again (the others give partitions back).
      await eventually(async () => {
        const held = await Promise.all(hubs.map((h) => metric(h, 'hub_enrichment_partitions')));
        return held.every((n) => (n ?? 0) > 0) && held.reduce((a, b) => a! + b!, 0) === 16;
      }, 'the restarted process to lease partitions again');
      const ackedTotal = [...acked.values()].reduce((a, b) => a + b, 0);
      expect(ackedTotal).toBeGreaterThan(total / 2);

      // Everything is enriched eventually (the dead process's partitions were taken over).
      await eventually(async () => {
        const r = await sql.query('select count(*)::int as n from events where enriched = 0');
        return r.rows[0].n === 0;
      }, 'enrichment to catch up');
      for (const org of orgs) {
        const r = await sql.query(
          "select count(*)::int as n, coalesce(sum(cost_nano), 0)::bigint as nano from events where org_id = $1 and type = 'llm_call'",
          [org.orgId],
        );
        const stored = r.rows[0].n as number;
        // Every acknowledged event is there; more only by requests whose answer the kill cut off.
        expect(stored).toBeGreaterThanOrEqual(acked.get(org.orgId)!);
        expect(stored).toBeLessThanOrEqual(acked.get(org.orgId)! + unknown.get(org.orgId)!);
        expect(Number(r.rows[0].nano)).toBe(stored * CALL_NANO);
        // The org's cost, read through another process, is exactly the sum of its stored calls.
        const day = 86_400_000;
        const q = `from=${new Date(Date.now() - day).toISOString().slice(0, 10)}&to=${new Date(Date.now() + day).toISOString().slice(0, 10)}`;
        const costs = await fetch(`${hubs[2]!.url}/v1/costs?group_by=agent&${q}`, {
          headers: { authorization: `Bearer ${org.apiKey}` },
        });
        const body = (await costs.json()) as { total_usd: number };
        expect(Math.round(body.total_usd * 1e9)).toBe(stored * CALL_NANO);
        if (org === budgeted) {
          const spent = (await (
            await fetch(`${hubs[0]!.url}/v1/budgets`, { headers: { authorization: `Bearer ${org.apiKey}` } })
          ).json()) as { data: { spent_usd: number; thresholds_reached: number[] }[] };
          expect(Math.round(spent.data[0]!.spent_usd * 1e9)).toBe(stored * CALL_NANO);
          expect(spent.data[0]!.thresholds_reached).toEqual([2, 6, 10]);
        }
      }
      // Each threshold was notified once (to the one owner), whichever process crossed it.
      for (const pct of [2, 6, 10]) {
        const r = await sql.query('select count(*)::int as n from notifications where org_id = $1 and title like $2', [
          budgeted.orgId,
          `%reached ${pct}%%`,
        ]);
        expect(r.rows[0].n, `${pct}%`).toBe(1);
      }
    }, 300_000);

    it('HUB_ROLE: a worker answers only probes and metrics, an api process never enriches', async () => {
      // Ports the OS just had free: fixed ones in the ephemeral range were once taken by another test's socket.
      const [apiPort, workerPort] = [await freePort(), await freePort()];
      const api = await startHub(env, apiPort, 'api');
      const worker = await startHub(env, workerPort, 'worker');
      try {
        const org = orgs[2]!;
        const auth = { authorization: `Bearer ${org.apiKey}` };
        expect((await fetch(`${worker.url}/v1/agents`, { headers: auth })).status).toBe(404);
        expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
        expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
        expect(await (await fetch(`${worker.url}/metrics`)).text()).toContain('hub_enrichment_lag_seconds');
        expect((await fetch(`${api.url}/v1/agents`, { headers: auth })).status).toBe(200);
        // The worker joins the enrichers; the api process leases nothing and prices nothing.
        await eventually(async () => ((await metric(worker, 'hub_enrichment_partitions')) ?? 0) > 0, 'worker lease');
        for (let i = 0; i < 6; i++) expect((await call(api, org, i)).status).toBe(202);
        await eventually(async () => {
          const r = await sql.query('select count(*)::int as n from events where enriched = 0');
          return r.rows[0].n === 0;
        }, 'the enrichers to price what the api process ingested');
        expect(await metric(api, 'hub_enrichment_partitions')).toBe(0);
        expect(await metric(api, 'hub_enrichment_rows_total')).toBeNull();
        // Each process reports its own lag: the enrichers have observations.
        const counts = await Promise.all(
          [...hubs, worker].map((h) => metric(h, 'hub_enrichment_lag_seconds_count{stage="priced"}')),
        );
        expect(counts.some((c) => (c ?? 0) > 0)).toBe(true);
      } finally {
        await api.stop();
        await worker.stop();
      }
    }, 240_000);

    it('a kill switch engaged through one process blocks evaluate on another within a second', async () => {
      const org = orgs[1]!;
      const evaluate = () =>
        fetch(`${hubs[2]!.url}/v1/policy/evaluate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ agent: 'Bot0', action: { type: 'send_email' } }),
        }).then(async (r) => ({ status: r.status, text: await r.text() }));
      const before = await evaluate();
      expect(before.status, before.text).toBe(200);
      expect(before.text).not.toContain('kill_switch');
      const engaged = await fetch(`${hubs[0]!.url}/v1/controls/kill-switch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ engaged: true, reason: 'cluster drill' }),
      });
      expect(engaged.status).toBe(200);
      const at = Date.now();
      await eventually(async () => (await evaluate()).text.includes('kill_switch'), 'evaluate to be blocked', 5_000);
      expect(Date.now() - at).toBeLessThan(1000);
    }, 60_000);
  });
}
