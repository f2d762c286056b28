#!/usr/bin/env node
/**
 * Prints the JavaScript the sign-in page loads before it can be used: the entry chunk and its static
 * imports, plus the lazily loaded sign-in route and access layout (and their static imports), each
 * gzipped. Fails the build when the total passes the budget (250 KB gzipped).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 250;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

const files = new Set();
function walk(key) {
  const chunk = manifest[key];
  if (!chunk || files.has(chunk.file)) return;
  files.add(chunk.file);
  for (const dep of chunk.imports ?? []) walk(dep);
}
const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
walk(entry);
for (const key of Object.keys(manifest)) {
  if (/(SignInPage|AccessLayout)\.tsx$/.test(key)) walk(key);
}

let total = 0;
const rows = [];
for (const f of files) {
  const gz = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  total += gz;
  rows.push([f, gz]);
}
rows.sort((a, b) => b[1] - a[1]);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log('\nSign-in page, initial JavaScript (gzipped):');
for (const [f, gz] of rows) console.log(`  ${kb(gz).padStart(9)}  ${f}`);
console.log(`  ${kb(total).padStart(9)}  total (budget ${BUDGET_KB} KB)\n`);
if (total > BUDGET_KB * 1024) {
  console.error(`The sign-in page's initial JavaScript is over budget: ${kb(total)} > ${BUDGET_KB} KB.`);
  process.exit(1);
}
