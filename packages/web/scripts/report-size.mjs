#!/usr/bin/env node
/**
 * Prints the JavaScript the sign-in page and the home page load before they can be used: the entry chunk
 * and its static imports, plus their lazily loaded route chunks (access layout and sign-in; app shell and
 * home) and their static imports, gzipped, brotli-compressed and raw. Fails the build when either passes
 * the budget (250 KB compressed); the rest of the console loads on demand, route by route.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';

const BUDGET_KB = 250;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

/** Every file a page needs before it can be used: the entry, its route chunks, and their static imports. */
function pageFiles(routeChunk) {
  const files = new Set();
  const walk = (key) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const dep of chunk.imports ?? []) walk(dep);
  };
  walk(Object.keys(manifest).find((k) => manifest[k].isEntry));
  for (const key of Object.keys(manifest)) if (routeChunk.test(key)) walk(key);
  return [...files].filter((f) => f.endsWith('.js'));
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const pages = [
  { name: 'Sign-in page', chunks: /(SignInPage|AccessLayout)\.tsx$/ },
  { name: 'Home page', chunks: /(AppLayout|HomePage)\.tsx$/ },
];
let over = false;
for (const page of pages) {
  const rows = pageFiles(page.chunks).map((f) => {
    const raw = readFileSync(join(dist, f));
    return { f, raw: raw.length, gz: gzipSync(raw, { level: 9 }).length, br: brotliCompressSync(raw).length };
  });
  rows.sort((a, b) => b.gz - a.gz);
  const sum = (k) => rows.reduce((n, r) => n + r[k], 0);
  console.log(`\n${page.name}, initial JavaScript (gzip · brotli · raw):`);
  for (const r of rows.slice(0, 8))
    console.log(`  ${kb(r.gz).padStart(9)} ${kb(r.br).padStart(9)} ${kb(r.raw).padStart(9)}  ${r.f}`);
  if (rows.length > 8) console.log(`  … and ${rows.length - 8} smaller chunks`);
  console.log(
    `  ${kb(sum('gz')).padStart(9)} ${kb(sum('br')).padStart(9)} ${kb(sum('raw')).padStart(9)}  total, ${rows.length} files (budget ${BUDGET_KB} KB compressed)`,
  );
  if (sum('gz') > BUDGET_KB * 1024) {
    console.error(`${page.name}: initial JavaScript over budget: ${kb(sum('gz'))} gzipped > ${BUDGET_KB} KB.`);
    over = true;
  }
}
console.log('');
if (over) process.exit(1);
