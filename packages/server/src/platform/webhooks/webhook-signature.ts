/**
 * Webhook signatures: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the exact raw body>`, keyed
 * with the webhook's secret (the GitHub convention, so receivers can reuse their verifiers). Always
 * verify the raw bytes you received, before parsing: re-serialized JSON would not match.
 *
 * @example
 * const header = signPayload('whsec_…', rawBody); // 'sha256=9f86d0…'
 * verifySignature('whsec_…', rawBody, req.headers['x-hub-signature-256']); // true
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Hub-Signature-256';

/** The header value for `rawBody`: `sha256=<hex>`. */
export function signPayload(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** Whether `header` is the signature of `rawBody` under `secret`, compared in constant time. */
export function verifySignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | string[] | undefined | null,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signPayload(secret, rawBody));
  const given = Buffer.from(header.trim());
  // timingSafeEqual needs equal lengths; a length mismatch reveals nothing secret (the length is public).
  return given.length === expected.length && timingSafeEqual(given, expected);
}
