/** The code face of a rule: YAML or JSON in CodeMirror, parsed as you type. */
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { SegmentedControl, Stack, useComputedColorScheme } from '@mantine/core';
import CodeMirror, { EditorView } from '@uiw/react-codemirror';
import { useMemo } from 'react';

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
  // The label goes on CodeMirror's editable element: on the wrapper, screen readers never hear it.
  const extensions = useMemo(
    () => [
      format === 'yaml' ? yaml() : json(),
      EditorView.contentAttributes.of({ 'aria-label': `Rule as ${format.toUpperCase()}` }),
    ],
    [format],
  );
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
        extensions={extensions}
        theme={scheme === 'dark' ? 'dark' : 'light'}
        minHeight="220px"
        maxHeight="480px"
        readOnly={readOnly}
        basicSetup={{ lineNumbers: true, foldGutter: false }}
        data-testid="rule-editor"
      />
    </Stack>
  );
}
