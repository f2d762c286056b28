/**
 * Prefixed, time-sortable ids (`agt_01J…`): the prefix says what it is, the time part keeps ids in
 * creation order so lists can page by id.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32

export type IdPrefix =
  | 'org'
  | 'usr'
  | 'mem'
  | 'inv'
  | 'team'
  | 'key'
  | 'agt'
  | 'run'
  | 'evt'
  | 'pol'
  | 'dec'
  | 'apr'
  | 'bud'
  | 'bcx'
  | 'aud'
  | 'ntf'
  | 'whk'
  | 'dlv'
  | 'job'
  | 'mail'
  | 'rpt'
  | 'rpr'
  | 'exp'
  | 'prc'
  | 'alr'
  | 'ale'
  | 'red'
  | 'mcp';

// Random bytes are drawn 4 KiB at a time: one randomFillSync per id cost ~10% of ingestion CPU.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

// The 26 characters after the prefix are written into one scratch buffer and read out as one string:
// building them by concatenation made 26 intermediate strings per id, on every hot-path request.
const CODES = Buffer.from(ALPHABET, 'latin1');
const scratch = Buffer.allocUnsafe(26);

let lastTime = -1;
let seq = 0;

/**
 * `<prefix>_<10 chars time><4 chars sequence><12 chars random>`: ids made by one process sort in the
 * order they were made, even within one millisecond (the sequence), and never collide across processes
 * (the random part).
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  if (now === lastTime) seq++;
  else {
    lastTime = now;
    seq = 0;
  }
  let t = now;
  for (let i = 9; i >= 0; i--) {
    scratch[i] = CODES[t % 32]!;
    t = Math.floor(t / 32);
  }
  let c = seq;
  for (let i = 13; i >= 10; i--) {
    scratch[i] = CODES[c % 32]!;
    c = Math.floor(c / 32);
  }
  if (poolOffset + 12 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < 12; i++) scratch[14 + i] = CODES[pool[poolOffset + i]! & 31]!;
  poolOffset += 12;
  return `${prefix}_${scratch.toString('latin1', 0, 26)}`;
}
