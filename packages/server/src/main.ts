/**
 * The hub's command line: `start` (default), `migrate`. Reads the environment, builds the hub, listens.
 * Nothing else lives here.
 *
 * `HUB_ROLE` (docs/deployment.md): `all` serves HTTP and runs jobs and enrichment; `api` serves HTTP
 * and never enriches nor runs jobs; `worker` runs jobs and enrichment and answers only the probes and
 * /metrics over HTTP (everything else is 404), so a misrouted client cannot use it as an API; with the
 * same TLS as the API server when TLS_CERT and TLS_KEY are set (platform/probe-server.ts).
 */

// First: V8 settings must be in place before the hub's code runs (see gc-tuning.ts).
import './gc-tuning.ts';
import pino from 'pino';
import { buildHub } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createHubContext } from './context.ts';
import { headlessInit } from './init.ts';
import { listenProbesOnly } from './platform/probe-server.ts';
import { keepServingOnUnhandledRejection } from './platform/unhandled-rejections.ts';

async function main() {
  const command = process.argv[2] ?? 'start';
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }

  if (command === 'migrate') {
    const ctx = await createHubContext(config, { log: pino({ level: config.logLevel }) });
    ctx.log.info('migrations applied');
    await ctx.close();
    return;
  }
  if (command !== 'start') {
    console.error(`unknown command "${command}": use start or migrate`);
    process.exit(2);
  }

  const hub = await buildHub(config);
  keepServingOnUnhandledRejection(process, hub.app.log);
  const init = await headlessInit(hub.ctx);
  if (init?.created.length) hub.app.log.info({ created: init.created }, 'headless init done');
  if (config.role === 'api') hub.ctx.enrichment.passive();
  else await hub.startWorkers();
  const probes = config.role === 'worker' ? await listenProbesOnly(hub.app, config) : null;
  if (!probes) await hub.app.listen({ port: config.port, host: config.host });
  hub.app.log.info(
    `AgentOps Hub ready at ${config.publicUrl} (${hub.ctx.db.dialect}${hub.ctx.db.dialect === 'sqlite' ? ` in ${config.dataDir}` : ''})`,
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    hub.app.log.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    probes?.close();
    await hub.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
