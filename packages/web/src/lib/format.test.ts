import { describe, expect, it } from 'vitest';
import { percent, usd, usdCall, usdExact } from './format';

describe('usd: totals in cents', () => {
  it('shows dollars and cents with thousands separators', () => {
    expect(usd(1234.5)).toBe('$1,234.50');
    expect(usd(0.01)).toBe('$0.01');
    expect(usd(0)).toBe('$0.00');
    expect(usd(250)).toBe('$250.00');
  });
  it('rounds to the cent, never shows sub-cent digits', () => {
    expect(usd(0.4213)).toBe('$0.42');
    expect(usd(0.005)).toBe('$0.01');
  });
  it('never makes a non-zero amount look free', () => {
    expect(usd(0.000042)).toBe('<$0.01');
    expect(usd(-0.000042)).toBe('>-$0.01');
  });
  it('shows a dash when there is no amount', () => {
    expect(usd(null)).toBe('—');
    expect(usd(undefined)).toBe('—');
    expect(usd(Number.NaN)).toBe('—');
  });
});

describe('usdCall: one model call, sub-cent precision', () => {
  it('keeps up to six decimals below a cent, without trailing zeros', () => {
    expect(usdCall(0.000042)).toBe('$0.000042');
    expect(usdCall(0.0000421)).toBe('$0.000042');
    expect(usdCall(0.0025)).toBe('$0.0025');
  });
  it('falls back to cents from one cent up, and for zero', () => {
    expect(usdCall(0.0125)).toBe('$0.01');
    expect(usdCall(1.5)).toBe('$1.50');
    expect(usdCall(0)).toBe('$0.00');
  });
});

describe('usdExact: the tooltip', () => {
  it('keeps every significant digit and names the currency', () => {
    expect(usdExact(0.0000421234)).toBe('$0.0000421234 USD');
    expect(usdExact(1234.5)).toBe('$1,234.50 USD');
    expect(usdExact(-2)).toBe('-$2.00 USD');
  });
});

describe('percent', () => {
  it('rounds a ratio to a whole percentage, or a dash without a whole', () => {
    expect(percent(0.905)).toBe('91%');
    expect(percent(null)).toBe('—');
  });
});
