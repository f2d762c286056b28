import { Code } from '@mantine/core';
import { json } from '../lib/format';

/** Any JSON value, pretty-printed, scrollable. */
export function JsonBlock({ value, maxHeight = 320 }: { value: unknown; maxHeight?: number }) {
  return (
    <Code block style={{ maxHeight, overflow: 'auto', whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
      {value === undefined || value === null ? '—' : json(value)}
    </Code>
  );
}
