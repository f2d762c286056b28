/**
 * Security headers on every answer, precomputed once (helmet's per-request header building cost ~40%
 * of a bare Fastify's throughput on bench/auth; the ingestion and evaluate hot paths cannot pay that).
 *
 * Two sets:
 * - Pages and assets (the console, /docs): the set @fastify/helmet sends by default, with a CSP that
 *   keeps every source to the hub itself.
 * - API answers (`/v1/…`), which are JSON or files, never rendered as pages: the OWASP REST set. They
 *   cannot be framed or sniffed into HTML, load nothing, and are never cached (they hold org data).
 *   Helmet's page-only headers (COOP, CORP, DNS prefetch, download options…) do nothing for JSON and
 *   would only add bytes to each of the hot paths' answers.
 *
 * The same hook sets `x-request-id`: one hook instead of two on every request.
 */
import type { FastifyInstance } from 'fastify';

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'self'",
    "base-uri 'self'",
    "font-src 'self' https: data:",
    "form-action 'self'",
    "frame-ancestors 'self'",
    "img-src 'self' data: https:",
    "object-src 'none'",
    "script-src 'self' 'unsafe-inline'",
    "script-src-attr 'none'",
    "style-src 'self' 'unsafe-inline'",
  ].join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

const API_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

const HSTS = { 'strict-transport-security': 'max-age=31536000; includeSubDomains' };

export function registerSecurityHeaders(app: FastifyInstance, opts: { hsts: boolean }) {
  const page = opts.hsts ? { ...PAGE_HEADERS, ...HSTS } : PAGE_HEADERS;
  const api = opts.hsts ? { ...API_HEADERS, ...HSTS } : API_HEADERS;
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    reply.headers(request.url.startsWith('/v1/') ? api : page);
    done();
  });
}
