import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from './request-logger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('lazyChildLogger', () => {
  it('writes enabled levels with the request bindings, and nothing for disabled ones', () => {
    const { logger, lines } = capture('warn');
    const log = lazyChildLogger(logger, { reqId: 'req_1' }, {});
    log.info('not written');
    log.debug({ a: 1 }, 'not written either');
    log.warn({ status: 503 }, 'written');
    log.error(new Error('boom'));
    expect(lines.map((l) => [l.level, l.reqId, l.msg])).toEqual([
      [40, 'req_1', 'written'],
      [50, 'req_1', 'boom'],
    ]);
    expect(lines[0]!.status).toBe(503);
  });

  it('follows the level, makes children with both sets of bindings, and honours a route log level', () => {
    const { logger, lines } = capture('info');
    const log = lazyChildLogger(logger, { reqId: 'req_2' }, {});
    expect(log.level).toBe('info');
    log.child({ job: 'x' }).info('from child');
    log.level = 'error';
    log.warn('dropped');
    const quiet = lazyChildLogger(logger, { reqId: 'req_3' }, { level: 'silent' });
    quiet.error('dropped too');
    expect(lines.map((l) => [l.reqId, l.job, l.msg])).toEqual([['req_2', 'x', 'from child']]);
  });
});
