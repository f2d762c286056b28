/**
 * Secrets at rest (provider connections, webhook secrets): AES-256-GCM under HUB_ENCRYPTION_KEY.
 * Sealed form: `v1:<iv b64>:<tag b64>:<ciphertext b64>`. When no key is configured one is generated
 * into the data dir on first start (with a warning: back it up, or the secrets are lost with it).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the encryption key must be 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ct.toString('base64')}`;
    },
    open(sealed) {
      const [v, iv, tag, ct] = sealed.split(':');
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}

export function parseKey(text: string): Buffer {
  const t = text.trim();
  return /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
}

/** The configured key, or the one in `<dataDir>/encryption.key`, generated when absent. */
export function resolveEncryptionKey(
  configured: string | undefined,
  dataDir: string,
  warn: (msg: string) => void,
): Buffer {
  if (configured) return parseKey(configured);
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) return parseKey(readFileSync(file, 'utf8'));
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64'), { mode: 0o600 });
  warn(
    `HUB_ENCRYPTION_KEY is not set: generated one in ${file}. Back it up (or set HUB_ENCRYPTION_KEY): ` +
      'secrets stored by the hub cannot be read without it.',
  );
  return key;
}
