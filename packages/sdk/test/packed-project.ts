/**
 * A user's project, outside the repository: `npm pack` the SDK and the MCP gateway (their `prepack` builds
 * them), then `npm install` the tarballs into a fresh directory under os.tmpdir(). What it can do there is
 * what a user of the published packages can do: nothing resolves through the workspace.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment without npm's own variables: under `npm test`, `npm_config_*` name the workspace (its
 * prefix, its lockfile settings) and would make an `npm install` in the project act on the repository.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') || keep.has(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command to its end; never rejects (the caller asserts on the code and the output). */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  return new Promise<RunResult>((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: cleanEnv(opts.env), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: err && !stderr ? String(err) : stderr });
      },
    );
  });
}

async function pack(pkg: string, dest: string): Promise<string> {
  const r = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: join(repoRoot, 'packages', pkg) });
  if (r.code !== 0) throw new Error(`npm pack ${pkg} failed:\n${r.stdout}\n${r.stderr}`);
  // The JSON comes after the prepack build's output.
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('[\n')));
  return join(dest, info.filename);
}

export interface PackedProject {
  dir: string;
  sdkTarball: string;
  gatewayTarball: string;
  /** Writes a file in the project. */
  write(name: string, text: string): Promise<string>;
  /** `node <file>` in the project, with extra environment variables. */
  node(file: string, env?: Record<string, string>): Promise<RunResult>;
  remove(): Promise<void>;
}

/** Packs both packages and installs them (with @types/node, as a TypeScript user has) into a new project. */
export async function createPackedProject(): Promise<PackedProject> {
  const base = await mkdtemp(join(tmpdir(), 'agentops-packed-'));
  const dir = join(base, 'app');
  await mkdir(dir);
  const [sdkTarball, gatewayTarball] = await Promise.all([pack('sdk', base), pack('mcp-gateway', base)]);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'packed-app', private: true }, null, 2));
  const install = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', sdkTarball, gatewayTarball, '@types/node@20'],
    { cwd: dir },
  );
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.stdout}\n${install.stderr}`);
  return {
    dir,
    sdkTarball,
    gatewayTarball,
    async write(name, text) {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    },
    node: (file, env = {}) => run(process.execPath, [file], { cwd: dir, env }),
    remove: () => rm(base, { recursive: true, force: true }),
  };
}
