/**
 * `npm run bench -- controls`: kill-switch propagation between two hub processes on one database.
 * This process (the leader) toggles the kill switch; a child process (the follower, same database)
 * polls `ctx.controls.check()` every millisecond and reports when it sees each change. Transport: Redis
 * when REDIS_URL is set (the default on SQLite: redis://127.0.0.1:6379), else PostgreSQL LISTEN/NOTIFY
 * (DATABASE_URL=postgres://…). Both processes run on this machine, so their clocks agree.
 *
 * Prints one JSON line: {"bench":"kill_switch_propagation", via, toggles, p50_ms, p99_ms, max_ms}.
 * Target (issue 4): p99 ≤ 1000 ms.
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHub } from '../packages/server/src/app.ts';
import { loadConfig } from '../packages/server/src/config.ts';
import { headlessInit } from '../packages/server/src/init.ts';
import { SYSTEM_ACTOR, trustedOrgId } from '../packages/server/src/platform/caller.ts';

const TOGGLES = Number(process.env.BENCH_TOGGLES ?? 20);
const role = process.argv[2] === '--follower' ? 'follower' : 'leader';

function configFor(dataDir: string) {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? (databaseUrl ? undefined : 'redis://127.0.0.1:6379');
  return loadConfig({
    HUB_DATA_DIR: dataDir,
    HUB_LOG_LEVEL: 'silent',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    HUB_INIT_ORG_NAME: 'Bench',
    HUB_INIT_USER_EMAIL: 'bench@example.test',
    HUB_INIT_USER_PASSWORD: 'bench-password-123',
  });
}

type ToFollower =
  | { watch: { orgId: string; agent: { id: string; type: string | null; tags: string[] } } }
  | { stop: true };
type ToLeader = { ready: true } | { seen: { engaged: boolean; at: number } };

if (role === 'follower') {
  const hub = await buildHub(configFor(process.argv[3]!), { logger: false });
  const send = (m: ToLeader) => process.send!(m);
  process.on('message', async (m: ToFollower) => {
    if ('stop' in m) {
      await hub.close();
      process.exit(0);
    }
    const orgId = trustedOrgId(m.watch.orgId);
    let engaged = (await hub.ctx.controls.check(orgId, m.watch.agent))?.reason === 'kill_switch';
    send({ ready: true });
    for (;;) {
      const now = (await hub.ctx.controls.check(orgId, m.watch.agent))?.reason === 'kill_switch';
      if (now !== engaged) {
        engaged = now;
        send({ seen: { engaged, at: Date.now() } });
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  });
  send({ ready: true });
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-controls-'));
  const config = configFor(dataDir);
  const hub = await buildHub(config, { logger: false });
  await headlessInit(hub.ctx);
  const user = (await hub.ctx.orgs.userByEmail('bench@example.test'))!;
  const orgId = trustedOrgId((await hub.ctx.orgs.memberships(user.id))[0]!.org_id);
  const agent = await hub.ctx.agents.resolveOrRegister(orgId, SYSTEM_ACTOR, 'BenchBot');
  const caller = { orgId, actor: SYSTEM_ACTOR, teamIds: [], permissions: new Set<never>() };

  const child = fork(fileURLToPath(import.meta.url), ['--follower', dataDir], {
    execArgv: ['--import', 'tsx'],
    env: process.env,
  });
  const inbox: ToLeader[] = [];
  let wake: (() => void) | null = null;
  child.on('message', (m: ToLeader) => {
    inbox.push(m);
    wake?.();
  });
  const next = async (ms = 5000): Promise<ToLeader> => {
    const end = Date.now() + ms;
    while (inbox.length === 0) {
      if (Date.now() > end) throw new Error('the follower did not answer in time');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
    return inbox.shift()!;
  };

  await next(60_000); // the follower's hub is up
  child.send({ watch: { orgId, agent: { id: agent.id, type: agent.type, tags: agent.tags } } } satisfies ToFollower);
  await next(); // it has the org loaded

  const latencies: number[] = [];
  for (let i = 0; i < TOGGLES; i++) {
    const engaged = i % 2 === 0;
    const started = Date.now();
    await hub.ctx.controls.setKillSwitch(caller, { engaged, reason: `bench toggle ${i}` });
    const m = await next();
    if (!('seen' in m) || m.seen.engaged !== engaged) throw new Error(`unexpected message ${JSON.stringify(m)}`);
    latencies.push(m.seen.at - started);
  }
  child.send({ stop: true } satisfies ToFollower);
  await new Promise((r) => child.once('exit', r));
  await hub.close();

  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!;
  console.log(
    JSON.stringify({
      bench: 'kill_switch_propagation',
      via: config.redisUrl ? 'redis' : 'postgres_notify',
      processes: 2,
      toggles: latencies.length,
      p50_ms: p(0.5),
      p99_ms: p(0.99),
      max_ms: latencies[latencies.length - 1],
      target_p99_ms: 1000,
    }),
  );
}
