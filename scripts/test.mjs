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
 * Exits non-zero when any pass fails, or when PostgreSQL is required but does not answer.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const PG_TIMEOUT_MS = 3000;

const vitestArgs = process.argv.slice(2);
const pgUrl = process.env.TEST_DATABASE_URL || DEFAULT_PG_URL;
const requirePg = process.env.HUB_TEST_REQUIRE_PG === '1';
const only = process.env.HUB_TEST_DB;

if (only && only !== 'sqlite' && only !== 'postgres') {
  console.error(`HUB_TEST_DB must be "sqlite" or "postgres" (or unset for both), not "${only}".`);
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
    child = spawn('npx', ['vitest', 'run', ...vitestArgs], { cwd: root, env: childEnv, stdio: 'inherit' });
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
  const code = await runVitest(env);
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ name, status: code === 0 ? 'passed' : 'failed', seconds });
}

if (!only || only === 'sqlite') await pass('SQLite', { HUB_TEST_DB: 'sqlite' });

if (!interrupted && (!only || only === 'postgres')) {
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

header('Summary');
for (const r of results) {
  const time = r.seconds === undefined ? '' : `  ${r.seconds}s`;
  const note = r.status === 'passed' ? '' : r.note ? `  (${r.note})` : '';
  console.log(`  ${r.status.toUpperCase().padEnd(8)} ${r.name}${time}${note}`);
}
if (interrupted) console.log('  interrupted');
const failed = interrupted || results.length === 0 || results.some((r) => r.status === 'failed');
console.log('');
process.exit(failed ? 1 : 0);
