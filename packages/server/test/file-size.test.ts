/**
 * Source files stay short enough to read: a code file under packages/server/src (tests left out) longer
 * than 400 lines must say why in a sentence of its own, containing `longer than 400 lines because` and
 * a reason (see docs/ARCHITECTURE.md, "Layout"). Without one, split the file. Data (JSON, .proto) is
 * not code and is not counted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const MAX_LINES = 400;
/** The marker, followed by at least a few words of reason. */
const WHY = /longer than 400 lines because \S+(?:\s+\S+){2,}/;

function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return codeFiles(full);
    return /\.(ts|mts|js|mjs)$/.test(e.name) && !/\.test\.[mc]?[jt]s$/.test(e.name) ? [full] : [];
  });
}

it(`every server source file over ${MAX_LINES} lines says why it is that long`, () => {
  const files = codeFiles(SRC);
  expect(files.length).toBeGreaterThan(50);
  const unexplained = files
    .map((f) => ({ file: relative(SRC, f), text: readFileSync(f, 'utf8') }))
    .map(({ file, text }) => ({ file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0), text }))
    .filter(({ lines, text }) => lines > MAX_LINES && !WHY.test(text))
    .map(({ file, lines }) => `${file} (${lines} lines)`);
  expect(
    unexplained,
    `split these files, or add a sentence "…longer than ${MAX_LINES} lines because <reason>" at the top`,
  ).toEqual([]);
});
