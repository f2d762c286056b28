import { AsyncLocalStorage, executionAsyncId } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from '../../testing/test-hub.ts';
import { countedAuthCall } from './auth-context-hooks.ts';

/**
 * Whether async hooks are on in this process: with them on, a promise callback runs under its promise's own
 * async id; with them off, promises are not tracked and it runs under id 0.
 */
const hooksOn = async () => (await Promise.resolve().then(() => executionAsyncId())) !== 0;

const betterAuthContext = () =>
  (globalThis as Record<symbol, { context: Record<string, unknown> }>)[Symbol.for('better-auth:global')]!.context;

describe("async hooks are on only while one of Better Auth's calls runs", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await createTestHub();
  });
  afterAll(() => t.close());

  it('are off after a sign-up, a sign-in and a console request, which still work', async () => {
    const user = await t.signUp();
    const signedIn = await t.signIn(user.email, user.password);
    expect(signedIn.res.status).toBe(200);
    const org = await t.request('POST', '/v1/orgs', { auth: { cookie: signedIn.cookie }, body: { name: 'Hooks' } });
    expect(org.status).toBe(201);
    // Better Auth made its storages (a call ran under them) and they are off again.
    expect(Object.values(betterAuthContext()).some((v) => v instanceof AsyncLocalStorage)).toBe(true);
    expect(await hooksOn()).toBe(false);
  });

  it("keep a call's context while another call ends, and go off when the last one does", async () => {
    // A storage kept where Better Auth keeps its own, as one of its calls would use it.
    const storage = new AsyncLocalStorage<string>();
    const context = betterAuthContext();
    context.testStorage = storage;
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      const long = countedAuthCall(() =>
        storage.run('long call', async () => {
          await held;
          await new Promise((r) => setTimeout(r, 5));
          return storage.getStore();
        }),
      );
      const short = await countedAuthCall(() => storage.run('short call', async () => storage.getStore()));
      expect(short).toBe('short call');
      expect(await hooksOn()).toBe(true); // the long call still runs
      release();
      expect(await long).toBe('long call');
      expect(await hooksOn()).toBe(false);
    } finally {
      delete context.testStorage;
    }
  });
});
