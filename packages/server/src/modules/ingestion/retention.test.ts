import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_PARTITION_MONTHS_AHEAD, listEventPartitions, monthRange } from '../../db/partitions.ts';
import { trustedOrgId } from '../../platform/caller.ts';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;
const readArchive = (file: string) =>
  gunzipSync(readFileSync(file))
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('retention', () => {
  it("archives what is past the plan's retention to gzipped JSONL, deletes it, and keeps the rest", async () => {
    const a = await t.seedOrg();
    const b = await t.seedOrg();
    await t.hub.ctx.db.db.updateTable('orgs').set({ plan: 'starter' }).where('id', '=', a.org.id).execute(); // 14 days
    const old = Date.now() - 20 * DAY;
    const recent = Date.now() - DAY;
    for (const [org, runId, at] of [
      [a, 'old-run', old],
      [a, 'new-run', recent],
      [b, 'b-old-run', old],
    ] as const) {
      const r = await t.request('POST', '/v1/ingest/run', {
        auth: org.apiKey,
        body: {
          run_id: runId,
          agent: 'Keeper',
          status: 'completed',
          started_at: iso(at),
          ended_at: iso(at + 100),
          input: { note: runId },
          events: [{ event_id: `${runId}-e1`, type: 'tool_called', timestamp: iso(at + 10), payload: { tool: 't' } }],
        },
      });
      expect(r.status).toBe(202);
    }
    await t.hub.ctx.enrichment.catchUp();
    const costBefore = (await t.request('GET', `/v1/stats/overview?from=${iso(old - DAY)}`, { auth: a.apiKey })).body
      .runs;

    const result = await t.hub.ctx.retention.runForOrg(trustedOrgId(a.org.id));
    expect(result).toMatchObject({ events: 1, runs: 1 });

    expect((await t.request('GET', '/v1/runs/old-run', { auth: a.apiKey })).status).toBe(404);
    expect((await t.request('GET', '/v1/runs/new-run', { auth: a.apiKey })).status).toBe(200);
    // Another org on a longer plan keeps its old run.
    expect((await t.request('GET', '/v1/runs/b-old-run', { auth: b.apiKey })).status).toBe(200);
    // Rollups stay: the dashboard still counts the archived run.
    expect((await t.request('GET', `/v1/stats/overview?from=${iso(old - DAY)}`, { auth: a.apiKey })).body.runs).toBe(
      costBefore,
    );

    const dir = join(t.config.dataDir, 'archives', a.org.id);
    const files = readdirSync(dir);
    const events = readArchive(join(dir, files.find((f) => f.startsWith('events-'))!));
    const runs = readArchive(join(dir, files.find((f) => f.startsWith('runs-'))!));
    expect(events.map((e) => e.id)).toEqual(['old-run-e1']);
    expect(runs.map((r) => r.id)).toEqual(['old-run']);
    expect(JSON.parse(runs[0].input)).toEqual({ note: 'old-run' });

    // A second pass finds nothing more to do.
    expect(await t.hub.ctx.retention.runForOrg(trustedOrgId(a.org.id))).toMatchObject({ events: 0, runs: 0 });
  });

  it('archives and deletes only the old row when an event_id was re-sent with a newer timestamp', async () => {
    const c = await t.seedOrg();
    await t.hub.ctx.db.db.updateTable('orgs').set({ plan: 'starter' }).where('id', '=', c.org.id).execute();
    const send = async (at: number) =>
      expect(
        (
          await t.request('POST', '/v1/ingest/events', {
            auth: c.apiKey,
            body: {
              events: [
                {
                  event_id: 'resent',
                  run_id: 'r',
                  agent: 'Keeper',
                  type: 'tool_called',
                  timestamp: iso(at),
                  payload: {},
                },
              ],
            },
          })
        ).status,
      ).toBe(202);
    await send(Date.now() - 30 * DAY);
    await send(Date.now() - DAY);
    // PostgreSQL keys events by (org_id, id, ts): two rows; SQLite by (org_id, id): the first one.
    const pg = t.hub.ctx.db.dialect === 'postgres';
    const result = await t.hub.ctx.retention.runForOrg(trustedOrgId(c.org.id));
    expect(result.events).toBe(1);
    const left = await t.hub.ctx.db.db
      .selectFrom('events')
      .select('ts')
      .where('org_id', '=', c.org.id)
      .where('id', '=', 'resent')
      .execute();
    expect(left.length).toBe(pg ? 1 : 0);
    if (pg) expect(Number(left[0]!.ts)).toBeGreaterThan(Date.now() - 2 * DAY - 60_000);
  });

  it('runAll keeps event partitions ahead and drops none that hold rows (no-op on SQLite)', async () => {
    await t.hub.ctx.retention.runAll();
    const names = (await listEventPartitions(t.hub.ctx.db)).map((p) => p.name);
    if (t.hub.ctx.db.dialect === 'postgres')
      expect(names).toContain(monthRange(Date.now(), EVENT_PARTITION_MONTHS_AHEAD).name);
    else expect(names).toEqual([]);
  });
});
