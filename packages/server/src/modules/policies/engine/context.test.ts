import { describe, expect, it } from 'vitest';
import { actionHash, canonicalJson } from './action-hash.ts';
import { hubContext, mergeContext } from './context.ts';

describe('hub context', () => {
  it('computes hour, weekday and date in the org time zone', () => {
    const now = new Date('2025-03-02T23:30:00Z'); // Sunday in UTC
    expect(hubContext(now, 'UTC', 'prod')).toEqual({
      hour: 23,
      weekday: 'sun',
      environment: 'prod',
      date: '2025-03-02',
    });
    expect(hubContext(now, 'Europe/Berlin', 'prod')).toEqual({
      hour: 0,
      weekday: 'mon',
      environment: 'prod',
      date: '2025-03-03',
    });
    expect(hubContext(now, 'America/Los_Angeles', null)).toMatchObject({
      hour: 15,
      weekday: 'sun',
      date: '2025-03-02',
    });
  });
  it('midnight is hour 0, not 24', () => {
    expect(hubContext(new Date('2025-01-01T00:00:00Z'), 'UTC', 'test').hour).toBe(0);
  });
  it('the hub values win over the caller; other caller keys are kept', () => {
    const hub = hubContext(new Date('2025-03-03T10:00:00Z'), 'UTC', 'prod');
    expect(mergeContext({ hour: 3, environment: 'test', campaign: 'spring' }, hub)).toEqual({
      ...hub,
      campaign: 'spring',
    });
    expect(mergeContext(undefined, hub)).toEqual(hub);
  });
  it('an unknown time zone throws', () => {
    expect(() => hubContext(new Date(), 'Mars/Olympus', 'prod')).toThrow(RangeError);
  });
});

describe('action hash', () => {
  it('ignores key order at every depth and keeps array order', () => {
    const a = actionHash('agt_1', { type: 'send_email', discount: 15, to: { a: 1, b: [1, 2] } });
    expect(actionHash('agt_1', { to: { b: [1, 2], a: 1 }, discount: 15, type: 'send_email' })).toBe(a);
    expect(actionHash('agt_1', { type: 'send_email', discount: 15, to: { a: 1, b: [2, 1] } })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
  it('binds the agent and every value', () => {
    const a = actionHash('agt_1', { type: 'refund', amount: 900 });
    expect(actionHash('agt_2', { type: 'refund', amount: 900 })).not.toBe(a);
    expect(actionHash('agt_1', { type: 'refund', amount: '900' })).not.toBe(a);
    expect(actionHash('agt_1', { type: 'refund', amount: 900, extra: undefined })).toBe(a);
  });
  it('canonical JSON is JSON with sorted keys', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }] })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
    expect(JSON.parse(canonicalJson({ z: 'ü', y: 1.5 }))).toEqual({ y: 1.5, z: 'ü' });
  });
});
