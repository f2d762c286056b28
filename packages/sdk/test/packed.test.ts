/**
 * The published packages, as a user gets them: packed, installed into a project outside the repository
 * (packed-project.ts), and used there with plain `node` (ESM and CommonJS), `tsc --strict`, a bundler for
 * browsers and the gateway's bin, against a real hub. Nothing private (`@agentops-hub/contracts`) may be
 * needed, and the README's quick start must run as written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningHub, startHub } from './hub.ts';
import { cleanEnv, createPackedProject, type PackedProject, repoRoot, run } from './packed-project.ts';

let hub: RunningHub;
let app: PackedProject;
let env: Record<string, string>;

beforeAll(async () => {
  [hub, app] = await Promise.all([startHub(), createPackedProject()]);
  env = { AGENTOPS_HUB_URL: hub.url, AGENTOPS_API_KEY: hub.ingestKey };
  const r = await hub.api('POST', '/v1/policies', {
    name: 'No dropped tables',
    status: 'active',
    rule: { when: { all: [{ field: 'action.type', op: 'eq', value: 'drop_table' }] }, then: 'block' },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}, 180_000);

afterAll(async () => {
  await Promise.all([hub?.close(), app?.remove()]);
});

/** The agent's newest run with its events, once it has ended. */
const endedRun = (agent: string) =>
  eventually(async () => {
    const list = await hub.api('GET', `/v1/runs?agent=${agent}`);
    const id = list.body?.data?.[0]?.id;
    const run = id && (await hub.api('GET', `/v1/runs/${id}`)).body;
    return run?.status === 'completed' ? run : undefined;
  });

/** A script that records a run, asks the policy engine (ALLOW, then BLOCK) and checks the error classes. */
const script = (agent: string) => `
  const agentops = createAgentOps({ agent: '${agent}', flushIntervalMs: 100 });
  const out = await agentops.run('packed-check', async () => {
    const allowed = await agentops.checkPolicy({ type: 'read_faq' });
    let blocked = 'not thrown';
    try {
      await agentops.guard({ type: 'drop_table', table: 'orders' }, () => 'dropped');
    } catch (e) {
      blocked = e instanceof PolicyBlockedError && e instanceof AgentOpsError ? e.decision.decision : String(e);
    }
    return { allowed: allowed.decision, blocked, openai: typeof wrapOpenAI, aiSdk: typeof agentOpsTelemetry };
  });
  await agentops.shutdown();
  console.log(JSON.stringify(out));`;

const expected = { allowed: 'ALLOW', blocked: 'BLOCK', openai: 'function', aiSdk: 'function' };

