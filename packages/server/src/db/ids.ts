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
  | 'prc';

// Random bytes are drawn 4 KiB at a time: one randomFillSync per id cost ~10% of ingestion CPU.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;
function randomBytesPooled(n: number): Buffer {
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

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
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let counter = '';
  let c = seq;
  for (let i = 0; i < 4; i++) {
    counter = ALPHABET[c % 32] + counter;
    c = Math.floor(c / 32);
  }
  const rnd = randomBytesPooled(12);
  let tail = '';
  for (let i = 0; i < 12; i++) tail += ALPHABET[rnd[i]! & 31];
  return `${prefix}_${time}${counter}${tail}`;
}
