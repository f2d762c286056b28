/**
 * The browser build: the browser entry bundles with no Node built-in (esbuild fails on one for platform
 * `browser`), carries no schema library (contracts are imported as types only), and stays ≤ 15 KB gzipped.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('browser bundle', () => {
  it('builds for browsers without Node APIs or zod, under 15 KB gzipped', async () => {
    const out = await build({
      entryPoints: [new URL('../src/browser.ts', import.meta.url).pathname],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((f) => f.includes('node_modules/zod'))).toBe(false);
    expect(inputs.some((f) => f.includes('async_hooks'))).toBe(false);
    const code = out.outputFiles[0].text;
    expect(code).toContain('createAgentOps');
    expect(gzipSync(code, { level: 9 }).length).toBeLessThanOrEqual(15 * 1024);
  });
});
