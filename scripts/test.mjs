#!/usr/bin/env node
/**
 * `npm test`: the whole Vitest suite on the embedded SQLite, then again on PostgreSQL.
 *
 *   npm test                          both passes (PostgreSQL only when it answers)
 *   npm test -- agents                extra arguments go to `vitest run` (here: a file filter)
 *   HUB_TEST_DB=sqlite npm test       one pass only (sqlite | postgres)
 *   TEST_DATABASE_URL=postgres://…    where the PostgreSQL pass connects (default below)
 *   HUB_TEST_REQUIRE_PG=1 npm test    an unreachable PostgreSQL fails the run instead of skipping (CI)
 *
 * Then the Python SDK's pytest suite (packages/sdk-python/tests, against a real hub it starts) with the
 * repository's .venv (`npm run python:env` makes it):
 *   HUB_TEST_ONLY=python npm test       the Python pass only (no Vitest)
 *   HUB_TEST_REQUIRE_PYTHON=1 npm test  a missing .venv fails the run instead of skipping (CI)
 * With a Vitest filter (`npm test -- agents`) the Python pass is not run.
 *
 * Exits non-zero when any pass fails, or when PostgreSQL or Python is required but missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const PG_TIMEOUT_MS = 3000;

const vitestArgs = process.argv.slice(2);
const pgUrl = process.env.TEST_DATABASE_URL || DEFAULT_PG_URL;
const requirePg = process.env.HUB_TEST_REQUIRE_PG === '1';
const only = process.env.HUB_TEST_DB;
const onlySuite = process.env.HUB_TEST_ONLY;
const requirePython = process.env.HUB_TEST_REQUIRE_PYTHON === '1';

if (only && only !== 'sqlite' && only !== 'postgres') {
  console.error(`HUB_TEST_DB must be "sqlite" or "postgres" (or unset for both), not "${only}".`);
  process.exit(2);
}
if (onlySuite && onlySuite !== 'python') {
  console.error(`HUB_TEST_ONLY must be "python" (or unset for every pass), not "${onlySuite}".`);
  process.exit(2);
}

/** The URL with any password hidden, for printing. */
function safeUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a valid URL)';
  }
}

function header(text) {
  const line = '═'.repeat(Math.max(60, text.length + 4));
  console.log(`\n${line}\n  ${text}\n${line}\n`);
}

/** Connects once with the `pg` client the server itself uses; resolves to null or the reason it failed. */
async function pgProblem(url) {
  let pg;
  try {
    // Resolved from the server package, where `pg` is a dependency (hoisted or not).
    pg = createRequire(join(root, 'packages/server/package.json'))('pg');
  } catch {
    return 'the `pg` package is not installed (run npm install)';
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PG_TIMEOUT_MS });
  client.on('error', () => {});
  const timer = new Promise((resolve) =>
    setTimeout(() => resolve(`no answer within ${PG_TIMEOUT_MS / 1000} s`), PG_TIMEOUT_MS + 500).unref(),
  );
  const started = Date.now();
  const attempt = client
    .connect()
    .then(() => client.query('select 1'))
    .then(() => null)
    .catch((e) =>
      Date.now() - started >= PG_TIMEOUT_MS ? `no answer within ${PG_TIMEOUT_MS / 1000} s` : e?.message || String(e),
    );
  const problem = await Promise.race([attempt, timer]);
  client.end().catch(() => {});
  return problem;
}

let interrupted = false;
let child;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupted = true;
    child?.kill(sig);
  });
}

