/** The sentence face of a rule, for people who do not write YAML. */
import { ActionIcon, Autocomplete, Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { EFFECTS, FIELD_SUGGESTIONS, OPS, type Sentence } from './policy-sentence';

export function SentenceBuilder({
  value,
  onChange,
  agents,
  disabled,
}: {
  value: Sentence;
  onChange: (s: Sentence) => void;
  agents: string[];
  disabled?: boolean;
}) {
  const set = (patch: Partial<Sentence>) => onChange({ ...value, ...patch });
  const setCond = (i: number, patch: Partial<Sentence['conditions'][number]>) =>
    set({ conditions: value.conditions.map((c, j) => (j === i ? { ...c, ...patch } : c)) });

  return (
    <Stack gap="sm" aria-label="Sentence builder" role="group">
      <Group gap="xs" align="center" wrap="wrap">
        <Text fw={600}>When</Text>
        <Autocomplete
          aria-label="Agent"
          placeholder="any agent"
          data={agents}
          value={value.agent}
          onChange={(agent) => set({ agent })}
          w={180}
          disabled={disabled}
        />
        <Text fw={600}>does</Text>
        <TextInput
          aria-label="Action"
          placeholder="any action, e.g. refund"
          value={value.action}
          onChange={(e) => set({ action: e.currentTarget.value })}
          w={200}
          disabled={disabled}
        />
      </Group>
      {value.conditions.map((c, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: conditions have no identity of their own
        <Group key={i} gap="xs" align="center" wrap="wrap" pl="md">
          <Text fw={600}>and</Text>
          <Autocomplete
            aria-label={`Condition ${i + 1} field`}
            placeholder="field, e.g. action.amount"
            data={FIELD_SUGGESTIONS}
            value={c.field}
            onChange={(field) => setCond(i, { field })}
            w={190}
            disabled={disabled}
          />
          <Select
            aria-label={`Condition ${i + 1} operator`}
            data={OPS}
            value={c.op}
            onChange={(op) => op && setCond(i, { op })}
            w={160}
            allowDeselect={false}
            disabled={disabled}
          />
          {c.op !== 'exists' && (
            <TextInput
              aria-label={`Condition ${i + 1} value`}
              placeholder={c.op === 'in' || c.op === 'not_in' ? 'a, b, c' : 'value'}
              value={c.value}
              onChange={(e) => setCond(i, { value: e.currentTarget.value })}
              w={150}
              disabled={disabled}
            />
          )}
          <ActionIcon
            variant="subtle"
            color="gray"
            aria-label={`Remove condition ${i + 1}`}
            onClick={() => set({ conditions: value.conditions.filter((_, j) => j !== i) })}
            disabled={disabled}
          >
            <IconTrash size={16} />
          </ActionIcon>
        </Group>
      ))}
      <Group gap="xs" pl="md">
        <Button
          variant="subtle"
          size="xs"
          leftSection={<IconPlus size={14} />}
          onClick={() => set({ conditions: [...value.conditions, { field: '', op: 'eq', value: '' }] })}
          disabled={disabled}
        >
          Add a condition
        </Button>
      </Group>
      <Group gap="xs" align="center">
        <Text fw={600}>→ then</Text>
        <Select
          aria-label="Effect"
          data={EFFECTS}
          value={value.then}
          onChange={(then) => then && set({ then: then as Sentence['then'] })}
          w={200}
          allowDeselect={false}
          disabled={disabled}
        />
      </Group>
    </Stack>
  );
}
