/**
 * Signed one-click links for approval emails. A token names one approval, one user and one decision,
 * and expires with the approval; it is the only credential the link carries, so it is an HMAC-SHA256
 * under a key derived from the hub's encryption key (never the key itself: a leaked link secret must not
 * open sealed secrets). Format: `<base64url(JSON payload)>.<base64url(HMAC of the first part)>`.
 *
 * @example
 * const secret = deriveLinkSecret(encryptionKey);
 * const token = signLinkToken(secret, { approval_id: 'apr_…', org_id: 'org_…', user_id: 'u1', decision: 'approve', exp });
 * verifyLinkToken(secret, token, Date.now()); // → the payload, or throws AppError('unauthenticated')
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../platform/errors.ts';

export type LinkDecision = 'approve' | 'reject';

export interface LinkPayload {
  approval_id: string;
  org_id: string;
  user_id: string;
  decision: LinkDecision;
  /** Epoch milliseconds: the approval's `expires_at`. */
  exp: number;
}

/** The link-signing key: HKDF over the hub's encryption key with a purpose label. */
export function deriveLinkSecret(encryptionKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'agentops-hub approval email links v1', 32));
}

/** The per-approval secret that signs callbacks to the agent's `callback_url` (derived, never stored). */
export function callbackSecret(linkSecret: Buffer, approvalId: string): string {
  return `cbsec_${createHmac('sha256', linkSecret).update(`callback:${approvalId}`).digest('base64url')}`;
}

const mac = (secret: Buffer, body: string) => createHmac('sha256', secret).update(body).digest();

export function signLinkToken(secret: Buffer, payload: LinkPayload): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

const invalid = () => new AppError('unauthenticated', 'This approval link is not valid.');

/** The payload of a genuine, unexpired token; otherwise an `unauthenticated` AppError (problem+json). */
export function verifyLinkToken(secret: Buffer, token: string | undefined, now: number): LinkPayload {
  if (!token || token.length > 2000) throw invalid();
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) throw invalid();
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(secret, body);
  // timingSafeEqual needs equal lengths; the length of an HMAC is public.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  let p: LinkPayload;
  try {
    p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkPayload;
  } catch {
    throw invalid();
  }
  if (
    typeof p?.approval_id !== 'string' ||
    typeof p.org_id !== 'string' ||
    typeof p.user_id !== 'string' ||
    (p.decision !== 'approve' && p.decision !== 'reject') ||
    typeof p.exp !== 'number'
  )
    throw invalid();
  if (p.exp <= now) throw new AppError('unauthenticated', 'This approval link has expired.');
  return p;
}