/** Runs `vitest run` with the given database env; resolves to the exit code. */
function runVitest(env) {
  return new Promise((resolve) => {
    const childEnv = { ...process.env, ...env };
    // The suite picks its database from HUB_TEST_DB; a DATABASE_URL meant for the app must not leak in.
    delete childEnv.DATABASE_URL;
    if (env.HUB_TEST_DB === 'sqlite') delete childEnv.TEST_DATABASE_URL;
    // A JSON report beside the console one, so the summary can name the failed tests: the end of a
    // long log is often all a CI page keeps.
    const report = ['--reporter=default', '--reporter=json', `--outputFile.json=${env.reportFile}`];
    child = spawn('npx', ['vitest', 'run', ...report, ...vitestArgs], { cwd: root, env: childEnv, stdio: 'inherit' });
    child.on('error', (e) => {
      console.error(`could not start vitest: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const results = []; // {name, status: 'passed'|'failed'|'skipped'|'not run', seconds?, note?}

async function pass(name, env) {
  header(`Tests on ${name}${vitestArgs.length ? `  (vitest run ${vitestArgs.join(' ')})` : ''}`);
  const started = Date.now();
  const reportFile = join(mkdtempSync(join(tmpdir(), 'hub-vitest-')), 'report.json');
  const code = await runVitest({ ...env, reportFile });
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ name, status: code === 0 ? 'passed' : 'failed', seconds, failedTests: failedTests(reportFile) });
}

/** The full names of the failed tests (and failed files) in a Vitest JSON report; [] when it is missing. */
function failedTests(reportFile) {
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    return report.testResults.flatMap((file) => {
      const path = relative(root, file.name);
      const tests = file.assertionResults.filter((t) => t.status === 'failed').map((t) => `${path} › ${t.fullName}`);
      return tests.length || file.status !== 'failed' ? tests : [`${path}: ${file.message || 'failed'}`];
    });
  } catch {
    return [];
  }
}

/** Runs a command in the repository root with stdio inherited; resolves to the exit code. */
function runCommand(command, args, env) {
  return new Promise((resolve) => {
    child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    child.on('error', (e) => {
      console.error(`could not start ${command}: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/**
 * The Python SDK's suite. It starts its own hub (SQLite in a temporary dir; the PostgreSQL pass's database
 * when only that pass runs). pytest's exit 5 ("no tests collected") is a failure: a suite that lost its
 * tests must not pass.
 */
async function pythonPass() {
  const python = join(root, '.venv/bin/python');
  if (!existsSync(python)) {
    const status = requirePython ? 'failed' : 'skipped';
    header('Python SDK tests: NOT RUN');
    console.log('There is no .venv at the repository root. Make it with `npm run python:env`');
    console.log('(scripts/python-env.sh: a venv with pytest, mypy, ruff and the SDK, never the system site-packages).');
    if (status === 'failed') console.log('This fails the run: Python is required here (HUB_TEST_REQUIRE_PYTHON=1).');
    else console.log('Set HUB_TEST_REQUIRE_PYTHON=1 to make a missing .venv fail the run (CI does).');
    results.push({ name: 'Python SDK (pytest)', status, note: 'no .venv: run npm run python:env' });
    return;
  }
  header('Python SDK tests (pytest packages/sdk-python/tests)');
  const env = { ...process.env, HUB_TEST_DB: only === 'postgres' ? 'postgres' : 'sqlite' };
  delete env.DATABASE_URL;
  if (only === 'postgres') env.TEST_DATABASE_URL = pgUrl;
  else delete env.TEST_DATABASE_URL;
  const started = Date.now();
  const code = await runCommand(python, ['-m', 'pytest', 'packages/sdk-python/tests', '-q'], env);
  const seconds = Math.round((Date.now() - started) / 1000);
  const note = code === 5 ? 'pytest collected no tests' : undefined;
  results.push({ name: 'Python SDK (pytest)', status: code === 0 ? 'passed' : 'failed', seconds, note });
}

const vitestPasses = onlySuite !== 'python';

if (vitestPasses && (!only || only === 'sqlite')) await pass('SQLite', { HUB_TEST_DB: 'sqlite' });

if (vitestPasses && !interrupted && (!only || only === 'postgres')) {
  const problem = await pgProblem(pgUrl);
  if (problem === null) {
    await pass(`PostgreSQL (${safeUrl(pgUrl)})`, { HUB_TEST_DB: 'postgres', TEST_DATABASE_URL: pgUrl });
  } else {
    const status = requirePg || only === 'postgres' ? 'failed' : 'skipped';
    header('Tests on PostgreSQL: NOT RUN');
    console.log(`PostgreSQL at ${safeUrl(pgUrl)} did not answer: ${problem}`);
    console.log('The PostgreSQL pass was not run. To run it, start PostgreSQL there, or point');
    console.log(
      'TEST_DATABASE_URL=postgres://user:pass@host:5432/db at one (the user must be allowed to create databases).',
    );
    if (status === 'failed')
      console.log('This fails the run: PostgreSQL is required here (HUB_TEST_REQUIRE_PG=1 or HUB_TEST_DB=postgres).');
    else console.log('Set HUB_TEST_REQUIRE_PG=1 to make a missing PostgreSQL fail the run (CI does).');
    results.push({ name: 'PostgreSQL', status, note: problem });
  }
}

if (!interrupted) {
  if (vitestArgs.length && onlySuite !== 'python') {
    console.log(`\nThe Python SDK tests were not run: a Vitest filter was given (${vitestArgs.join(' ')}).`);
    results.push({ name: 'Python SDK (pytest)', status: 'not run', note: 'Vitest filter given' });
  } else {
    await pythonPass();
  }
}

header('Summary');
for (const r of results) {
  const time = r.seconds === undefined ? '' : `  ${r.seconds}s`;
  const note = r.status === 'passed' ? '' : r.note ? `  (${r.note})` : '';
  console.log(`  ${r.status.toUpperCase().padEnd(8)} ${r.name}${time}${note}`);
  for (const test of r.failedTests ?? []) console.log(`             ✗ ${test}`);
}
if (interrupted) console.log('  interrupted');
const failed = interrupted || results.length === 0 || results.some((r) => r.status === 'failed');
console.log('');
process.exit(failed ? 1 : 0);
