/**
 * A legend for charts that have none of their own (donuts): a swatch, the name, the count and its share,
 * as a list so screen readers read the numbers the chart draws.
 */
import { ColorSwatch, Group, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export interface LegendItem {
  name: string;
  value: number;
  /** A Mantine color such as `teal.6`. */
  color: string;
  /** How to show the value (a count by default). */
  display?: ReactNode;
}

const cssColor = (c: string) => {
  const [name, shade] = c.split('.');
  return shade ? `var(--mantine-color-${name}-${shade})` : `var(--mantine-color-${name}-6)`;
};

export function ChartLegend({ items, label }: { items: LegendItem[]; label: string }) {
  const total = items.reduce((s, i) => s + i.value, 0);
  return (
    <Stack gap={6} component="ul" aria-label={label} m={0} p={0} style={{ listStyle: 'none' }}>
      {items.map((i) => (
        <Group key={i.name} component="li" gap="xs" wrap="nowrap">
          <ColorSwatch color={cssColor(i.color)} size={12} withShadow={false} aria-hidden />
          <Text size="sm" style={{ flex: 1 }}>
            {i.name}
          </Text>
          <Text size="sm" fw={600} style={{ fontVariantNumeric: 'tabular-nums' }}>
            {i.display ?? i.value.toLocaleString('en-US')}
          </Text>
          <Text size="xs" c="dimmed" w={40} ta="right">
            {total > 0 ? `${Math.round((i.value / total) * 100)}%` : '—'}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

/** Recharts axis props for counts: whole numbers only (no "0.5 runs"). */
export const INTEGER_AXIS = { allowDecimals: false } as const;
