/**
 * The one-click links of approval emails: `GET|POST /v1/approvals/{id}/email/approve|reject?token=…`.
 * GET answers a small confirmation page and decides nothing (mail scanners and link previews fetch
 * links); its form POSTs to the same URL, which decides as the link's user. The token is the
 * credential (`auth: 'public'`); a forged, foreign or expired one answers problem+json 401 like any
 * other auth failure. Tokens travel in `?token=`, which app.ts redacts from request logs.
 *
 * The POST also looks at who else the request says it is: a signed-in person other than the link's
 * addressee, or an API key, is refused (403), so a forwarded or leaked link cannot record its addressee
 * as the decider for someone else.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { looksLikeApiKey } from '../../platform/api-keys/api-key-format.ts';
import { toHeaders } from '../../platform/auth/authenticate.ts';
import type { Approval } from './approvals.service.ts';

const Params = z.object({ id: z.string().min(1).max(100) });
const Query = z.object({ token: z.string().max(2000).optional() });

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, inner: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}pre{background:#f4f4f5;padding:.75rem;overflow:auto}button{font:inherit;padding:.5rem 1.25rem;cursor:pointer}</style></head><body>${inner}</body></html>`;
}

function confirmPage(a: Approval, decision: 'approve' | 'reject', action: string) {
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  const facts = `<p>${escapeHtml(a.message ?? 'A policy requires a person to approve this action.')}</p><pre>${escapeHtml(JSON.stringify(a.action, null, 2))}</pre><p>Requested ${escapeHtml(a.requested_at)} · expires ${escapeHtml(a.expires_at)}</p>`;
  if (a.status !== 'pending')
    return page('Approval', `<h1>This approval is already ${escapeHtml(a.status)}</h1>${facts}`);
  // The form posts back to this very URL (token included); CSP allows form-action 'self'.
  return page(
    `${verb} this action?`,
    `<h1>${verb} this action?</h1>${facts}<form method="post" action="${escapeHtml(action)}"><button type="submit">${verb}</button></form>`,
  );
}

/** Who the request shows besides the token: its session's user, or an API key. */
async function presenterOf(req: FastifyRequest, ctx: HubContext) {
  const authz = req.headers.authorization;
  if (authz?.startsWith('Bearer ') && looksLikeApiKey(authz.slice(7).trim())) return { apiKey: true };
  if (!req.headers.cookie) return {};
  const session = await ctx.auth.api.getSession({ headers: toHeaders(req) }).catch(() => null);
  return session ? { userId: session.user.id } : {};
}

export function registerApprovalEmailRoutes(appIn: FastifyInstance, ctx: HubContext) {
  // Browsers post forms urlencoded; the parser lives in this plugin only, so no other route accepts it.
  appIn.register(async (scopedIn) => {
    scopedIn.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    const scoped = scopedIn.withTypeProvider<ZodTypeProvider>();
    for (const decision of ['approve', 'reject'] as const) {
      const url = `/v1/approvals/:id/email/${decision}`;
      const schema = { params: Params, querystring: Query, tags: ['approvals'], hide: true };
      scoped.get(url, { config: { auth: 'public' }, schema }, async (req, reply) => {
        const approval = await ctx.approvals.previewLink(req.params.id, req.query.token, decision);
        const action = `/v1/approvals/${encodeURIComponent(req.params.id)}/email/${decision}?token=${encodeURIComponent(req.query.token ?? '')}`;
        return reply
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(confirmPage(approval, decision, action));
      });
      scoped.post(url, { config: { auth: 'public' }, schema }, async (req, reply) => {
        const form = (req.body ?? {}) as { token?: unknown };
        const token = req.query.token ?? (typeof form.token === 'string' ? form.token : undefined);
        const a = await ctx.approvals.decideByLink(req.params.id, token, decision, await presenterOf(req, ctx));
        // A person clicked: answer a page. An API client asking for JSON gets the approval.
        if (!String(req.headers.accept ?? '').includes('text/html')) return reply.send(a);
        return reply
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(
            page(
              'Done',
              `<h1>${a.status === 'approved' ? 'Approved' : 'Rejected'}</h1><p>Thank you. The agent has been told.</p>`,
            ),
          );
      });
    }
  });
}
