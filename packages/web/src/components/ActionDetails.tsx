/**
 * An action's details under its sentence (lib/action-sentence.ts): the attributes the sentence did not
 * mention as short labels, then the raw action as JSON, one click away.
 */
import { Badge, Button, Collapse, Group, Stack } from '@mantine/core';
import { useState } from 'react';
import { actionParts } from '../lib/action-sentence';
import { JsonBlock } from './JsonBlock';

export function ActionDetails({ action }: { action: Record<string, unknown> }) {
  const [raw, setRaw] = useState(false);
  const { rest } = actionParts(action);
  return (
    <Stack gap="xs">
      {rest.length > 0 && (
        <Group gap="xs" aria-label="Other details of the action">
          {rest.map(([k, v]) => (
            <Badge key={k} variant="default" tt="none" fw={500}>
              {k.replace(/_/g, ' ')}: {typeof v === 'object' ? JSON.stringify(v) : String(v)}
            </Badge>
          ))}
        </Group>
      )}
      <Button
        variant="subtle"
        size="compact-sm"
        onClick={() => setRaw((r) => !r)}
        aria-expanded={raw}
        style={{ alignSelf: 'flex-start' }}
      >
        {raw ? 'Hide the raw action' : 'Show the raw action (JSON)'}
      </Button>
      <Collapse expanded={raw}>
        <JsonBlock value={action} />
      </Collapse>
    </Stack>
  );
}
