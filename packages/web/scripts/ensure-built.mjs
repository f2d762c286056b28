#!/usr/bin/env node
/**
 * Builds what the repository runs from a build, when that build is missing or older than its sources: the
 * SDK and the MCP gateway (their package.json `exports` and bin point at dist/, so `npm run example:…` and
 * `node_modules/.bin/agentops-mcp-gateway` need it), then the console. Run by the root `postinstall` (so
 * `npm install` / `npm ci` leave everything built) and `prestart` (so `npm start` serves the current
 * console). Each build's sources hash is kept in its dist/.build-hash; when it matches, this is a no-op that
 * takes milliseconds. AGENTOPS_SKIP_WEB_BUILD=1 skips the console (e.g. API-only images).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const root = join(packages, '..');

const builds = [
  {
    name: 'sdk',
    // The contracts' code is bundled into the SDK, so their change is the SDK's change.
    sources: ['src', 'tsup.config.ts', 'package.json', '../contracts/src'],
    output: 'index.js',
    tool: 'tsup',
    // JavaScript only (a second, not the ~15 s of declarations): in the repository, tsc reads the sources.
    env: { AGENTOPS_BUILD_JS_ONLY: '1' },
  },
  {
    name: 'mcp-gateway',
    sources: ['src', 'tsup.config.ts', 'package.json'],
    output: 'cli.js',
    tool: 'tsup',
    env: { AGENTOPS_BUILD_JS_ONLY: '1' },
  },
  {
    name: 'web',
    sources: ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'],
    output: 'index.html',
    tool: 'vite',
    skip: process.env.AGENTOPS_SKIP_WEB_BUILD === '1',
    missing: 'vite is not installed: the console is not built (the hub serves a status page).',
  },
];

/** Every file under the given paths (relative to the package), in a stable order. */
function files(dir, paths) {
  const out = [];
  const walk = (p) => {
    if (!existsSync(p)) return;
    if (!statSync(p).isDirectory()) return void out.push(p);
    for (const name of readdirSync(p).sort()) walk(join(p, name));
  };
  for (const p of paths) walk(join(dir, p));
  return out;
}

function ensureBuilt(b) {
  const dir = join(packages, b.name);
  const stamp = join(dir, 'dist', '.build-hash');
  const h = createHash('sha256');
  for (const f of files(dir, b.sources)) {
    h.update(relative(dir, f));
    h.update(readFileSync(f));
  }
  const hash = h.digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash && existsSync(join(dir, 'dist', b.output))) {
    return;
  }
  if (![dir, root].some((d) => existsSync(join(d, 'node_modules', '.bin', b.tool)))) {
    console.warn(`[${b.name}] ${b.missing ?? `${b.tool} is not installed: not built (run npm install).`}`);
    return;
  }
  console.log(`[${b.name}] building packages/${b.name}…`);
  const started = Date.now();
  const res = spawnSync('npm', ['run', 'build'], { cwd: dir, stdio: 'inherit', env: { ...process.env, ...b.env } });
  if (res.status !== 0) {
    console.error(`[${b.name}] the build failed`);
    process.exit(res.status ?? 1);
  }
  writeFileSync(stamp, hash);
  console.log(`[${b.name}] built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

for (const b of builds) if (!b.skip) ensureBuilt(b);
