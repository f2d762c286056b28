/**
 * The console's build. Routes are split by `lazyRouteComponent` (src/router.tsx); heavy libraries
 * (charts, CodeMirror) are only imported by the pages that use them, so the sign-in page stays small.
 * `npm run build` prints the sign-in page's initial JavaScript (scripts/report-size.mjs).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
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
