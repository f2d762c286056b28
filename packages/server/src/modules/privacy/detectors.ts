/**
 * @module detectors
 * The built-in detectors: email addresses, phone numbers, payment cards (Luhn), IBANs (mod 97) and
 * secrets (known API-key prefixes, bearer tokens, JWTs). One hand-written forward scan per string, no
 * regular expressions: every candidate is read once and, when refused, skipped as a whole, so hostile
 * input costs linear time (a backtracking regex on `1 1 1 1 …` or `a@a@a@…` would not).
 *
 * Shapes are chosen for few false positives on business text: a digit run glued to letters, `-`, `_`,
 * `/` or `#` is an identifier (ORD-2026-000123, SKU_4411), not a phone; dates and prices are not
 * phones because their groups do not look like one.
 *
 * @example
 * scanText('mail ann@example.com or +44 20 7946 0958'); // → [{kind:'email',…}, {kind:'phone',…}]
 */
import type { DetectorKind } from '@agentops-hub/contracts';

export interface Span {
  kind: DetectorKind;
  start: number;
  end: number;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isLower = (c: number) => c >= 97 && c <= 122;
const isAlnum = (c: number) => isDigit(c) || isUpper(c) || isLower(c);
/** Characters of an email's local part besides letters and digits: . _ % + - */
const isLocal = (c: number) => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const isDomain = (c: number) => isAlnum(c) || c === 46 || c === 45;
/** Characters of a token (API keys, bearer tokens, JWTs). */
const isToken = (c: number) => isAlnum(c) || c === 45 || c === 95 || c === 46 || c === 43 || c === 47 || c === 61;
/** Before a phone or card: an identifier goes on through these. */
const gluesId = (c: number) => isAlnum(c) || c === 45 || c === 95 || c === 47 || c === 35 || c === 46;

/** Known secret prefixes (lowercase first letter switch keeps the check O(1) per word start). */
const SECRET_PREFIXES = [
  'sk-',
  'sk_live_',
  'sk_test_',
  'rk_live_',
  'pk_live_',
  'ghp_',
  'gho_',
  'ghs_',
  'github_pat_',
  'glpat-',
  'xoxb-',
  'xoxp-',
  'xoxa-',
  'AKIA',
  'ASIA',
  'AIza',
  'ahk_',
  'eyJ',
];
const MIN_SECRET_BODY = 16;

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** mod 97 of an IBAN (letters as 10..35, first four characters moved to the end) is 1. */
export function ibanValid(iban: string): boolean {
  if (iban.length < 15 || iban.length > 34) return false;
  let rem = 0;
  const rotated = iban.slice(4) + iban.slice(0, 4);
  for (let i = 0; i < rotated.length; i++) {
    const c = rotated.charCodeAt(i);
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97;
    else if (isUpper(c)) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/**
 * A run of digits with single separators (space, `-`, `.`, or an area code in parentheses) from `i`.
 * Returns where it ends and what it is (card, phone, or nothing).
 */
function numberAt(s: string, i: number): { end: number; kind: DetectorKind | null } {
  const n = s.length;
  let j = i;
  const plus = s.charCodeAt(j) === 43;
  if (plus) j++;
  if (s.charCodeAt(j) === 40) j++; // "(415) 555-0123"
  const groups: number[] = [];
  let len = 0;
  let cur = 0;
  let cardLike = true; // only spaces and dashes between groups
  let digits = '';
  while (j < n && len <= 19) {
    const c = s.charCodeAt(j);
    if (isDigit(c)) {
      digits += s[j];
      len++;
      cur++;
      j++;
      continue;
    }
    // A separator of one or two characters, then a digit: " ", "-", ".", ")", ") ", " (".
    let k = j;
    if (c === 41) k++;
    if (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 45 || s.charCodeAt(k) === 46) k++;
    if (s.charCodeAt(k) === 40 && k === j + 1) k++;
    if (k === j || k - j > 2 || !isDigit(s.charCodeAt(k))) break;
    if (k - j > 1 || c === 46 || c === 41) cardLike = false;
    groups.push(cur);
    cur = 0;
    j = k;
  }
  if (cur) groups.push(cur);
  const end = j;
  // Glued to an identifier after (SKU 4411X): not ours.
  if (end < n && (isAlnum(s.charCodeAt(end)) || s.charCodeAt(end) === 95)) return { end, kind: null };
  if (len >= 13 && len <= 19 && !plus && cardLike && luhn(digits)) return { end, kind: 'card' };
  if (plus && len >= 8 && len <= 15) return { end, kind: 'phone' };
  if (!plus && (len === 10 || len === 11) && groups.length >= 2) {
    const last = groups[groups.length - 1];
    // Phone groups are short and end with 3–4 digits; a date (2026-01-31 …) starts 4-2.
    const shaped = groups.every((g) => g <= 4) && last >= 3 && !(groups[0] === 4 && groups[1] === 2);
    if (shaped) return { end, kind: 'phone' };
  }
  return { end, kind: null };
}

/** `AB12 3456 …` from `i`: letters and digits with single spaces, the longest prefix that is a valid IBAN. */
function ibanAt(s: string, i: number): { end: number; ok: boolean } {
  let compact = '';
  let j = i;
  let best = -1;
  const n = s.length;
  while (j < n && compact.length < 34) {
    const c = s.charCodeAt(j);
    if (isDigit(c) || isUpper(c)) {
      compact += s[j];
      j++;
      const after = j < n ? s.charCodeAt(j) : 32;
      // A candidate ends at a word end (the mod-97 check is O(length), at most 34 characters).
      if (compact.length >= 15 && !isAlnum(after) && ibanValid(compact)) best = j;
      continue;
    }
    if (c === 32 && j + 1 < n && (isDigit(s.charCodeAt(j + 1)) || isUpper(s.charCodeAt(j + 1)))) {
      j++;
      continue;
    }
    break;
  }
  return best > 0 ? { end: best, ok: true } : { end: Math.max(j, i + 1), ok: false };
}

/** An email around the `@` at `at`, not starting before `floor`. */
function emailAround(s: string, at: number, floor: number): { start: number; end: number } | null {
  let a = at;
  while (a > floor && isLocal(s.charCodeAt(a - 1))) a--;
  if (a === at) return null;
  let b = at + 1;
  let lastDot = -1;
  while (b < s.length && isDomain(s.charCodeAt(b))) {
    if (s.charCodeAt(b) === 46) lastDot = b;
    b++;
  }
  while (b > at + 1 && (s.charCodeAt(b - 1) === 46 || s.charCodeAt(b - 1) === 45)) b--; // trailing "." of a sentence
  if (lastDot >= b - 1) {
    lastDot = -1;
    for (let k = b - 1; k > at + 1; k--)
      if (s.charCodeAt(k) === 46) {
        lastDot = k;
        break;
      }
  }
  if (lastDot <= at + 1 || b - lastDot - 1 < 2) return null;
  for (let k = lastDot + 1; k < b; k++) if (!isUpper(s.charCodeAt(k)) && !isLower(s.charCodeAt(k))) return null;
  return { start: a, end: b };
}

/** First characters of the prefixes: most words start with none of them and skip the loop. */
const SECRET_FIRST = new Set(SECRET_PREFIXES.map((p) => p.charCodeAt(0)));

function secretAt(s: string, i: number): number {
  const code = s.charCodeAt(i);
  if (SECRET_FIRST.has(code))
    for (const p of SECRET_PREFIXES) {
      if (p.charCodeAt(0) !== code || !s.startsWith(p, i)) continue;
      let j = i + p.length;
      while (j < s.length && isToken(s.charCodeAt(j))) j++;
      if (j - i - p.length >= MIN_SECRET_BODY) return j;
    }
  // `Bearer <token>` / `Basic <token>`: the token is the secret, the word stays.
  const head = code === 66 || code === 98 /* B b */ ? s.slice(i, i + 7).toLowerCase() : '';
  const from = head === 'bearer ' ? i + 7 : head.startsWith('basic ') ? i + 6 : -1;
  if (from > 0) {
    let j = from;
    while (j < s.length && isToken(s.charCodeAt(j))) j++;
    if (j - from >= 12) return -from; // negative: the span starts at `from`
  }
  return 0;
}

/**
 * Every detector match in `s`, in order, not overlapping. `enabled` says which kinds to look for.
 */
export function scanText(s: string, enabled: ReadonlySet<DetectorKind>): Span[] {
  const out: Span[] = [];
  const n = s.length;
  let floor = 0; // nothing before this may start a new span (end of the last one)
  let i = 0;
  // No closure here: under tsx every function made per call is also named per call (esbuild's keepNames),
  // which cost more than the scan itself.
  // Looked up once per string, not once per character.
  const email = enabled.has('email');
  const numbers = enabled.has('card') || enabled.has('phone');
  const iban = enabled.has('iban');
  const secret = enabled.has('secret');
  while (i < n) {
    const c = s.charCodeAt(i);
    const prev = i > 0 ? s.charCodeAt(i - 1) : 32;
    if (c === 64 /* @ */) {
      const m = email ? emailAround(s, i, floor) : null;
      if (m) {
        // An email starting inside an earlier non-match is fine: spans only need to follow `floor`.
        out.push({ kind: 'email', start: m.start, end: m.end });
        floor = m.end;
        i = m.end;
      } else i++;
      continue;
    }
    const wordStart = !isAlnum(prev) && prev !== 95 && prev !== 45;
    if (numbers && (isDigit(c) || c === 43 || c === 40) && !gluesId(prev)) {
      if (c === 43 || c === 40 ? isDigit(s.charCodeAt(i + 1)) : true) {
        const m = numberAt(s, i);
        if (m.kind && enabled.has(m.kind)) {
          out.push({ kind: m.kind, start: i, end: m.end });
          floor = m.end;
        }
        i = Math.max(m.end, i + 1);
        continue;
      }
    }
    if (iban && wordStart && isUpper(c) && i + 3 < n) {
      const c1 = s.charCodeAt(i + 1);
      if (isUpper(c1) && isDigit(s.charCodeAt(i + 2)) && isDigit(s.charCodeAt(i + 3))) {
        const m = ibanAt(s, i);
        if (m.ok) {
          out.push({ kind: 'iban', start: i, end: m.end });
          floor = m.end;
        }
        // An IBAN-shaped run that fails mod 97 is skipped whole: its digit groups are not cards or phones.
        i = m.end;
        continue;
      }
    }
    if (secret && wordStart && (isUpper(c) || isLower(c))) {
      const e = secretAt(s, i);
      if (e > 0) {
        out.push({ kind: 'secret', start: i, end: e });
        floor = e;
        i = e;
        continue;
      }
      if (e < 0) {
        let j = -e;
        while (j < n && isToken(s.charCodeAt(j))) j++;
        out.push({ kind: 'secret', start: -e, end: j });
        floor = j;
        i = j;
        continue;
      }
    }
    if (isAlnum(c)) {
      // Skip the rest of the word: nothing starts inside it (emails are found from their `@`).
      let j = i + 1;
      while (j < n && isAlnum(s.charCodeAt(j))) j++;
      i = j;
      continue;
    }
    i++;
  }
  return out;
}
