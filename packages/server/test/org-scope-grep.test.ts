/**
 * Tenancy is a construct, not a habit: every query that touches a tenant's rows goes through
 * `orgScope` (src/db/org-scope.ts), which adds `org_id` itself. This test reads the server's source and
 * fails on an `org_id` filter written by hand anywhere else: a Kysely `where`/`on` on an `org_id`
 * column, or `org_id =` / `org_id in` in raw SQL. Migrations define the column and are left out, and so
 * are `*.system.ts` files: the reviewed system paths that read across orgs on purpose (a job's sweep, an
 * enrichment pass over many orgs), each saying why in its header.
 *
 * `NOT_YET_SCOPED` lists the files still to move (issue "One shape for the server"); it may only shrink.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const THE_SCOPE = 'db/org-scope.ts';

const HAND_WRITTEN = [
  // Kysely: .where('org_id', …), .where('runs.org_id', …), .onRef('a.org_id', …), .on('org_id', …)
  /\.(?:where|whereRef|on|onRef|orWhere)\(\s*['"`](?:\w+\.)?org_id['"`]/,
  // eb('org_id', '=', …) inside an expression builder
  /\beb\(\s*['"`](?:\w+\.)?org_id['"`]/,
  // raw SQL: org_id = ?, org_id = $1, o.org_id IN (…)
  /\borg_id\s*(?:=|<>|!=|\bin\b|\bIN\b)\s*[?$:(@'"${]/,
];

const NOT_YET_SCOPED = new Set<string>([]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'migrations' ? [] : sourceFiles(full);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [full] : [];
  });
}

function offenders(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const rel = relative(SRC, file);
    if (rel === THE_SCOPE || rel.endsWith('.system.ts')) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    const hits = lines
      .map((line, i) => ({ line: line.trim(), n: i + 1 }))
      .filter(({ line }) => HAND_WRITTEN.some((re) => re.test(line)))
      .map(({ line, n }) => `${n}: ${line}`);
    if (hits.length) found.set(rel, hits);
  }
  return found;
}

it('no org_id filter is written by hand outside orgScope', () => {
  const found = offenders();
  const unexpected = [...found].filter(([file]) => !NOT_YET_SCOPED.has(file));
  expect(
    unexpected.map(([file, hits]) => `${file}\n  ${hits.join('\n  ')}`),
    'scope these queries with orgScope(exec, orgId) from src/db/org-scope.ts',
  ).toEqual([]);
});

it('the list of files still to scope only names files that still need it', () => {
  const found = offenders();
  const done = [...NOT_YET_SCOPED].filter((file) => !found.has(file));
  expect(done, 'these files are scoped now: remove them from NOT_YET_SCOPED').toEqual([]);
});

it('the patterns catch what they are meant to catch', () => {
  const samples = [
    ".where('org_id', '=', orgId)",
    ".where('runs.org_id', '=', orgId)",
    ".onRef('agents.org_id', '=', 'runs.org_id')",
    "eb('org_id', '=', orgId)",
    'select * from runs where org_id = ? and id = ?',
    'where r.org_id = $1',
    'and org_id in (select id from orgs)',
  ];
  for (const s of samples)
    expect(
      HAND_WRITTEN.some((re) => re.test(s)),
      s,
    ).toBe(true);
  expect(HAND_WRITTEN.some((re) => re.test('org_id: orgId,'))).toBe(false);
});
