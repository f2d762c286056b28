/**
 * The run detail answers in one body, so it is bounded: a run's first 10,000 events and at most 32 MiB of
 * their payloads, with `events_truncated` saying when some were left out. The attack: an agent key
 * fills one run with large events (each within the per-field cap), and anyone who opens the run would
 * have made the hub hold all of it at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';
import { MAX_TIMELINE_CHARS } from './runs.service.ts';

let t: TestHub;
beforeAll(async () => {
  t = await createTestHub();
});
afterAll(async () => t?.close());

const FIELD = 60_000; // under the 64 KiB a field may hold
const PER_REQUEST = 100; // about 6 MB a request, under the 8 MB body limit

describe('GET /v1/runs/{id}', () => {
  it('answers at most MAX_TIMELINE_CHARS of event payloads and says the timeline was cut', async () => {
    const a = await t.seedOrg();
    const events = Math.ceil(MAX_TIMELINE_CHARS / FIELD) + 50;
    const now = Date.now();
    let runId = '';
    for (let sent = 0; sent < events; sent += PER_REQUEST) {
      const r = await t.request('POST', '/v1/ingest/run', {
        auth: a.apiKey,
        body: {
          agent: 'Bulky',
          run_id: 'bulky-run',
          status: 'running',
          started_at: new Date(now).toISOString(),
          events: Array.from({ length: Math.min(PER_REQUEST, events - sent) }, (_, i) => ({
            type: 'log',
            timestamp: new Date(now + sent + i).toISOString(),
            payload: { message: String.fromCharCode(97 + ((sent + i) % 26)).repeat(FIELD) },
          })),
        },
      });
      expect(r.status, r.text).toBe(202);
      runId = String(r.body.run_id);
    }
    await t.hub.ctx.ingestion.drain();

    const detail = await t.request('GET', `/v1/runs/${runId}`, { auth: a.apiKey });
    expect(detail.status).toBe(200);
    expect(detail.body.events_truncated).toBe(true);
    const kept = detail.body.events as { payload: { message: string } }[];
    expect(kept.length).toBeGreaterThan(100);
    expect(kept.length).toBeLessThan(events);
    const chars = kept.reduce((n, e) => n + JSON.stringify(e.payload).length, 0);
    expect(chars).toBeLessThanOrEqual(MAX_TIMELINE_CHARS);
    // The first events, in order: the timeline is cut at its end, not sampled.
    expect(kept[0]!.payload.message[0]).toBe('a');
    expect(kept[1]!.payload.message[0]).toBe('b');

    // A run that fits is answered whole.
    const small = await t.request('POST', '/v1/ingest/run', {
      auth: a.apiKey,
      body: {
        agent: 'Bulky',
        status: 'completed',
        started_at: new Date(now).toISOString(),
        ended_at: new Date(now + 1000).toISOString(),
        events: [{ type: 'log', timestamp: new Date(now).toISOString(), payload: { message: 'hi' } }],
      },
    });
    expect(small.status, small.text).toBe(202);
    await t.hub.ctx.ingestion.drain();
    const whole = await t.request('GET', `/v1/runs/${small.body.run_id}`, { auth: a.apiKey });
    expect(whole.body.events_truncated).toBe(false);
    expect(whole.body.events).toHaveLength(1);
  });
});
