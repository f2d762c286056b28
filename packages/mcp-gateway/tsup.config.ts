/**
 * The published build: ESM + declarations for the embedding API (src/index.ts) and the CLI the bin runs
 * (src/cli.ts). `@agentops-hub/sdk` and `@modelcontextprotocol/sdk` stay imports (real dependencies), so an
 * embedding app and the gateway share one SDK: `instanceof AgentPausedError` and the `AgentOps` type match.
 */
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  removeNodeProtocol: false,
  // AGENTOPS_BUILD_JS_ONLY=1 (the repository's postinstall and prestart, packages/web/scripts/ensure-built.mjs)
  // skips the declarations: inside the repository tsc reads the sources; only a packed package needs them.
  dts: process.env.AGENTOPS_BUILD_JS_ONLY !== '1',
  clean: true,
});
