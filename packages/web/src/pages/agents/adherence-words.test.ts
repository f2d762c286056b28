/**
 * Adherence in words: a score that never rounds a stopped action up to 100%, the counts behind it, and
 * what is said when nothing was evaluated or approvals still wait.
 */
import type { Adherence } from '@agentops-hub/contracts';
import { describe, expect, it } from 'vitest';
import { adherenceCounts, adherenceScore } from './adherence-words';

const a = (over: Partial<Adherence>): Adherence => ({
  score: null,
  evaluated: 0,
  adherent: 0,
  blocked: 0,
  rejected: 0,
  overridden: 0,
  pending: 0,
  ...over,
});

describe('adherence words', () => {
  it('floors the score: one block in 900 is 99.8%, not 100%', () => {
    expect(adherenceScore(a({ score: 899 / 900 }))).toBe('99.8%');
    expect(adherenceScore(a({ score: 1 }))).toBe('100%');
    expect(adherenceScore(a({ score: 0.5 }))).toBe('50%');
    expect(adherenceScore(a({ score: null }))).toBe('—');
  });
  it('names the counts behind the score, only those that happened', () => {
    expect(adherenceCounts(a({ score: 0.7, evaluated: 10, adherent: 7, blocked: 2, overridden: 1 }))).toBe(
      '7 of 10 checked actions went through cleanly · 2 blocked · 1 matched a monitor-only rule',
    );
    expect(adherenceCounts(a({ score: 1, evaluated: 1, adherent: 1 }))).toBe(
      '1 of 1 checked action went through cleanly',
    );
  });
  it('says why there is no score, and that waiting approvals are not counted yet', () => {
    expect(adherenceCounts(a({}))).toBe('No action was checked by a policy in this range.');
    expect(adherenceCounts(a({ pending: 2 }))).toBe(
      'No action was checked by a policy in this range · 2 awaiting a decision (not counted yet).',
    );
    expect(adherenceCounts(a({ score: 0, evaluated: 1, rejected: 1, pending: 1 }))).toContain(
      '1 rejected or expired · 1 awaiting a decision (not counted yet)',
    );
  });
});
