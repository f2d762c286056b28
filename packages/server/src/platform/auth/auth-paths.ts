/**
 * What the rate limiter must know about a request to Better Auth's mount (/api/auth/*), computed from the
 * path Better Auth will actually route, not the raw URL. The mount hands Better Auth
 * `new URL(request.url, base)`, which resolves dot segments (`/api/auth/./sign-in/email`,
 * `/api/auth/x/../sign-in/email`, `%2e`), so a limiter that matched the raw URL could be walked around by
 * spelling the same endpoint differently. Every decision here starts from {@link normalizeAuthPath}.
 */

/** The pathname Better Auth routes, with repeated and trailing slashes folded. */
export function normalizeAuthPath(rawUrl: string): string {
  let path: string;
  try {
    path = new URL(rawUrl, 'http://hub.invalid').pathname;
  } catch {
    return rawUrl.split('?')[0] ?? rawUrl;
  }
  path = path.replace(/\/{2,}/g, '/');
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path;
}

/**
 * POST endpoints that need a signed-in session and guess no secret: they share the caller's general
 * bucket. Every other POST under /api/auth (sign-in, sign-up, password reset, 2FA, verification mails,
 * and anything Better Auth adds later) is strict: an unknown endpoint is treated as a credential check.
 */
const LENIENT_POSTS = new Set([
  '/api/auth/sign-out',
  '/api/auth/update-user',
  '/api/auth/revoke-session',
  '/api/auth/revoke-sessions',
  '/api/auth/revoke-other-sessions',
]);

export interface AuthRequestClass {
  /** Strict requests count against RATE_LIMIT_AUTH_PER_MINUTE per client IP (and per account). */
  strict: boolean;
  /**
   * The family of endpoints a strict request belongs to (`sign-in`, `two-factor`, `reset-password`…): one
   * bucket per family, so spellings of one endpoint (`/sign-in/email`, `/sign-in/email/`) share it.
   */
  family: string;
  /** Which account the attempt is against, when the endpoint says so: see accountOf. */
  account: 'email' | 'two-factor-cookie' | null;
}

const PASSWORD_FAMILY = new Set(['forget-password', 'request-password-reset', 'reset-password']);

export function classifyAuthRequest(method: string, path: string): AuthRequestClass {
  if (method !== 'POST' || LENIENT_POSTS.has(path)) return { strict: false, family: 'other', account: null };
  const first = (path.slice('/api/auth/'.length).split('/')[0] ?? '').toLowerCase();
  const family = PASSWORD_FAMILY.has(first) ? 'password' : first || 'root';
  let account: AuthRequestClass['account'] = null;
  if (family === 'sign-in' || path === '/api/auth/forget-password' || path === '/api/auth/request-password-reset')
    account = 'email';
  else if (family === 'two-factor' && /\/verify-|\/send-otp$/.test(path)) account = 'two-factor-cookie';
  return { strict: true, family, account };
}

/** The email a sign-in or reset request names (lowercased), or undefined. */
export function emailOfBody(body: unknown): string | undefined {
  const email = (body as { email?: unknown } | null | undefined)?.email;
  return typeof email === 'string' && email.length <= 320 ? email.trim().toLowerCase() : undefined;
}

/**
 * The identifier inside Better Auth's signed two-factor cookie (`<prefix>.two_factor=<id>.<signature>`),
 * which names the pending sign-in; the verification table maps it to the user.
 */
export function twoFactorIdentifierOf(cookieHeader: string | undefined, cookiePrefix: string): string | undefined {
  if (!cookieHeader) return undefined;
  const name = `${cookiePrefix}.two_factor=`;
  for (const part of cookieHeader.split(';')) {
    const p = part.trim();
    const at = p.startsWith('__Secure-') ? '__Secure-'.length : 0;
    if (!p.startsWith(name, at)) continue;
    const value = decodeURIComponent(p.slice(at + name.length));
    const dot = value.lastIndexOf('.');
    return dot > 0 ? value.slice(0, dot) : value;
  }
  return undefined;
}
