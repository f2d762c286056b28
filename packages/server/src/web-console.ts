/**
 * The console (packages/web, a React single-page app) is served at `/` from its build in
 * `packages/web/dist`: hashed assets with a year-long immutable cache, and `index.html` (never cached)
 * for `/` and every other browser navigation (a request that accepts text/html), so deep links like
 * `/runs/run_123` work (SPA fallback). API paths (`/v1`, `/api`, `/docs`, …) and non-HTML requests
 * never fall back: an unknown one stays a 404 problem+json.
 *
 * Also `GET /v1/setup/status` (public): whether the hub still has no user, so the console's first
 * page asks for the owner account instead of a sign-in.
 *
 * When the console was not built (e.g. `npm install --ignore-scripts`), `/` is a small status page that
 * says how to build it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { HubContext } from './context.ts';
import { describeSignup } from './platform/auth/signup-gate.ts';
import { createOrgStore } from './platform/orgs/orgs.store.ts';

const DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Paths that belong to the API or the hub itself: never answered with the console's index.html. */
const NOT_CONSOLE = /^\/(v1|api|docs|openapi\.json|healthz|readyz|metrics|assets)(\/|$|\?)/;

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>AgentOps Hub</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem;color:#1a1b1e}
code{background:#f1f3f5;padding:.1rem .3rem;border-radius:4px}a{color:#1c7ed6}</style></head><body>
<h1>AgentOps Hub is running</h1>
<p>The API is up, but the web console was not built. Build it with <code>npm run build -w @agentops-hub/web</code>
(<code>npm install</code> and <code>npm start</code> do it for you) and reload.</p>
<p><a href="/docs">API reference (OpenAPI)</a> · <a href="/healthz">health</a> · <a href="/metrics">metrics</a></p>
</body></html>`;

export async function registerConsole(
  app: FastifyInstance,
  ctx: Pick<HubContext, 'db' | 'config'>,
  opts: { distDir?: string } = {},
) {
  const dist = opts.distDir ?? DIST;
  // Users belong to the orgs module's tables: "is there an owner yet?" is asked through its store.
  const users = createOrgStore(ctx.db.db);
  app.get('/v1/setup/status', { config: { auth: 'public' }, schema: { tags: ['orgs'] } }, async () => {
    // The sign-up page says who may create an account here (HUB_SIGNUP) before anyone types a password.
    return { needs_owner: !(await users.anyUser()), ...describeSignup(ctx.config.signup) };
  });

  if (!existsSync(join(dist, 'index.html'))) {
    app.get('/', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html').send(PAGE),
    );
    return;
  }

  const assets = join(dist, 'assets');
  // Hashed build output, looked up per request: a rebuild while the hub runs is served at once.
  await app.register(fastifyStatic, {
    root: assets,
    prefix: '/assets/',
    index: false,
    schemaHide: true,
    // The build writes .br and .gz beside each asset: a browser that accepts them gets the compressed
    // file (sign-in's JavaScript is ~150 KB over the wire instead of ~470 KB), others the plain one.
    preCompressed: true,
    // File names carry a content hash, so a file never changes.
    // (sendFile below shares this hook: only the hashed assets may be cached.)
    setHeaders(reply, path) {
      reply.header('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // The few other files at the root of the build (favicon…), and index.html for browser paths.
  const rootFiles = new Set(readdirSync(dist).filter((f) => f !== 'index.html' && !f.startsWith('.')));

  const sendIndex = (_req: unknown, reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html', dist, { cacheControl: false });
  app.get('/', { config: { auth: 'public' }, schema: { hide: true } }, sendIndex);
  app.get('/*', { config: { auth: 'public' }, schema: { hide: true } }, (req, reply) => {
    if (NOT_CONSOLE.test(req.url)) return reply.callNotFound();
    const file = req.url.slice(1).split('?')[0];
    if (rootFiles.has(file))
      return reply.header('cache-control', 'no-cache').sendFile(file, dist, { cacheControl: false });
    // Only a browser navigating (it asks for HTML) gets the app; scripts and probes keep a plain 404.
    if (!String(req.headers.accept ?? '').includes('text/html')) return reply.callNotFound();
    return sendIndex(req, reply);
  });
}
