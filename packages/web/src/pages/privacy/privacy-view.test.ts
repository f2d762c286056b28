// @vitest-environment happy-dom
/**
 * The privacy page's content, rendered with plain data: the org's capture level, the rules list with add
 * and remove, the sample box, each agent's capture level picker, and the re-redaction's progress in
 * words. Each change must reach its callback with what the hub expects. (Plain `.ts` with createElement:
 * the root Vitest config collects `*.test.ts`.)
 */
import type { PrivacySettings, RedactionJob } from '@agentops-hub/contracts';
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { PrivacyView, type PrivacyViewProps, redactionSentence } from './PrivacyView';

afterEach(cleanup);

/** An agent's level picker (the select's input; its list of options carries the same name). */
const pickerOf = (agent: string) =>
  screen.getByRole('combobox', { name: `Capture level of ${agent}` }) as HTMLInputElement;

const job = (over: Partial<RedactionJob>): RedactionJob => ({
  id: 'red_1',
  status: 'running',
  reason: 'tightened',
  phase: 'events',
  counts: { runs: { scanned: 300, changed: 120 }, events: { scanned: 200, changed: 80 } },
  requested_at: '2026-12-07T01:00:00.000Z',
  started_at: '2026-12-07T01:00:01.000Z',
  finished_at: null,
  error: null,
  ...over,
});

const SETTINGS: PrivacySettings = {
  capture: 'redacted',
  detectors: { email: 'label', phone: 'label', card: 'label', iban: 'label', secret: 'label' },
  rules: [
    { name: 'customer ids', pattern: 'CUST-[0-9]{6}', action: 'hash' },
    { name: 'address', key: 'customer.address', action: 'remove' },
  ],
  agents: [{ agent_id: 'agt_2', capture: 'metadata_only' }],
  updated_at: '2026-12-07T00:00:00.000Z',
  redaction: job({}),
};

/** Renders the view; every callback records what it was called with. */
function show(over: Partial<PrivacyViewProps> = {}) {
  const calls: Record<string, unknown[][]> = { capture: [], rules: [], agent: [], test: [], redact: [] };
  const props: PrivacyViewProps = {
    settings: SETTINGS,
    agents: [
      { id: 'agt_1', name: 'Support' },
      { id: 'agt_2', name: 'Billing' },
    ],
    canEdit: true,
    canEditAgents: true,
    canTest: true,
    onCapture: (...a) => void calls.capture!.push(a),
    onRules: (...a) => void calls.rules!.push(a),
    onAgentCapture: (...a) => void calls.agent!.push(a),
    onTest: async (...a) => {
      calls.test!.push(a);
      return { note: 'mail [EMAIL]' };
    },
    onRedact: () => void calls.redact!.push([]),
    ...over,
  };
  // `env: 'test'`: no transitions and no portals, so a select's options are there at once.
  render(createElement(MantineProvider, { env: 'test' }, createElement(PrivacyView, props)));
  return calls;
}

describe('PrivacyView', () => {
  it("changes the org's capture level", async () => {
    const calls = show();
    const level = screen.getByRole('radiogroup', { name: 'Organization capture level' });
    expect((within(level).getByLabelText('Redacted') as HTMLInputElement).checked).toBe(true);
    await userEvent.click(within(level).getByLabelText('Metadata only'));
    expect(calls.capture).toEqual([['metadata_only']]);
  });

  it('lists the rules, removes one, and adds a new one', async () => {
    const calls = show();
    const rules = screen.getByLabelText('Redaction rules');
    expect(within(rules).getByText('pattern CUST-[0-9]{6}')).toBeTruthy();
    expect(within(rules).getByRole('cell', { name: 'Keyed hash' })).toBeTruthy();
    await userEvent.click(screen.getByLabelText('Remove rule customer ids'));
    expect(calls.rules[0]).toEqual([[{ name: 'address', key: 'customer.address', action: 'remove' }]]);
    await userEvent.type(screen.getByRole('textbox', { name: /Rule name/ }), 'loyalty');
    await userEvent.type(screen.getByRole('textbox', { name: /^Key or path/ }), 'loyalty_number');
    await userEvent.click(screen.getByRole('button', { name: 'Add rule' }));
    expect(calls.rules[1]![0]).toEqual([
      ...SETTINGS.rules,
      { name: 'loyalty', key: 'loyalty_number', action: 'label' },
    ]);
  });

  it('shows what a pasted sample would become, as JSON when it parses', async () => {
    const calls = show();
    await userEvent.click(screen.getByLabelText('Sample'));
    await userEvent.paste('{"note":"mail ann@example.com"}');
    await userEvent.click(screen.getByRole('button', { name: 'Show what is kept' }));
    await waitFor(() => expect(screen.getByLabelText('What would be stored').textContent).toContain('mail [EMAIL]'));
    expect(calls.test).toEqual([[{ note: 'mail ann@example.com' }, 'redacted']]);
  });

  it('lists every agent with its own level and sets one', async () => {
    const calls = show();
    const picker = screen.getByLabelText('Capture level per agent');
    expect(within(picker).getByText('Support')).toBeTruthy();
    expect(pickerOf('Billing').value).toBe('Metadata only');
    expect(pickerOf('Support').value).toBe('Like the organization (Redacted)');
    await userEvent.click(pickerOf('Support'));
    await userEvent.click(await screen.findByRole('option', { name: 'Metadata only' }));
    expect(calls.agent).toEqual([['agt_1', 'metadata_only']]);
  });

  it("shows the re-redaction's progress, and asks for one only when none is waiting", async () => {
    show();
    expect(screen.getByText('Running: events. 200 of 500 stored items changed so far.')).toBeTruthy();
    cleanup();
    show({ settings: { ...SETTINGS, redaction: job({ status: 'queued', counts: {} }) } });
    expect(screen.getByText(/^Queued .*; it starts in a moment\.$/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Re-redact stored data' }) as HTMLButtonElement).disabled).toBe(true);
    cleanup();
    const done = show({
      settings: {
        ...SETTINGS,
        redaction: job({ status: 'completed', phase: 'done', finished_at: '2026-12-07T01:05:00.000Z' }),
      },
    });
    expect(screen.getByText(/^Completed .*: 200 of 500 stored items changed\.$/)).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Re-redact stored data' }));
    expect(done.redact).toHaveLength(1);
  });

  it('hides what the person may not do', () => {
    show({ canEdit: false, canEditAgents: false, canTest: false });
    expect(screen.queryByRole('button', { name: 'Re-redact stored data' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Add rule' })).toBeNull();
    expect(screen.queryByLabelText('Test a sample')).toBeNull();
    expect(pickerOf('Support').disabled).toBe(true);
  });

  it('says so when nothing was re-redacted yet, and names a failure', () => {
    expect(redactionSentence(null)).toBe('Stored data has not been re-redacted yet.');
    expect(
      redactionSentence(job({ status: 'failed', error: 'disk full', finished_at: '2026-12-07T01:05:00.000Z' })),
    ).toMatch(/^Failed .*: disk full\.$/);
  });
});
