/**
 * The console is served at `/`. Until the React console (packages/web) lands, `/` is a small status
 * page that tells a new user where they are and where to go next.
 */
import type { FastifyInstance } from 'fastify';

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>AgentOps Hub</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem;color:#1a1b1e}
code{background:#f1f3f5;padding:.1rem .3rem;border-radius:4px}a{color:#1c7ed6}</style></head><body>
<h1>AgentOps Hub is running</h1>
<p>The API is up. Sign up with <code>POST /api/auth/sign-up/email</code>, create an organization with
<code>POST /v1/orgs</code>, and an API key for your agents with <code>POST /v1/api-keys</code>.</p>
<p><a href="/docs">API reference (OpenAPI)</a> · <a href="/healthz">health</a> · <a href="/metrics">metrics</a></p>
</body></html>`;

export function registerConsole(app: FastifyInstance) {
  app.get('/', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html').send(PAGE),
  );
}
