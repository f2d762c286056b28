import { describe, expect, it } from 'vitest';
import { actionParts, actionSentence, money, verbPhrase } from './action-sentence';

describe('actionSentence: what an agent asks to do, in words', () => {
  it('reads type, amount, currency and target as one sentence', () => {
    expect(
      actionSentence('SupportBot', { type: 'issue_refund', amount: 250, currency: 'usd', order_id: 'A-1001' }),
    ).toBe('SupportBot wants to issue a refund of $250.00 on order A-1001');
    expect(actionSentence('SupportBot', { type: 'refund', amount: 250, order_id: 'A-1001' })).toBe(
      'SupportBot wants to issue a refund of $250.00 on order A-1001',
    );
  });
  it('names a recipient with "to" and keeps other currencies', () => {
    expect(actionSentence('OutreachBot', { type: 'send_email', to: 'ana@example.test' })).toBe(
      'OutreachBot wants to send an email to ana@example.test',
    );
    expect(actionSentence('PayBot', { type: 'transfer', amount: 12.5, currency: 'EUR', account_id: 'acc_9' })).toBe(
      'PayBot wants to make a transfer of €12.50 on account acc_9',
    );
  });
  it('reads a type it does not know word by word, and no type as "act"', () => {
    expect(actionSentence('Ops', { type: 'deploy' })).toBe('Ops wants to deploy');
    expect(actionSentence('Ops', { type: 'restartClusterNode' })).toBe('Ops wants to restart cluster node');
    expect(actionSentence('Ops', {})).toBe('Ops wants to act');
    expect(actionSentence('Ops', null)).toBe('Ops wants to act');
  });
  it('never prints an object as "[object Object]"', () => {
    expect(actionSentence('Ops', { type: 'export', target: { table: 'users' } })).not.toContain('[object');
  });
});

describe('actionParts.rest: what the sentence leaves out', () => {
  it('lists the attributes not used by the sentence', () => {
    const { rest } = actionParts({ type: 'send_email', to: 'a@b.test', discount: 15, campaign: 'spring' });
    expect(rest).toEqual([
      ['discount', 15],
      ['campaign', 'spring'],
    ]);
  });
});

describe('verbPhrase and money', () => {
  it('puts an article before a singular object, not before a plural', () => {
    expect(verbPhrase('create_invoice')).toBe('create an invoice');
    expect(verbPhrase('delete_records')).toBe('delete records');
  });
  it('formats amounts in their currency, USD by default', () => {
    expect(money(1000)).toBe('$1,000.00');
    expect(money(5, 'gbp')).toBe('£5.00');
    expect(money(5, 'points')).toBe('$5.00');
  });
});
