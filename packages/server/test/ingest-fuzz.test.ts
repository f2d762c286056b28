/**
 * Property test: malformed and hostile payloads thrown at the ingest routes never produce a 5xx, and
 * every answer is either an acceptance or a problem+json naming what was wrong.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type SeededOrg, type TestHub } from '../src/testing/test-hub.ts';

let t: TestHub;
let a: SeededOrg;
beforeAll(async () => {
  t = await createTestHub();
  a = await t.seedOrg();
});
afterAll(async () => t?.close());

const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '"; drop table runs; --',
    '../../etc/passwd',
    '💥'.repeat(50),
    'x'.repeat(5000),
    '__proto__',
    'constructor',
  ),
);
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    hostileString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const eventLike = fc.record(
  {
    event_id: fc.oneof(hostileString, fc.integer()),
    run_id: fc.oneof(hostileString, fc.constant('run-fuzz'), fc.integer()),
    agent: fc.oneof(hostileString, fc.constant('Fuzzer')),
    type: fc.oneof(fc.constantFrom('llm_call', 'tool_called', 'run_completed', 'run_failed', 'bogus'), hostileString),
    timestamp: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      hostileString,
      fc.integer(),
    ),
    payload: fc.oneof(
      anyJson,
      fc.record({
        model: hostileString,
        input_tokens: fc.oneof(fc.integer(), fc.double()),
        output_tokens: fc.integer(),
      }),
    ),
    __proto__: anyJson,
  },
  { requiredKeys: [] },
);

describe('ingest routes under hostile input', () => {
  it('/v1/ingest/events never answers 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(fc.oneof(eventLike, anyJson), { maxLength: 20 }), anyJson), async (events) => {
        const r = await t.request('POST', '/v1/ingest/events', { auth: a.apiKey, body: { events } });
        expect(r.status, r.text).toBeLessThan(500);
        if (r.status === 202) expect(r.body.accepted + r.body.rejected.length).toBe((events as unknown[]).length);
        else expect(r.headers['content-type']).toContain('application/problem+json');
      }),
      { numRuns: 150 },
    );
  });

  it('/v1/ingest/run never answers 5xx', async () => {
    const runLike = fc.record(
      {
        run_id: hostileString,
        agent: fc.oneof(hostileString, fc.constant('Fuzzer')),
        status: fc.oneof(fc.constantFrom('running', 'completed', 'failed'), hostileString),
        started_at: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          hostileString,
        ),
        ended_at: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          hostileString,
        ),
        input: anyJson,
        output: anyJson,
        metadata: anyJson,
        usage: anyJson,
        events: fc.array(eventLike, { maxLength: 5 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(runLike, anyJson), async (body) => {
        const r = await t.request('POST', '/v1/ingest/run', { auth: a.apiKey, body });
        expect(r.status, r.text).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });

  it('raw garbage bodies never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('application/json', 'text/plain', 'application/x-protobuf'),
        async (raw, ct) => {
          for (const path of ['/v1/ingest/events', '/v1/ingest/run']) {
            const r = await t.request('POST', path, { auth: a.apiKey, raw, headers: { 'content-type': ct } });
            expect(r.status, `${path} ${r.text}`).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
