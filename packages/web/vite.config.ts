/**
 * The console's build. Routes are split by `lazyRouteComponent` (src/router.tsx); heavy libraries
 * (charts, CodeMirror) are only imported by the pages that use them, so the sign-in page stays small.
 * `npm run build` prints the sign-in and home pages' initial JavaScript (scripts/report-size.mjs).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes `x.js.br` and `x.js.gz` beside every script, style sheet and SVG in dist/assets, so the hub can
 * send the compressed file when the browser accepts it (sign-in: ~135 KB brotli instead of ~470 KB).
 */
function precompress(): Plugin {
  let dir = '';
  return {
    name: 'agentops-precompress',
    apply: 'build',
    configResolved(config) {
      dir = resolve(config.root, config.build.outDir, config.build.assetsDir);
    },
    closeBundle() {
      for (const name of readdirSync(dir)) {
        const file = join(dir, name);
        if (!/\.(js|css|svg)$/.test(name) || statSync(file).size < 1024) continue;
        const raw = readFileSync(file);
        writeFileSync(`${file}.br`, brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${file}.gz`, gzipSync(raw, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npm run dev -w @agentops-hub/web` against a hub on :3000.
    proxy: { '/v1': 'http://localhost:3000', '/api': 'http://localhost:3000' },
  },
});
