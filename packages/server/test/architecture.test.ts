/**
 * The server's shape, checked: the import graph of packages/server/src has no cycle (type-only imports
 * count), and a module reaches into another module only through that module's door, `modules/<m>/index.ts`.
 * Reads the sources with `ts.preProcessFile` (no type checking), so it takes well under a second.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/**
 * Imports of another module's inner files, as `importer -> imported` (paths under src/). Empty: every
 * module that others import from has a door. Each entry would be debt: move what is shared to platform/
 * (or db/), or export it from the module's index.ts. The test fails when an entry is no longer needed.
 * Never add to it.
 */
const DOOR_EXCEPTIONS: readonly string[] = [];

/** Every .ts file under src/, as a path relative to src/ with `/` separators; tests and testing/ left out. */
function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (full !== join(SRC, 'testing')) out.push(...sourceFiles(full));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      out.push(relative(SRC, full).split(sep).join('/'));
    }
  }
  return out;
}

/** file → the source files it imports (import, import type, export … from, import()), relative specifiers only. */
function importGraph(): Map<string, string[]> {
  const files = sourceFiles();
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(SRC, file), 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = relative(SRC, resolve(SRC, dirname(file), fileName))
        .split(sep)
        .join('/');
      // Imports use the .ts extension (allowImportingTsExtensions). JSON, tests and testing/ are not nodes.
      if (known.has(target)) targets.add(target);
      else if (!/\.json$|\.test\.ts$|^testing\//.test(target)) {
        throw new Error(`${file}: cannot resolve import '${fileName}'`);
      }
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** The strongly connected components with more than one file (or a self-import): each holds a cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm (recursive: the import chains are a few dozen files deep at most).
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** One concrete cycle inside a component, as `a -> b -> … -> a`, so the message says which imports to cut. */
function describeCycle(graph: Map<string, string[]>, component: string[]): string {
  const members = new Set(component);
  const start = [...component].sort()[0];
  // Breadth-first from start's successors back to start, staying inside the component: the shortest cycle.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w) || previous.has(w)) continue;
      previous.set(w, v);
      if (w === start) {
        const path = [start];
        for (let at = previous.get(start) as string; at !== start; at = previous.get(at) as string) path.push(at);
        path.push(start);
        path.reverse();
        const others = component.length > path.length - 1 ? ` (component of ${component.length} files)` : '';
        return `${path.join(' -> ')}${others}`;
      }
      queue.push(w);
    }
  }
  return component.join(', ');
}

/** `modules/<a>/…` → `a`, else undefined. */
function moduleOf(file: string): string | undefined {
  const m = /^modules\/([^/]+)\//.exec(file);
  return m?.[1];
}

describe('architecture of packages/server/src', () => {
  const graph = importGraph();

  it('has no import cycle (type-only imports included)', () => {
    const found = cycles(graph).map((c) => describeCycle(graph, c));
    expect(found, `import cycles:\n  ${found.join('\n  ')}`).toEqual([]);
  });

  it("reaches another module only through its index.ts, apart from today's listed exceptions", () => {
    const crossings: string[] = [];
    for (const [file, targets] of graph) {
      const from = moduleOf(file);
      if (!from) continue;
      for (const target of targets) {
        const to = moduleOf(target);
        if (to && to !== from && target !== `modules/${to}/index.ts`) crossings.push(`${file} -> ${target}`);
      }
    }
    const allowed = new Set(DOOR_EXCEPTIONS);
    const newOnes = crossings.filter((c) => !allowed.has(c)).sort();
    expect(
      newOnes,
      `import the module's index.ts instead (export what is needed there):\n  ${newOnes.join('\n  ')}`,
    ).toEqual([]);
    const stale = DOOR_EXCEPTIONS.filter((c) => !crossings.includes(c));
    expect(stale, `no longer needed: remove from DOOR_EXCEPTIONS:\n  ${stale.join('\n  ')}`).toEqual([]);
  });
});
