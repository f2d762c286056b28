import { describe, expect, it } from 'vitest';
import { newId } from './ids.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const decode = (s: string) => [...s].reduce((n, ch) => n * 32 + ALPHABET.indexOf(ch), 0);

describe('newId', () => {
  it('is the prefix, then 26 Crockford base32 characters whose first 10 encode the time', () => {
    const now = Date.UTC(2026, 10, 25, 12, 30, 15, 123);
    const id = newId('dec', now);
    expect(id).toMatch(/^dec_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decode(id.slice(4, 14))).toBe(now);
  });

  it('sorts in creation order within one millisecond and across milliseconds', () => {
    const base = Date.UTC(2026, 0, 1);
    const ids = [
      newId('evt', base),
      newId('evt', base),
      newId('evt', base),
      newId('evt', base + 1),
      newId('evt', base + 1),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(decode(ids[1]!.slice(14, 18))).toBe(decode(ids[0]!.slice(14, 18)) + 1);
  });

  it('does not repeat, across many ids and refills of the random pool', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 5000 }, (_, i) => newId('run', now - (i % 3))));
    expect(ids.size).toBe(5000);
  });
});
