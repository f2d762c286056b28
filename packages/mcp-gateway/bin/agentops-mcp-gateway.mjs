#!/usr/bin/env node
// Runs the gateway's TypeScript sources through tsx, like the rest of the project (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main();
