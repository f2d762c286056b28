#!/usr/bin/env node
// Imports the CLI through the package's own `exports`: installed, that is the build (dist/cli.js); in this
// repository, `node --conditions=@agentops-hub/source --import tsx` runs it from the sources (the tests do).
import { main } from '@agentops-hub/mcp-gateway/cli';

await main();