describe('the packed SDK in a project outside the workspace', () => {
  it('installs without any private package', () => {
    const installed = readdirSync(join(app.dir, 'node_modules/@agentops-hub')).sort();
    expect(installed).toEqual(['mcp-gateway', 'sdk']);
    // The build, the README and the license; no sources and no build stamp.
    const files = (pkg: string) => readdirSync(join(app.dir, 'node_modules/@agentops-hub', pkg)).sort();
    expect(files('sdk')).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    expect(files('mcp-gateway')).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'package.json']);
    expect(readdirSync(join(app.dir, 'node_modules/@agentops-hub/sdk/dist'))).not.toContain('.build-hash');
    const pkg = JSON.parse(readFileSync(join(app.dir, 'node_modules/@agentops-hub/sdk/package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain('@agentops-hub/contracts');
    const dist = join(app.dir, 'node_modules/@agentops-hub/sdk/dist');
    const privateImport = /(from|import|require\()\s*['"]@agentops-hub\/contracts/;
    for (const f of readdirSync(dist)) expect(readFileSync(join(dist, f), 'utf8'), f).not.toMatch(privateImport);
  });

  it('works from plain ESM (import)', async () => {
    const file = await app.write(
      'esm.mjs',
      `import { AgentOpsError, createAgentOps, PolicyBlockedError } from '@agentops-hub/sdk';
       import { wrapOpenAI } from '@agentops-hub/sdk/openai';
       import { agentOpsTelemetry } from '@agentops-hub/sdk/ai-sdk';
       ${script('PackedEsm')}`,
    );
    const r = await app.node(file, env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
    const runRecord = await endedRun('PackedEsm');
    expect(runRecord.output).toEqual(expected);
    expect(runRecord.decisions.map((d: { decision: string }) => d.decision).sort()).toEqual(['ALLOW', 'BLOCK']);
  });

  it('works from CommonJS (require)', async () => {
    const file = await app.write(
      'cjs.cjs',
      `const { AgentOpsError, createAgentOps, PolicyBlockedError } = require('@agentops-hub/sdk');
       const { wrapOpenAI } = require('@agentops-hub/sdk/openai');
       const { agentOpsTelemetry } = require('@agentops-hub/sdk/ai-sdk');
       (async () => { ${script('PackedCjs')} })().catch((e) => { console.error(e); process.exit(1); });`,
    );
    const r = await app.node(file, env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect((await endedRun('PackedCjs')).output).toEqual(expected);
  });

  it("runs the README's quick start as written", async () => {
    const readme = readFileSync(join(repoRoot, 'packages/sdk/README.md'), 'utf8');
    const code = readme.split('## Quick start')[1]?.match(/```js\n([\s\S]*?)```/)?.[1];
    expect(code?.trim().split('\n').length, 'a five-line quick start').toBeLessThanOrEqual(5);
    const r = await app.node(await app.write('app.mjs', code!), env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('refunded A-1');
    const runRecord = await endedRun('SupportBot');
    expect(runRecord.events.map((e: { type: string }) => e.type)).toContain('external_action');
  });

  it('type-checks under tsc --strict, as ESM and as CommonJS, with no `any` leaking', async () => {
    await app.write(
      'check.mts',
      `import { type AgentOps, createAgentOps, PolicyBlockedError, type PolicyDecision } from '@agentops-hub/sdk';
       import { wrapOpenAI } from '@agentops-hub/sdk/openai';
       import { agentOpsTelemetry } from '@agentops-hub/sdk/ai-sdk';
       import { createGateway } from '@agentops-hub/mcp-gateway';
       const agentops: AgentOps = createAgentOps({ agent: 'Typed', policyFailure: 'closed' });
       export const openai = wrapOpenAI({ chat: { completions: { create: async () => ({}) } } }, agentops);
       export const telemetry = agentOpsTelemetry(agentops);
       // The gateway takes the AgentOps of the user's own SDK: one declaration of the class, not two.
       export const gatewayAgentOps: Parameters<typeof createGateway>[0]['agentops'] = agentops;
       export async function decide(): Promise<PolicyDecision['decision']> {
         try {
           // undefined: a failsafe pause skipped the action.
           return (await agentops.guard({ type: 'x' }, () => 'ALLOW' as const)) ?? 'BLOCK';
         } catch (e) {
           if (e instanceof PolicyBlockedError) return e.decision.decision;
           throw e;
         }
       }
       // @ts-expect-error the declarations are real types, not \`any\`: an unknown option is an error
       createAgentOps({ notAnOption: true });`,
    );
    await app.write(
      'check.cts',
      `import { createAgentOps, type PolicyDecision } from '@agentops-hub/sdk';
       import { openAIUsage } from '@agentops-hub/sdk/openai';
       const agentops = createAgentOps({ disabled: true });
       export const usage = openAIUsage('gpt-4o-mini', { prompt_tokens: 1, completion_tokens: 2 });
       export const check = (): Promise<PolicyDecision> => agentops.checkPolicy({ type: 'x' });`,
    );
    await app.write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'] },
        files: ['check.mts', 'check.cts'],
      }),
    );
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app.dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 60_000);

  it('bundles for browsers through the `browser` condition: no Node API, no zod, ≤ 15 KB gzipped', async () => {
    const out = await build({
      stdin: { contents: `export { createAgentOps } from '@agentops-hub/sdk';`, resolveDir: app.dir },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((f) => f.includes('node_modules/@agentops-hub/sdk/dist/browser.js'))).toBe(true);
    expect(inputs.some((f) => f.includes('zod') || f.includes('async_hooks'))).toBe(false);
    expect(gzipSync(out.outputFiles[0].text, { level: 9 }).length).toBeLessThanOrEqual(15 * 1024);
  });
});

describe('the packed MCP gateway in a project outside the workspace', () => {
  it('npx agentops-mcp-gateway --help prints the usage', async () => {
    const r = await run('npx', ['--no-install', 'agentops-mcp-gateway', '--help'], { cwd: app.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: agentops-mcp-gateway --agent NAME');
  });

  it('fronts an MCP server written against the installed packages, and records the calls', async () => {
    await app.write(
      'upstream.mjs',
      `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
       import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
       import { z } from 'zod';
       const server = new McpServer({ name: 'echo', version: '1.0.0' });
       server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
         content: [{ type: 'text', text }],
       }));
       await server.connect(new StdioServerTransport());`,
    );
    const transport = new StdioClientTransport({
      command: join(app.dir, 'node_modules/.bin/agentops-mcp-gateway'),
      args: ['--agent', 'PackedGateway', '--upstream-command', `"${process.execPath}" upstream.mjs`],
      cwd: app.dir,
      env: cleanEnv(env) as Record<string, string>,
      stderr: 'ignore',
    });
    const client = new Client({ name: 'packed-client', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
      const r = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      expect(r.content).toEqual([{ type: 'text', text: 'hello' }]);
    } finally {
      await client.close();
    }
    const runRecord = await endedRun('PackedGateway');
    expect(runRecord.events.map((e: { type: string }) => e.type)).toContain('tool_called');
  }, 60_000);
});
