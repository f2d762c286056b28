import { describe, expect, it } from 'vitest';
import { safeNext } from './safe-next';

describe('safeNext: the sign-in page only sends people to pages of this console', () => {
  it('keeps a path of the console with its query and hash', () => {
    expect(safeNext('/runs?status=failed#top')).toBe('/runs?status=failed#top');
    expect(safeNext('/accept-invitation?token=abc')).toBe('/accept-invitation?token=abc');
  });
  it.each([
    'https://evil.test/',
    '//evil.test/x',
    '/\\evil.test',
    '/\t/evil.test',
    ' /runs',
    'javascript:alert(1)',
    'runs',
    '',
  ])('refuses %j', (next) => {
    expect(safeNext(next)).toBeUndefined();
  });
  it('refuses what is not a string', () => {
    expect(safeNext(['/runs'])).toBeUndefined();
    expect(safeNext(undefined)).toBeUndefined();
  });
});
