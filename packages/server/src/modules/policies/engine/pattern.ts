/**
 * The compiled form of a `matches` pattern, shared by the closure compiler and the code generator so
 * both run exactly what validation accepts: RE2 (linear time), compiled once per policy set, never per
 * evaluation (an RE2 compile costs ~0.1 ms; a match on a short string well under a microsecond).
 */
import { compilePolicyPattern } from '@agentops-hub/contracts';
import type { RE2JS } from 're2js';

/**
 * The pattern compiled for RE2, or null when validation would refuse it today: a policy stored under
 * older rules (a lookahead, a huge counted repetition) then evaluates to UNKNOWN instead of running.
 * @example
 * compileMatcher('^(.|.)*Q$')?.test('a'.repeat(40)); // false, in microseconds
 * compileMatcher('(a)\\1'); // null
 */
export function compileMatcher(pattern: unknown): RE2JS | null {
  if (typeof pattern !== 'string') return null;
  try {
    return compilePolicyPattern(pattern);
  } catch {
    return null;
  }
}
