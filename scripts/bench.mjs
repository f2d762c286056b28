#!/usr/bin/env node
/**
 * `npm run bench -- NAME [args…]` runs bench/NAME.mjs (with node) or bench/NAME.ts (with tsx),
 * passing the remaining arguments on. Without a NAME, or with an unknown one, it lists the benches.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'bench');
const EXTENSIONS = ['.mjs', '.ts'];

function available() {
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir)
    .filter((f) => EXTENSIONS.some((ext) => f.endsWith(ext)) && !f.startsWith('_') && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.(mjs|ts)$/, ''))
    .sort();
}

function list(stream) {
  const names = available();
  stream.write('Usage: npm run bench -- NAME [args…]\n\n');
  if (names.length === 0) stream.write('No benchmarks yet: add bench/NAME.mjs or bench/NAME.ts.\n');
  else stream.write(`Available benchmarks (bench/):\n${names.map((n) => `  ${n}`).join('\n')}\n`);
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  list(process.stdout);
  process.exit(name ? 0 : 1);
}

const file = EXTENSIONS.map((ext) => join(benchDir, name + ext)).find((f) => existsSync(f));
if (!file || name.includes('/') || name.includes('\\')) {
  process.stderr.write(`No benchmark named "${name}".\n\n`);
  list(process.stderr);
  process.exit(1);
}

const nodeArgs = file.endsWith('.ts') ? ['--import', 'tsx', file, ...args] : [file, ...args];
const child = spawn(process.execPath, nodeArgs, { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
