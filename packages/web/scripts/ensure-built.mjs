#!/usr/bin/env node
/**
 * Builds the console when its build is missing or older than its sources: run by the root
 * `postinstall` (so `npm install` / `npm ci` leave a built console) and `prestart` (so `npm start`
 * serves the current one). The sources' hash is kept in dist/.build-hash; when it matches, this is a
 * no-op that takes milliseconds. AGENTOPS_SKIP_WEB_BUILD=1 skips it (e.g. API-only images).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(web, 'dist', '.build-hash');

if (process.env.AGENTOPS_SKIP_WEB_BUILD === '1') process.exit(0);

function sources() {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  for (const d of ['src', 'public']) if (existsSync(join(web, d))) walk(join(web, d));
  for (const f of ['index.html', 'vite.config.ts', 'package.json']) out.push(join(web, f));
  return out;
}

const h = createHash('sha256');
for (const f of sources()) {
  h.update(relative(web, f));
  h.update(readFileSync(f));
}
const hash = h.digest('hex');
if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash && existsSync(join(web, 'dist', 'index.html'))) {
  process.exit(0);
}

if (
  !existsSync(join(web, 'node_modules', '.bin', 'vite')) &&
  !existsSync(join(web, '..', '..', 'node_modules', '.bin', 'vite'))
) {
  console.warn('[web] vite is not installed: the console is not built (the hub serves a status page).');
  process.exit(0);
}

console.log('[web] building the console (packages/web)…');
const started = Date.now();
const res = spawnSync('npm', ['run', 'build'], { cwd: web, stdio: 'inherit' });
if (res.status !== 0) {
  console.error('[web] the console build failed');
  process.exit(res.status ?? 1);
}
writeFileSync(stamp, hash);
console.log(`[web] console built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
