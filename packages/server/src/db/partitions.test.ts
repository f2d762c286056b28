import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../testing/test-hub.ts';
import {
  EVENT_PARTITION_MONTHS_AHEAD,
  EVENT_PARTITION_MONTHS_BEHIND,
  EVENTS_DEFAULT_PARTITION,
  ensureEventPartitions,
  listEventPartitions,
  monthRange,
} from './partitions.ts';

let t: TestHub;
let a: SeededOrg;
beforeAll(async () => {
  t = await createTestHub();
  a = await t.seedOrg();
});
afterAll(async () => t?.close());

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const pg = () => t.hub.ctx.db.dialect === 'postgres';
const pdb = () => t.hub.ctx.db;

async function ingest(org: SeededOrg, events: { id: string; at: number; run?: string }[]) {
  const r = await t.request('POST', '/v1/ingest/events', {
    auth: org.apiKey,
    body: {
      events: events.map((e) => ({
        event_id: e.id,
        run_id: e.run ?? 'part-run',
        agent: 'Partitioned',
        type: 'tool_called',
        timestamp: iso(e.at),
        payload: { tool: 'x' },
      })),
    },
  });
  expect(r.status).toBe(202);
  expect(r.body.accepted).toBe(events.length);
}

/** Where each of the org's events with these ids is stored: its partition on PostgreSQL, 'events' on SQLite. */
async function placeOf(orgId: string, ids: string[]): Promise<Record<string, string[]>> {
  const rows = pg()
    ? (
        await sql<{ id: string; part: string }>`
          select id, tableoid::regclass::text as part from events where org_id = ${orgId} and id in (${sql.join(ids)})`.execute(
          pdb().db,
        )
      ).rows
    : (
        await pdb().db.selectFrom('events').select('id').where('org_id', '=', orgId).where('id', 'in', ids).execute()
      ).map((r) => ({ id: r.id, part: 'events' }));
  const out: Record<string, string[]> = {};
  for (const r of rows) out[r.id] = [...(out[r.id] ?? []), r.part];
  for (const v of Object.values(out)) v.sort();
  return out;
}

