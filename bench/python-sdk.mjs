/**
 * `npm run bench -- python-sdk`: what the Python SDK (packages/sdk-python) costs the agent per recorded event,
 * next to the agent's own loop without it. Runs bench/python-sdk.py with the repository's .venv (made by
 * `npm run python:env`; `PYTHON=/path/to/python` to use another interpreter with the SDK importable) and
 * passes its one JSON line through: {"bench":"python-sdk", raw_us, sdk_us, added_us, ratio, encode_us, …}.
 * BENCH_EVENTS (100,000) and BENCH_ROUNDS (7) size it. See docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const python = process.env.PYTHON || join(root, '.venv/bin/python');
if (!process.env.PYTHON && !existsSync(python)) {
  console.error('No .venv at the repository root: make it with `npm run python:env` (or set PYTHON).');
  process.exit(1);
}

// The SDK from the source tree, also when the venv has no editable install of it.
const src = join(root, 'packages/sdk-python/src');
const env = { ...process.env, PYTHONPATH: [src, process.env.PYTHONPATH].filter(Boolean).join(':') };
const child = spawn(python, [join(root, 'bench/python-sdk.py'), ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
