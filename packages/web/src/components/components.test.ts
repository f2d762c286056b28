// @vitest-environment happy-dom
/**
 * The shared display components, rendered: money with its exact value on hover, the run status badge's
 * vocabulary, a chart legend's shares, an action's raw JSON one click away, and the question a destructive
 * button asks first. (Plain `.ts` with
 * createElement: the root Vitest config collects `*.test.ts`.)
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createElement, type ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ActionDetails } from './ActionDetails';
import { ChartLegend } from './ChartLegend';
import { ConfirmDialog } from './ConfirmDialog';
import { HIDDEN_CONTENT, JsonBlock } from './JsonBlock';
import { Money } from './Money';
import { RunStatusBadge } from './StatusBadge';

const show = (node: ReactNode) => render(createElement(MantineProvider, null, node));

afterEach(cleanup);

describe('Money', () => {
  it('shows cents for a total and the exact value on hover', async () => {
    show(createElement(Money, { value: 0.4213 }));
    const shown = screen.getByText('$0.42');
    await userEvent.hover(shown);
    expect(await screen.findByText('$0.4213 USD', {}, { timeout: 2000 })).toBeTruthy();
  });
  it('shows sub-cent precision for one call, and "<$0.01" for a tiny total', () => {
    show(
      createElement(
        'div',
        null,
        createElement(Money, { value: 0.000042, call: true }),
        createElement(Money, { value: 0.000042 }),
      ),
    );
    expect(screen.getByText('$0.000042')).toBeTruthy();
    expect(screen.getByText('<$0.01')).toBeTruthy();
  });
});

describe('RunStatusBadge', () => {
  it('reads a run refused by a policy as Blocked and one stopped by the kill switch as Paused', () => {
    show(
      createElement(
        'div',
        null,
        createElement(RunStatusBadge, { run: { status: 'failed', error: { name: 'PolicyBlockedError' } } }),
        createElement(RunStatusBadge, { run: { status: 'failed', error: { name: 'AgentPausedError' } } }),
        createElement(RunStatusBadge, { run: { status: 'failed', error: { name: 'Error' } } }),
      ),
    );
    expect(screen.getByText('Blocked')).toBeTruthy();
    expect(screen.getByText('Paused')).toBeTruthy();
    expect(screen.getByText('Failed')).toBeTruthy();
  });
});

describe('ChartLegend', () => {
  it('lists every series with its count and share', () => {
    show(
      createElement(ChartLegend, {
        label: 'Runs by outcome',
        items: [
          { name: 'Completed', value: 3, color: 'teal.6' },
          { name: 'Failed', value: 1, color: 'red.6' },
        ],
      }),
    );
    const list = screen.getByRole('list', { name: 'Runs by outcome' });
    expect(list.textContent).toContain('Completed375%');
    expect(list.textContent).toContain('Failed125%');
  });
});

describe('ActionDetails', () => {
  it('lists what the sentence left out and shows the raw action on request', async () => {
    show(createElement(ActionDetails, { action: { type: 'send_email', to: 'a@b.test', discount: 15 } }));
    expect(screen.getByText('discount: 15')).toBeTruthy();
    const toggle = screen.getByRole('button', { name: 'Show the raw action (JSON)' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await userEvent.click(toggle);
    expect(screen.getByRole('button', { name: 'Hide the raw action' }).getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByText(/"discount": 15/)).toBeTruthy();
  });
});

describe('JsonBlock', () => {
  it('says in words that content is hidden, and prints any other value as JSON', () => {
    show(
      createElement(
        'div',
        null,
        createElement(JsonBlock, { value: HIDDEN_CONTENT }),
        createElement(JsonBlock, { value: { amount: 40 } }),
      ),
    );
    expect(screen.getByText(/Hidden: your role does not show/)).toBeTruthy();
    expect(screen.queryByText(HIDDEN_CONTENT)).toBeNull();
    expect(screen.getByText(/"amount": 40/)).toBeTruthy();
  });
});

describe('ConfirmDialog', () => {
  const dialog = (over: { error?: unknown }, calls: string[]) => {
    const props: Parameters<typeof ConfirmDialog>[0] = {
      opened: true,
      onClose: () => calls.push('close'),
      title: 'Delete this webhook?',
      confirmLabel: 'Delete webhook',
      onConfirm: () => calls.push('confirm'),
      pending: false,
      error: over.error ?? null,
      children: 'The hub stops calling it.',
    };
    return createElement(ConfirmDialog, props);
  };

  it('says what will happen, and acts only on its own button', async () => {
    const calls: string[] = [];
    show(dialog({}, calls));
    expect(await screen.findByText('The hub stops calling it.')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(calls).toEqual(['close']);
    await userEvent.click(screen.getByRole('button', { name: 'Delete webhook' }));
    expect(calls).toEqual(['close', 'confirm']);
  });

  it("shows the hub's refusal and keeps the question open", async () => {
    const calls: string[] = [];
    show(dialog({ error: new Error('Only an admin may delete webhooks.') }, calls));
    expect((await screen.findByRole('alert')).textContent).toBe('Only an admin may delete webhooks.');
    expect(screen.getByRole('button', { name: 'Delete webhook' })).toBeTruthy();
    expect(calls).toEqual([]);
  });
});
