/**
 * The console's table: one component for every list of things (runs, agents, policies…). A row opens its
 * thing wherever it is clicked, or with Enter when it has focus; links and buttons inside keep their own
 * click. Below 768 px the table becomes a list of cards showing the columns marked for cards (for runs:
 * status, agent, time and cost), so nothing important needs a sideways scroll on a phone.
 *
 * @example
 * <DataTable label="Runs" rows={runs} rowKey={(r) => r.id} onOpen={(r) => open(r.id)} rowLabel={(r) => `Run ${r.id}`}
 *   columns={[{ header: 'Run', cell: (r) => r.id, card: 'title' }, { header: 'Cost', cell: (r) => <Money value={r.cost_usd} />, card: true }]} />
 */
import { Card, Group, Stack, Table, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { Fragment, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** On a phone: `title` heads the card, `true` shows the column as a labelled line, omitted hides it. */
  card?: 'title' | 'badge' | true;
  /** Hide the column (e.g. without the permission to see it). */
  hidden?: boolean;
  width?: number | string;
}

export interface DataTableProps<T> {
  /** The table's accessible name, e.g. "Runs". */
  label: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  /** Opens the row's thing (navigate to its page); rows without it are plain. */
  onOpen?: (row: T) => void;
  /** What opening the row does, for screen readers: "Open run run_42". */
  rowLabel?: (row: T) => string;
  /** Below this width (px) the table scrolls sideways on tablets; phones get cards instead. */
  minWidth?: number;
  /**
   * What a row shows under itself when it is open (e.g. an audit entry's changes): a full-width row under
   * it in the table, the bottom of its card on a phone. Null or undefined: nothing.
   */
  details?: (row: T) => ReactNode;
}

/** The phone breakpoint of the shell (Mantine's `sm`, 48em = 768 px). */
export const PHONE_QUERY = '(max-width: 47.99em)';

/** A click on a link, button or input inside the row is theirs, not the row's. */
const fromControl = (e: MouseEvent | KeyboardEvent) =>
  e.target instanceof Element &&
  e.target !== e.currentTarget &&
  Boolean(e.target.closest('a, button, input, select, textarea, [role="button"], [role="menuitem"]'));

export function DataTable<T>({
  label,
  rows,
  columns,
  rowKey,
  onOpen,
  rowLabel,
  minWidth = 700,
  details,
}: DataTableProps<T>) {
  const phone = useMediaQuery(PHONE_QUERY);
  const cols = columns.filter((c) => !c.hidden);

  const open = onOpen
    ? {
        onClick: (row: T) => (e: MouseEvent) => {
          if (!fromControl(e)) onOpen(row);
        },
        onKeyDown: (row: T) => (e: KeyboardEvent) => {
          if (e.key === 'Enter' && !fromControl(e)) {
            e.preventDefault();
            onOpen(row);
          }
        },
      }
    : null;

  if (phone) {
    const title = cols.filter((c) => c.card === 'title');
    const badges = cols.filter((c) => c.card === 'badge');
    const lines = cols.filter((c) => c.card === true);
    return (
      <Stack gap="xs" component="ul" aria-label={label} m={0} p={0} style={{ listStyle: 'none' }}>
        {rows.map((row) => (
          <Card
            key={rowKey(row)}
            component="li"
            withBorder
            padding="sm"
            tabIndex={open ? 0 : undefined}
            aria-label={rowLabel?.(row)}
            onClick={open?.onClick(row)}
            onKeyDown={open?.onKeyDown(row)}
            style={open ? { cursor: 'pointer' } : undefined}
            data-testid="data-card"
          >
            <Group justify="space-between" wrap="nowrap" align="flex-start" gap="xs">
              <div style={{ minWidth: 0 }}>
                {title.map((c) => (
                  <div key={c.header}>{c.cell(row)}</div>
                ))}
              </div>
              {badges.map((c) => (
                <div key={c.header}>{c.cell(row)}</div>
              ))}
            </Group>
            {lines.length > 0 && (
              <Group gap="md" mt={6} wrap="wrap">
                {lines.map((c) => (
                  <div key={c.header}>
                    <Text size="xs" c="dimmed" component="span">
                      {c.header}{' '}
                    </Text>
                    <Text size="sm" component="span">
                      {c.cell(row)}
                    </Text>
                  </div>
                ))}
              </Group>
            )}
            {details?.(row)}
          </Card>
        ))}
      </Stack>
    );
  }

  return (
    <Table.ScrollContainer minWidth={minWidth}>
      <Table highlightOnHover={Boolean(open)} verticalSpacing="sm" aria-label={label}>
        <Table.Thead>
          <Table.Tr>
            {cols.map((c) => (
              <Table.Th key={c.header} w={c.width}>
                {c.header}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => {
            const more = details?.(row);
            return (
              <Fragment key={rowKey(row)}>
                <Table.Tr
                  tabIndex={open ? 0 : undefined}
                  aria-label={rowLabel?.(row)}
                  onClick={open?.onClick(row)}
                  onKeyDown={open?.onKeyDown(row)}
                  style={open ? { cursor: 'pointer' } : undefined}
                >
                  {cols.map((c) => (
                    <Table.Td key={c.header}>{c.cell(row)}</Table.Td>
                  ))}
                </Table.Tr>
                {more != null && more !== false && (
                  <Table.Tr>
                    <Table.Td colSpan={cols.length}>{more}</Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
