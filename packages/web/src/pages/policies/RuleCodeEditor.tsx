/** The code face of a rule: YAML or JSON in CodeMirror, parsed as you type. */
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { SegmentedControl, Stack, useComputedColorScheme } from '@mantine/core';
import CodeMirror from '@uiw/react-codemirror';

export function RuleCodeEditor({
  text,
  format,
  onText,
  onFormat,
  readOnly,
}: {
  text: string;
  format: 'yaml' | 'json';
  onText: (t: string) => void;
  onFormat: (f: 'yaml' | 'json') => void;
  readOnly?: boolean;
}) {
  const scheme = useComputedColorScheme('light');
  return (
    <Stack gap="xs">
      <SegmentedControl
        aria-label="Editor format"
        size="xs"
        value={format}
        onChange={(v) => onFormat(v as 'yaml' | 'json')}
        data={[
          { value: 'yaml', label: 'YAML' },
          { value: 'json', label: 'JSON' },
        ]}
        w={160}
      />
      <CodeMirror
        value={text}
        onChange={onText}
        extensions={[format === 'yaml' ? yaml() : json()]}
        theme={scheme === 'dark' ? 'dark' : 'light'}
        minHeight="220px"
        maxHeight="480px"
        readOnly={readOnly}
        aria-label={`Rule as ${format.toUpperCase()}`}
        basicSetup={{ lineNumbers: true, foldGutter: false }}
        data-testid="rule-editor"
      />
    </Stack>
  );
}