const countOf = async (orgId: string, id: string) =>
  Number(
    (
      await pdb()
        .db.selectFrom('events')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('monthRange', () => {
  it('names and bounds UTC calendar months, across year ends', () => {
    const at = Date.UTC(2026, 0, 31, 23, 59);
    expect(monthRange(at)).toEqual({ name: 'events_y2026m01', from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 1, 1) });
    expect(monthRange(at, -1).name).toBe('events_y2025m12');
    expect(monthRange(at, 12)).toMatchObject({ name: 'events_y2027m01', to: Date.UTC(2027, 1, 1) });
  });
});

describe('events partitions', () => {
  it('PostgreSQL: the migration partitions events by month around now, with a default partition and inherited indexes', async () => {
    if (!pg()) {
      // SQLite: a plain table, and every partition function is a no-op.
      expect(await listEventPartitions(pdb())).toEqual([]);
      expect(await ensureEventPartitions(pdb(), Date.now(), 6, 6)).toEqual([]);
      const kind = t.hub.ctx.db.sqlite!.prepare("select type from sqlite_master where name = 'events'").get() as {
        type: string;
      };
      expect(kind.type).toBe('table');
      return;
    }
    const { rows: kind } = await sql<{
      relkind: string;
    }>`select relkind from pg_class where oid = 'events'::regclass`.execute(pdb().db);
    expect(kind[0]!.relkind).toBe('p');
    const { rows: pk } = await sql<{ def: string }>`
      select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'events_pk'`.execute(pdb().db);
    expect(pk[0]!.def).toBe('PRIMARY KEY (org_id, id, ts)');

    const names = (await listEventPartitions(pdb())).map((p) => p.name);
    const now = Date.now();
    for (let off = -EVENT_PARTITION_MONTHS_BEHIND; off <= EVENT_PARTITION_MONTHS_AHEAD; off++)
      expect(names).toContain(monthRange(now, off).name);
    const { rows: def } = await sql<{ name: string }>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'events'::regclass and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'`.execute(pdb().db);
    expect(def.map((r) => r.name)).toEqual([EVENTS_DEFAULT_PARTITION]);

    // Indexes are declared on the parent; every partition has its own copy.
    const current = monthRange(now).name;
    for (const table of [current, EVENTS_DEFAULT_PARTITION]) {
      const { rows } = await sql<{ indexdef: string }>`
        select indexdef from pg_indexes where tablename = ${table}`.execute(pdb().db);
      const defs = rows.map((r) => r.indexdef).join('\n');
      expect(defs).toMatch(/\(org_id, run_id, ts\)/);
      expect(defs).toMatch(/\(org_id, ts\)/);
      expect(defs).toMatch(/\(received_at\) WHERE \(enriched = 0\)/);
      expect(defs).toMatch(/UNIQUE.*\(org_id, id, ts\)/);
    }
  });

  it('stores each event in the partition of its month; outside the created months, in the default partition', async () => {
    const now = Date.now();
    const lastMonth = monthRange(now, -1).from + 5 * DAY;
    const farFuture = monthRange(now, 24).from + DAY;
    const farPast = monthRange(now, -30).from + DAY;
    await ingest(a, [
      { id: 'p-now', at: now },
      { id: 'p-last-month', at: lastMonth },
      { id: 'p-far-future', at: farFuture },
      { id: 'p-far-past', at: farPast },
    ]);
    const where = await placeOf(a.org.id, ['p-now', 'p-last-month', 'p-far-future', 'p-far-past']);
    if (pg())
      expect(where).toEqual({
        'p-now': [monthRange(now).name],
        'p-last-month': [monthRange(now, -1).name],
        'p-far-future': [EVENTS_DEFAULT_PARTITION],
        'p-far-past': [EVENTS_DEFAULT_PARTITION],
      });
    else expect(Object.keys(where).sort()).toEqual(['p-far-future', 'p-far-past', 'p-last-month', 'p-now']);

    // Reads are unchanged: the run's timeline is ordered by time across partitions.
    const run = await t.request('GET', '/v1/runs/part-run', { auth: a.apiKey });
    expect(run.status).toBe(200);
    expect(run.body.events.map((e: { event_id?: string; id?: string }) => e.event_id ?? e.id)).toEqual([
      'p-far-past',
      'p-last-month',
      'p-now',
      'p-far-future',
    ]);
  });

  it('stores a re-sent event once (same event_id and timestamp), whichever partition it is in', async () => {
    const b = await t.seedOrg();
    const at = Date.now() - 3 * DAY;
    const far = monthRange(Date.now(), 40).from;
    for (let i = 0; i < 3; i++)
      await ingest(b, [
        { id: 'dup-1', at },
        { id: 'dup-far', at: far },
      ]);
    expect(await countOf(b.org.id, 'dup-1')).toBe(1);
    expect(await countOf(b.org.id, 'dup-far')).toBe(1);
    // Another org may use the same event_id: its own row.
    await ingest(a, [{ id: 'dup-1', at }]);
    expect(await countOf(a.org.id, 'dup-1')).toBe(1);
    expect(await countOf(b.org.id, 'dup-1')).toBe(1);
  });

  it('documents: an event_id re-sent with a DIFFERENT timestamp is two rows on PostgreSQL, one on SQLite', async () => {
    const c = await t.seedOrg();
    await ingest(c, [{ id: 'moved', at: Date.now() - DAY }]);
    await ingest(c, [{ id: 'moved', at: Date.now() - 2 * DAY }]);
    expect(await countOf(c.org.id, 'moved')).toBe(pg() ? 2 : 1);
  });

  it('ensureEventPartitions is idempotent and keeps months ahead; rows waiting in the default partition move in', async () => {
    const now = Date.now();
    expect(await ensureEventPartitions(pdb(), now, EVENT_PARTITION_MONTHS_AHEAD)).toEqual([]);
    // A year on, with the hub not restarted: the daily job creates the new months.
    const later = monthRange(now, 12).from + 10 * DAY;
    const d = await t.seedOrg();
    await ingest(d, [{ id: 'early-bird', at: monthRange(now, 13).from + DAY }]);
    const created = await ensureEventPartitions(pdb(), later, 2);
    if (!pg()) {
      expect(created).toEqual([]);
      expect(await placeOf(d.org.id, ['early-bird'])).toEqual({ 'early-bird': ['events'] });
      return;
    }
    expect(created).toEqual([monthRange(now, 12).name, monthRange(now, 13).name, monthRange(now, 14).name]);
    expect(await ensureEventPartitions(pdb(), later, 2)).toEqual([]);
    // The event that arrived before its month existed left the default partition for its month.
    expect(await placeOf(d.org.id, ['early-bird'])).toEqual({ 'early-bird': [monthRange(now, 13).name] });
    // Concurrent callers (two hubs starting) serialize on an advisory lock instead of failing.
    const racing = await Promise.all([0, 1, 2].map(() => ensureEventPartitions(pdb(), later, 4)));
    expect(racing.flat().sort()).toEqual([monthRange(now, 15).name, monthRange(now, 16).name]);
    // New partitions get the parent's indexes and its key, the attached one (rows moved in) included.
    for (const table of [monthRange(now, 13).name, monthRange(now, 16).name]) {
      const { rows } = await sql<{ indexdef: string }>`
        select indexdef from pg_indexes where tablename = ${table}`.execute(pdb().db);
      expect(rows.map((r) => r.indexdef.replace(/^.* USING btree /, '')).sort()).toEqual([
        '(org_id, id, ts)',
        '(org_id, run_id, ts)',
        '(org_id, ts)',
        '(received_at) WHERE (enriched = 0)',
      ]);
    }
    await ingest(d, [{ id: 'early-bird', at: monthRange(now, 13).from + DAY }]);
    expect(await countOf(d.org.id, 'early-bird')).toBe(1);
  });

  it('retention archives rows past retention, then drops old partitions once empty, and keeps newer ones', async () => {
    const now = Date.now();
    const e = await t.seedOrg(); // default plan: scale, the longest retention (365 days)
    const ancient = monthRange(now, -14).from + 2 * DAY;
    if (pg()) {
      // Old months, as a hub running for more than a year would have them.
      expect(await ensureEventPartitions(pdb(), monthRange(now, -20).from, 0)).toEqual([monthRange(now, -20).name]);
      expect(await ensureEventPartitions(pdb(), monthRange(now, -14).from, 0)).toEqual([monthRange(now, -14).name]);
    }
    await ingest(e, [
      { id: 'ancient', at: ancient, run: 'old-run' },
      { id: 'fresh', at: now - DAY, run: 'old-run' },
    ]);
    if (pg()) expect(await placeOf(e.org.id, ['ancient'])).toEqual({ ancient: [monthRange(now, -14).name] });

    // A partition still holding rows is never dropped, past retention or not.
    expect(await t.hub.ctx.retention.dropExpiredPartitions()).toEqual(pg() ? [monthRange(now, -20).name] : []);
    let names = (await listEventPartitions(pdb())).map((p) => p.name);
    if (pg()) expect(names).toContain(monthRange(now, -14).name);

    await t.hub.ctx.retention.runAll();
    // Archived (per org, the same archive format) before anything was deleted or dropped.
    const dir = join(t.config.dataDir, 'archives', e.org.id);
    const file = readdirSync(dir).find((f) => f.startsWith('events-'))!;
    const archived = gunzipSync(readFileSync(join(dir, file)))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(archived.map((r) => r.id)).toEqual(['ancient']);
    expect(await countOf(e.org.id, 'ancient')).toBe(0);
    expect(await countOf(e.org.id, 'fresh')).toBe(1);

    names = (await listEventPartitions(pdb())).map((p) => p.name);
    if (pg()) {
      expect(names).not.toContain(monthRange(now, -14).name);
      expect(names).not.toContain(monthRange(now, -20).name);
      for (let off = -EVENT_PARTITION_MONTHS_BEHIND; off <= EVENT_PARTITION_MONTHS_AHEAD; off++)
        expect(names).toContain(monthRange(now, off).name);
      // The default partition is never dropped.
      const { rows } = await sql`select to_regclass(${EVENTS_DEFAULT_PARTITION}) as r`.execute(pdb().db);
      expect((rows[0] as { r: string | null }).r).toBe(EVENTS_DEFAULT_PARTITION);
    } else expect(names).toEqual([]);
    // Ingestion still works after partitions were dropped.
    await ingest(e, [{ id: 'after-drop', at: now }]);
    expect(await countOf(e.org.id, 'after-drop')).toBe(1);
  });
});
