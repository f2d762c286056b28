/**
 * API key material: `ahk_` + 43 base62 characters (256 bits). Keys are high-entropy, so a single
 * SHA-256 is the right hash (fast enough for the ingestion hot path, and a stolen table gives nothing).
 */
import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function generateApiKey(): string {
  const bytes = randomBytes(43);
  let s = '';
  for (const b of bytes) s += BASE62[b % 62];
  return `ahk_${s}`;
}

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** What the console shows to recognize a key: `ahk_AbCd1234…`. */
export const keyPrefix = (key: string) => key.slice(0, 12);

export const looksLikeApiKey = (s: string) => /^ahk_[A-Za-z0-9_-]{20,}$/.test(s);
