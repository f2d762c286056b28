import { Code, Text } from '@mantine/core';
import { json } from '../lib/format';

/** What the hub sends instead of content to someone without the `view_content` permission. */
export const HIDDEN_CONTENT = '[hidden]';

/** Any JSON value, pretty-printed, scrollable; content hidden by the hub is said so in words. */
export function JsonBlock({ value, maxHeight = 320 }: { value: unknown; maxHeight?: number }) {
  if (value === HIDDEN_CONTENT)
    return (
      <Text size="sm" c="dimmed" fs="italic">
        Hidden: your role does not show this agent's content.
      </Text>
    );
  return (
    <Code block style={{ maxHeight, overflow: 'auto', whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
      {value === undefined || value === null ? '—' : json(value)}
    </Code>
  );
}
