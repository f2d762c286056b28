/**
 * Requests that arrive together share a group-commit batch, which on PostgreSQL is one statement for
 * every org in it (ingestion-batch.system.ts). Whatever the batching, each org's rows stay its own and
 * a run comes out as if its reports had been written one after another. Runs on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../../testing/test-hub.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const iso = (ms: number) => new Date(ms).toISOString();
const run = (a: SeededOrg, body: object) => t.request('POST', '/v1/ingest/run', { auth: a.apiKey, body });
const events = (a: SeededOrg, evs: unknown[]) =>
  t.request('POST', '/v1/ingest/events', { auth: a.apiKey, body: { events: evs } });

describe('ingestion batches of several orgs', () => {
  it('keeps each org’s runs and events apart, and merges reports of one run in arrival order', async () => {
    const [a, b] = [await t.seedOrg(), await t.seedOrg()];
    const t0 = Date.now() - 60_000;
    const llm = (id: string, ms: number) => ({
      event_id: id,
      type: 'llm_call',
      timestamp: iso(ms),
      payload: { model: 'gpt-4o', input_tokens: 10, output_tokens: 5 },
    });
    // All in one turn: the group commit takes them into as few batches as it can.
    const answers = await Promise.all([
      run(a, {
        run_id: 'shared-id',
        agent: 'Alpha',
        status: 'running',
        started_at: iso(t0),
        input: { prompt: 'pineapple forecast' },
        metadata: { who: 'a' },
        events: [llm('e1', t0 + 1), llm('e2', t0 + 2)],
      }),
      // The same run id in another org: a different run.
      run(b, {
        run_id: 'shared-id',
        agent: 'Beta',
        status: 'completed',
        started_at: iso(t0),
        ended_at: iso(t0 + 500),
        events: [llm('e1', t0 + 1)],
      }),
      // A run known only from its events (a placeholder), ended by one of them.
      events(a, [
        { run_id: 'events-only', agent: 'Alpha', type: 'run_started', timestamp: iso(t0), payload: {} },
        { run_id: 'events-only', type: 'run_completed', timestamp: iso(t0 + 900), payload: {} },
      ]),
      // An event re-sent in the same batch is stored once.
      events(a, [{ ...llm('e2', t0 + 2), run_id: 'shared-id' }]),
    ]);
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    // A later report of the run, and events of a's run without the agent (the run is known now).
    expect((await run(a, { run_id: 'shared-id', agent: 'Alpha', status: 'failed', started_at: iso(t0) })).status).toBe(
      202,
    );

    const ra = (await t.request('GET', '/v1/runs/shared-id', { auth: a.apiKey })).body;
    const rb = (await t.request('GET', '/v1/runs/shared-id', { auth: b.apiKey })).body;
    expect(ra).toMatchObject({ status: 'failed', agent_name: 'Alpha' });
    expect(ra.metadata).toMatchObject({ who: 'a' }); // a later report without metadata keeps it
    expect(ra.events.map((e: { id: string }) => e.id).sort()).toEqual(['e1', 'e2']);
    expect(rb).toMatchObject({ status: 'completed', agent_name: 'Beta', latency_ms: 500 });
    expect(rb.events.map((e: { id: string }) => e.id)).toEqual(['e1']);

    const ended = (await t.request('GET', '/v1/runs/events-only', { auth: a.apiKey })).body;
    expect(ended).toMatchObject({ status: 'completed', agent_name: 'Alpha' });
    expect((await t.request('GET', '/v1/runs/events-only', { auth: b.apiKey })).status).toBe(404);

    // The run's input is searchable in its own org only, as soon as the 202 was sent.
    const found = (org: SeededOrg) =>
      t
        .request('GET', '/v1/runs?q=pineapple', { auth: org.apiKey })
        .then((r) => r.body.data.map((x: { id: string }) => x.id));
    expect(await found(a)).toEqual(['shared-id']);
    expect(await found(b)).toEqual([]);
  });

  it('writes a batch too large for one statement whole, and keeps a client string with a lone surrogate', async () => {
    const a = await t.seedOrg();
    const ms = Date.now() - 30_000;
    const log = (run: string, i: number) => ({
      event_id: `${run}-${i}`,
      run_id: run,
      agent: 'Bulk',
      type: 'log',
      timestamp: iso(ms + i),
      payload: { i },
    });
    // Two requests of 600 events in one turn: one batch of 1,200 ops, more than one statement takes.
    const answers = await Promise.all(
      ['bulk-1', 'bulk-2'].map((r) =>
        events(
          a,
          Array.from({ length: 600 }, (_, i) => log(r, i)),
        ),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual([202, 202]);
    // An unpaired surrogate is valid in a JSON body; PostgreSQL's JSON refuses it as an escape.
    const lone = await run(a, {
      run_id: 'lone-ref',
      agent: 'Bulk',
      status: 'running',
      started_at: iso(ms),
      external_ref: 'ticket-\ud800',
    });
    expect(lone.status).toBe(202);
    const db = t.hub.ctx.db.db;
    const count = await db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', a.org.id)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1200);
    const stored = await db
      .selectFrom('runs')
      .select('external_ref')
      .where('org_id', '=', a.org.id)
      .where('id', '=', 'lone-ref')
      .executeTakeFirstOrThrow();
    // Kept, not refused: PostgreSQL's driver stores U+FFFD; SQLite keeps the surrogate's three bytes, each
    // read back as U+FFFD.
    expect(stored.external_ref).toMatch(/^ticket-\ufffd+$/);
  });
});
