/**
 * @module @agentops-hub/sdk
 * The Node entry point (Node ≥ 20): environment variables, AsyncLocalStorage for the current run, and a
 * flush of buffered telemetry when the process is about to exit.
 *
 * @example
 * import { createAgentOps } from '@agentops-hub/sdk';
 * const agentops = createAgentOps(); // AGENTOPS_HUB_URL, AGENTOPS_API_KEY, AGENTOPS_AGENT
 * await agentops.run('triage', async () => {
 *   await agentops.guard({ type: 'issue_refund', amount: 250 }, () => refund());
 * });
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setPlatform } from './platform.ts';

const exitFlushes = new Set<(final: boolean) => Promise<void> | void>();
let hooked = false;

setPlatform({
  env: (name) => {
    const v = process.env[name];
    return v === undefined || v === '' ? undefined : v;
  },
  createContext: <T>() => {
    const als = new AsyncLocalStorage<T>();
    return { get: () => als.getStore(), run: <R>(value: T, fn: () => R): R => als.run(value, fn) };
  },
  onExit: (flush) => {
    exitFlushes.add(flush);
    const off = () => void exitFlushes.delete(flush);
    if (hooked) return off;
    hooked = true;
    // `beforeExit` fires when the event loop empties: the flush's requests keep the process alive until
    // they finish, then it fires again with nothing left to send. (`process.exit()` skips it: call
    // `agentops.shutdown()` first.)
    process.on('beforeExit', () => {
      for (const f of exitFlushes) void f(false);
    });
    return off;
  },
});

export * from './exports.ts';
