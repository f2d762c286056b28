/**
 * The published build: ESM + CommonJS + declarations for every entry in package.json `exports`.
 * `@agentops-hub/contracts` is private, so its code (the AI SDK usage reader) and its types are bundled in.
 * The JavaScript needs nothing else; the declarations refer to `zod`'s types (the wire types are
 * `z.infer<…>` of the contracts' schemas), which is why `zod` is a dependency.
 */
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    browser: 'src/browser.ts',
    openai: 'src/integrations/openai.ts',
    'ai-sdk': 'src/integrations/ai-sdk.ts',
  },
  format: ['esm', 'cjs'],
  target: 'es2022',
  noExternal: ['@agentops-hub/contracts'],
  // AGENTOPS_BUILD_JS_ONLY=1 (the repository's postinstall and prestart, packages/web/scripts/ensure-built.mjs)
  // skips the declarations: inside the repository tsc reads the sources; only a packed package needs them.
  dts: process.env.AGENTOPS_BUILD_JS_ONLY !== '1' && {
    // Path-mapped (not found through node_modules), so the declaration bundler inlines the contracts' types
    // instead of leaving an import of a package users cannot install.
    compilerOptions: {
      paths: {
        '@agentops-hub/contracts': ['../contracts/src/index.ts'],
        '@agentops-hub/contracts/ai-sdk-usage': ['../contracts/src/ai-sdk-usage.ts'],
      },
    },
  },
  removeNodeProtocol: false,
  clean: true,
  // ESM entries share one chunk, so every entry sees the same classes (`instanceof AgentPausedError`).
  splitting: true,
});
