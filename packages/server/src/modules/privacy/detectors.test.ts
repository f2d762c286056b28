/**
 * The built-in detectors on their own: what they find, what they leave (ordinary business text, measured
 * as a false-positive rate under 1% of fields), and that hostile input stays linear.
 */

import { DetectorKinds } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import { ibanValid, luhn, scanText } from './detectors.ts';

const ALL = new Set(DetectorKinds);
const kinds = (s: string) => scanText(s, ALL).map((m) => [m.kind, s.slice(m.start, m.end)]);

describe('detectors', () => {
  it('find emails, phones, Luhn-valid cards, mod-97-valid IBANs and secrets', () => {
    expect(kinds('write to ann.lee@example.com.')).toEqual([['email', 'ann.lee@example.com']]);
    expect(kinds('call +44 20 7946 0958 or (415) 555-0123')).toEqual([
      ['phone', '+44 20 7946 0958'],
      ['phone', '(415) 555-0123'],
    ]);
    expect(kinds('card 4111 1111 1111 1111 / 5555555555554444')).toEqual([
      ['card', '4111 1111 1111 1111'],
      ['card', '5555555555554444'],
    ]);
    expect(kinds('iban DE89 3704 0044 0532 0130 00 please')).toEqual([['iban', 'DE89 3704 0044 0532 0130 00']]);
    expect(kinds('Authorization: Bearer abcDEF123456ghiJKL')).toEqual([['secret', 'abcDEF123456ghiJKL']]);
    expect(kinds('key sk-proj-abcdefghijklmnop1234 and ghp_0123456789abcdefghijABCD')).toEqual([
      ['secret', 'sk-proj-abcdefghijklmnop1234'],
      ['secret', 'ghp_0123456789abcdefghijABCD'],
    ]);
  });

  it('refuse near misses: a card failing Luhn, an IBAN failing mod 97, a short token', () => {
    expect(luhn('4111111111111112')).toBe(false);
    expect(ibanValid('DE89370400440532013001')).toBe(false);
    expect(kinds('4111 1111 1111 1112 DE89 3704 0044 0532 0130 01 sk-short')).toEqual([]);
  });

  it('flag under 1% of ordinary business fields (order ids, prices, dates, SKUs)', () => {
    const fields: string[] = [];
    for (let i = 0; i < 400; i++) {
      const n = 100000 + i * 7919;
      fields.push(
        `Order ORD-2026-${String(n).padStart(6, '0')} shipped`,
        `Total: $${(n / 100).toFixed(2)} (tax 1,${String(n % 1000).padStart(3, '0')}.50 EUR)`,
        `Delivery 2026-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')} 14:${String(i % 60).padStart(2, '0')}`,
        `SKU-${n}-BLK qty ${i % 9} @ 12.99`,
        `invoice #${n}${i} due 30/${(i % 12) + 1}/2026`,
        `ticket ${n} priority P${i % 4} v2.${i % 10}.${i % 7}`,
        `run id run_01J${n}XYZ model gpt-4o-mini tokens ${n % 5000}`,
        `Tracking 1Z999AA1${String(n).padStart(8, '0')} weight ${i % 30}.5kg`,
      );
    }
    const flagged = fields.filter((f) => scanText(f, ALL).length > 0);
    expect(flagged.length / fields.length).toBeLessThan(0.01);
  });

  it('stay linear on hostile input', () => {
    const hostile = ['1 '.repeat(50_000), 'a@'.repeat(50_000), 'AB12 '.repeat(20_000), 'Bearer '.repeat(20_000)];
    for (const s of hostile) {
      const t0 = performance.now();
      scanText(s, ALL);
      expect(performance.now() - t0).toBeLessThan(500);
    }
  });
});
