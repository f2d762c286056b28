/**
 * The filters above a list. On a laptop they sit in one wrapping row; on a phone they fold behind a
 * "Filters" button (saying how many are set) so the list starts on the first screen.
 *
 * @example
 * <FilterBar active={[search.agent, search.status].filter(Boolean).length}>
 *   <Select label="Agent" … /> <Select label="Status" … />
 * </FilterBar>
 */
import { Button, Card, Collapse, Group } from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { IconFilter } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { PHONE_QUERY } from './DataTable';

export function FilterBar({ children, active = 0 }: { children: ReactNode; active?: number }) {
  const phone = useMediaQuery(PHONE_QUERY);
  const [opened, { toggle }] = useDisclosure(false);
  const row = (
    <Group align="flex-end" wrap="wrap" gap="sm">
      {children}
    </Group>
  );
  if (!phone) return <Card withBorder>{row}</Card>;
  return (
    <Card withBorder padding="xs">
      <Button
        variant="subtle"
        color="gray"
        leftSection={<IconFilter size={16} />}
        onClick={toggle}
        aria-expanded={opened}
        fullWidth
        justify="flex-start"
      >
        {active > 0 ? `Filters (${active} set)` : 'Filters'}
      </Button>
      <Collapse expanded={opened}>
        <div style={{ paddingTop: 8 }}>{row}</div>
      </Collapse>
    </Card>
  );
}
