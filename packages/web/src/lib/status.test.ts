import { describe, expect, it } from 'vitest';
import { agentStatus, runStatus, successRate } from './status';

describe('runStatus: one vocabulary for runs', () => {
  it('keeps running and completed as stored', () => {
    expect(runStatus({ status: 'running' })).toBe('running');
    expect(runStatus({ status: 'completed', error: null })).toBe('completed');
  });
  it('reads a run the SDK ended on a refusal as blocked, on a pause or the kill switch as paused', () => {
    expect(runStatus({ status: 'failed', error: { name: 'PolicyBlockedError', message: 'no' } })).toBe('blocked');
    expect(runStatus({ status: 'failed', error: { name: 'ToolBlockedError', message: 'no' } })).toBe('blocked');
    expect(runStatus({ status: 'failed', error: { name: 'AgentPausedError', message: 'kill switch' } })).toBe('paused');
  });
  it("takes the hub's outcome when the run has one (its error may be hidden from this reader)", () => {
    expect(runStatus({ status: 'failed', error: '[hidden]', outcome: 'blocked' })).toBe('blocked');
    expect(runStatus({ status: 'failed', error: { name: 'TypeError' }, outcome: 'failed' })).toBe('failed');
  });
  it('leaves every other failure failed', () => {
    expect(runStatus({ status: 'failed', error: { name: 'TypeError', message: 'x is undefined' } })).toBe('failed');
    expect(runStatus({ status: 'failed', error: 'timeout' })).toBe('failed');
    expect(runStatus({ status: 'failed' })).toBe('failed');
  });
});

describe('successRate', () => {
  it('counts completed against completed and failed; blocked and paused count neither way', () => {
    expect(successRate({ completed: 9, failed: 1, blocked: 5, paused: 3, running: 2 })).toBe(0.9);
  });
  it('has no rate before anything finished', () => {
    expect(successRate({ running: 2, blocked: 1 })).toBeNull();
  });
});

describe('agentStatus', () => {
  it('is paused while the kill switch is engaged, whatever the agent says', () => {
    expect(agentStatus({ status: 'active' }, true)).toBe('paused');
    expect(agentStatus({ status: 'active' }, false)).toBe('active');
    expect(agentStatus({ status: 'paused' }, false)).toBe('paused');
  });
});
