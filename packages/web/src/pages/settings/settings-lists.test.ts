// @vitest-environment happy-dom
/**
 * The lists of the API keys, members and audit log pages: what their filters keep, and the audit list's
 * rows opening their changes in place (the shared DataTable's `details`), as a table on a laptop and as
 * cards on a phone.
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createElement, useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { DataTable } from '../../components/DataTable';
import { actorName, entryLabel } from '../audit/AuditPage';
import { filterKeys } from './ApiKeysPage';
import { filterMembers } from './MembersPage';

afterEach(cleanup);

const key = (name: string, prefix: string, scopes: string[], revoked = false) => ({
  name,
  prefix,
  scopes: scopes as ('ingest' | 'read' | 'admin' | 'full')[],
  revoked_at: revoked ? '2026-01-02T00:00:00Z' : null,
});

describe('filterKeys', () => {
  const keys = [
    key('old support bot', 'ahk_old', ['ingest'], true),
    key('Support bot', 'ahk_sup', ['ingest', 'read']),
    key('reporting script', 'ahk_rep', ['read']),
  ];
  it('hides revoked keys unless asked, and lists active ones first', () => {
    expect(filterKeys(keys, {}).map((k) => k.name)).toEqual(['Support bot', 'reporting script']);
    expect(filterKeys(keys, { revoked: true }).map((k) => k.name)).toEqual([
      'Support bot',
      'reporting script',
      'old support bot',
    ]);
  });
  it('matches part of the name or the prefix in any case, and an exact scope', () => {
    expect(filterKeys(keys, { q: 'SUPPORT' }).map((k) => k.name)).toEqual(['Support bot']);
    expect(filterKeys(keys, { q: 'ahk_rep' }).map((k) => k.name)).toEqual(['reporting script']);
    expect(filterKeys(keys, { scope: 'read' }).map((k) => k.name)).toEqual(['Support bot', 'reporting script']);
    expect(filterKeys(keys, { scope: 'ingest', revoked: true, q: 'old' }).map((k) => k.name)).toEqual([
      'old support bot',
    ]);
    expect(filterKeys(keys, { scope: 'full' })).toEqual([]);
  });
});

describe('filterMembers', () => {
  const members = [
    { name: 'Ann Owner', email: 'ann@acme.test', role: 'owner' as const },
    { name: 'Bob', email: 'bob@acme.test', role: 'viewer' as const },
    { name: null as unknown as string, email: 'carol@acme.test', role: 'team_lead' as const },
  ];
  it('matches part of a name or an email in any case, and an exact role', () => {
    expect(filterMembers(members, { q: 'ann' }).map((m) => m.email)).toEqual(['ann@acme.test']);
    expect(filterMembers(members, { q: 'CAROL@' }).map((m) => m.email)).toEqual(['carol@acme.test']);
    expect(filterMembers(members, { role: 'viewer' }).map((m) => m.email)).toEqual(['bob@acme.test']);
    expect(filterMembers(members, { q: 'acme', role: 'team_lead' }).map((m) => m.email)).toEqual(['carol@acme.test']);
    expect(filterMembers(members, {}).length).toBe(3);
  });
});

describe('audit entries', () => {
  it('name their actor by name, else id, else kind', () => {
    expect(actorName({ type: 'user', id: 'usr_1', name: 'Ann' })).toBe('Ann');
    expect(actorName({ type: 'api_key', id: 'key_1', name: null })).toBe('key_1');
    expect(actorName({ type: 'system', id: null, name: null })).toBe('system');
    expect(entryLabel({ seq: 12, action: 'policy.created', actor: { type: 'user', id: 'u', name: 'Ann' } })).toBe(
      'Entry 12: policy.created by Ann',
    );
  });
});

/** A list whose rows open their details in place, as the audit log's do. */
function Entries() {
  const [open, setOpen] = useState<string | null>(null);
  return createElement(DataTable<{ id: string; action: string }>, {
    label: 'Audit log',
    rows: [
      { id: 'a', action: 'team.created' },
      { id: 'b', action: 'agent.paused' },
    ],
    rowKey: (r) => r.id,
    rowLabel: (r) => `Entry ${r.id}`,
    onOpen: (r) => setOpen(open === r.id ? null : r.id),
    details: (r) => open === r.id && createElement('pre', null, `changes of ${r.action}`),
    columns: [{ header: 'Action', card: 'title', cell: (r) => r.action }],
  });
}

/** The viewport's width, which media queries (the phone breakpoint) read. */
const setWidth = (px: number) =>
  (window as unknown as { happyDOM: { setViewport(v: { width: number; height: number }): void } }).happyDOM.setViewport(
    {
      width: px,
      height: 844,
    },
  );

describe('DataTable details', () => {
  it('opens a row in place on a laptop: a row under it, closed again by a second click or Enter', async () => {
    setWidth(1440);
    render(createElement(MantineProvider, null, createElement(Entries)));
    const table = screen.getByRole('table', { name: 'Audit log' });
    expect(within(table).queryByText(/changes of/)).toBeNull();
    await userEvent.click(within(table).getByText('agent.paused'));
    expect(within(table).getByText('changes of agent.paused')).toBeTruthy();
    expect(within(table).queryByText('changes of team.created')).toBeNull();
    await userEvent.click(within(table).getByText('agent.paused'));
    expect(within(table).queryByText(/changes of/)).toBeNull();
    screen.getByRole('row', { name: 'Entry a' }).focus();
    await userEvent.keyboard('{Enter}');
    expect(within(table).getByText('changes of team.created')).toBeTruthy();
  });

  it('opens a card in place on a phone', async () => {
    setWidth(390);
    render(createElement(MantineProvider, null, createElement(Entries)));
    const list = await screen.findByRole('list', { name: 'Audit log' });
    const cards = within(list).getAllByTestId('data-card');
    expect(cards).toHaveLength(2);
    await userEvent.click(cards[1]!);
    expect(within(cards[1]!).getByText('changes of agent.paused')).toBeTruthy();
    setWidth(1440);
  });
});
