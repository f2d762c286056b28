/**
 * An `OrgId` is minted only by authentication and by named system paths. The brand means "this org id
 * came from the hub, not from a client", so the functions that make one from a plain string
 * (`trustedOrgId`, or a cast `as OrgId`) may appear only in:
 * - platform/caller.ts, which defines the brand;
 * - the auth hook (platform/auth/authenticate.ts);
 * - `*.system.ts` files: reviewed system paths (a job's org from its payload, a key's org from its
 *   hash, a user's memberships, an enrichment pass over many orgs), each saying why in its header.
 *
 * `NOT_YET_MOVED` listed the files that still minted one elsewhere (issue "One shape for the server");
 * it is empty now and must stay so. Tests are left out: they make orgs of their own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

const ALLOWED = new Set(['platform/caller.ts', 'platform/auth/authenticate.ts']);
const isSystemPath = (rel: string) => rel.endsWith('.system.ts');

const MINTING = [/\btrustedOrgId\b/, /\bas\s+OrgId\b/, /<OrgId>\s*\w/];

const NOT_YET_MOVED = new Set<string>([]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [full] : [];
  });
}

function minters(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const rel = relative(SRC, file);
    if (ALLOWED.has(rel) || isSystemPath(rel)) continue;
    const hits = readFileSync(file, 'utf8')
      .split('\n')
      .map((line, i) => ({ line: line.trim(), n: i + 1 }))
      .filter(({ line }) => MINTING.some((re) => re.test(line)))
      .map(({ line, n }) => `${n}: ${line}`);
    if (hits.length) found.set(rel, hits);
  }
  return found;
}

it('an OrgId is minted only by authentication and *.system.ts paths', () => {
  const unexpected = [...minters()].filter(([file]) => !NOT_YET_MOVED.has(file));
  expect(
    unexpected.map(([file, hits]) => `${file}\n  ${hits.join('\n  ')}`),
    'take the OrgId from the caller, or mint it in a *.system.ts file that says why the org is trusted',
  ).toEqual([]);
});

it('the list of files still to move only names files that still mint one', () => {
  const found = minters();
  const done = [...NOT_YET_MOVED].filter((file) => !found.has(file));
  expect(done, 'these files mint no OrgId now: remove them from NOT_YET_MOVED').toEqual([]);
});

it('every system path says why in its header', () => {
  const silent = sourceFiles(SRC)
    .filter((f) => isSystemPath(relative(SRC, f)))
    .filter((f) => !/^\/\*\*[\s\S]*?system path/im.test(readFileSync(f, 'utf8').slice(0, 1500)))
    .map((f) => relative(SRC, f));
  expect(silent, 'start a *.system.ts file with a comment naming it a system path and saying why it may').toEqual([]);
});

it('the patterns catch what they are meant to catch', () => {
  for (const s of ['trustedOrgId(row.org_id)', 'const id = payload.org_id as OrgId;', 'x as  OrgId)'])
    expect(
      MINTING.some((re) => re.test(s)),
      s,
    ).toBe(true);
  expect(MINTING.some((re) => re.test('orgId: OrgId,'))).toBe(false);
  expect(MINTING.some((re) => re.test('Set<OrgId>()'))).toBe(false);
});
