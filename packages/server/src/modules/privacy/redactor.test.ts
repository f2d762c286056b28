/**
 * The compiled redactor on its own: rule matching (bare keys, paths, anchored paths, patterns), the three
 * actions, the hub's own fields kept, per-agent levels, and idempotence (paths such as OTLP logs and
 * Langfuse re-send stored content, which must come out unchanged).
 */
import type { RedactionRule } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import { compileRedactor, DEFAULT_DETECTORS, type OrgPrivacy, requiredPrefix } from './redactor.ts';

const KEY = Buffer.alloc(32, 7);
const org = (p: Partial<OrgPrivacy>): OrgPrivacy => ({
  capture: 'redacted',
  detectors: DEFAULT_DETECTORS,
  rules: [],
  agents: new Map(),
  ...p,
});

describe('compileRedactor', () => {
  it('is null for the default (full, no rules): ingestion skips the walk', () => {
    expect(compileRedactor(org({ capture: 'full' }), KEY)).toBeNull();
  });

  it('applies key, path, anchored path and pattern rules with label, hash and remove', () => {
    const rules: RedactionRule[] = [
      { name: 'a', key: 'ssn', action: 'label', label: '[SSN]' },
      { name: 'b', key: 'customer.address', action: 'remove' },
      { name: 'c', key: '$.top.only', action: 'label' },
      { name: 'd', pattern: 'CUST-[0-9]{6}', action: 'hash' },
    ];
    const r = compileRedactor(org({ capture: 'full', rules }), KEY)!;
    const out = r.content('agt', {
      ssn: '078-05-1120',
      deep: { customer: { address: 'x', city: 'Paris' }, top: { only: 'kept' } },
      top: { only: 'gone' },
      text: 'CUST-778812 and again CUST-778812',
      mail: 'ann@example.com', // full: detectors off
    }) as Record<string, any>;
    expect(out.ssn).toBe('[SSN]');
    expect(out.deep).toEqual({ customer: { city: 'Paris' }, top: { only: 'kept' } });
    expect(out.top.only).toBe('[REDACTED]');
    const [h1, h2] = out.text.match(/\[#[0-9a-f]{16}\]/g);
    expect(h1).toBe(h2); // joinable
    expect(out.mail).toBe('ann@example.com');
  });

  it("keeps the hub's fields in payloads, drops text under metadata_only, per agent", () => {
    const r = compileRedactor(org({ capture: 'redacted', agents: new Map([['quiet', 'metadata_only']]) }), KEY)!;
    const payload = { model: 'gpt-4o-2024-08-06', input_tokens: 12, cost_usd: 0.1, prompt: 'hi ann@example.com' };
    expect(r.payload('loud', payload)).toEqual({ ...payload, prompt: 'hi [EMAIL]' });
    expect(r.payload('quiet', payload)).toEqual({ ...payload, prompt: '[omitted]' });
    expect(r.payload('quiet', { tool: 'pay 4111 1111 1111 1111', n: 4111111111111111 })).toEqual({
      tool: 'pay [CARD]',
      n: 0,
    });
    expect(r.attributes('loud', { password: 'hunter22', token: 5 })).toEqual({ password: '[SECRET]', token: 5 });
  });

  it('is idempotent: redacted output redacted again is unchanged', () => {
    const rules: RedactionRule[] = [{ name: 'd', pattern: 'CUST-[0-9]{6}', action: 'hash' }];
    const r = compileRedactor(org({ rules, detectors: { ...DEFAULT_DETECTORS, email: 'hash' } }), KEY)!;
    const once = r.content('a', { t: 'CUST-123456 ann@example.com +44 20 7946 0958 DE89 3704 0044 0532 0130 00' });
    expect(r.content('a', once)).toEqual(once);
    const m = compileRedactor(org({ capture: 'metadata_only' }), KEY)!;
    const q = m.content('a', { t: 'x' });
    expect(m.content('a', q)).toEqual(q);
  });
});

describe('requiredPrefix (the cheap test before a pattern rule runs)', () => {
  it('is the leading literal only when every match must start with it', () => {
    expect(requiredPrefix('CUST-[0-9]{6}')).toBe('CUST-');
    expect(requiredPrefix('VAT[A-Z]{2}[0-9]{9}')).toBe('VAT');
    expect(requiredPrefix('abc?d')).toBe('ab'); // the c is optional
    expect(requiredPrefix('abc*')).toBe('ab');
    expect(requiredPrefix('ab{0,3}')).toBeNull(); // one required character is too short to bother
    expect(requiredPrefix('CUST-1|ORD-2')).toBeNull(); // alternation: no common start
    expect(requiredPrefix('(?i)cust')).toBeNull(); // flags change what matches
    expect(requiredPrefix('[A-Z]{3}-\\d+')).toBeNull();
    expect(requiredPrefix('\\bid-')).toBeNull();
  });

  it('skips strings without the prefix and still redacts those with it', () => {
    const r = compileRedactor(
      org({ capture: 'full', rules: [{ name: 'c', pattern: 'CUST-[0-9]{6}', action: 'label', label: '[CUST]' }] }),
      KEY,
    )!;
    expect(r.payload('a', { note: 'order for CUST-123456 and CUST-654321', other: 'cust-123456' })).toEqual({
      note: 'order for [CUST] and [CUST]',
      other: 'cust-123456',
    });
  });
});
