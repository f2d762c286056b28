/**
 * @module json-body
 * The JSON body parser: Fastify's own (secure-json-parse, with its prototype-poisoning checks), behind a
 * linear scan that refuses bodies nested deeper than `MAX_JSON_DEPTH` with 400 `validation_failed`.
 *
 * Why: V8's `JSON.parse` is iterative and takes any depth, but `JSON.stringify` and every recursive walk
 * after it (payload limits, serializers) are not: a 200k-deep array in a run's `input` overflowed the stack
 * and answered 500 (security finding 9). Refusing at the door keeps every handler safe.
 *
 * @example
 * registerJsonBodyParser(app); // once, before the routes
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.ts';

/** Deeper than any real payload (an event's tool arguments, a policy), far below the stack's limit. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 34; // "
const BACKSLASH = 92;
const OPEN_ARRAY = 91; // [
const OPEN_OBJECT = 123; // {
const CLOSE_ARRAY = 93;
const CLOSE_OBJECT = 125;

/**
 * Whether `text` opens more than `max` arrays/objects at once, counting only outside strings. One pass,
 * no allocation; strings are jumped over with `indexOf`. Malformed text is left for the parser to refuse.
 *
 * @example
 * jsonDepthExceeds('[[1]]', 1) // true
 * jsonDepthExceeds('{"a":"[[[["}', 1) // false
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  // Fast path: a text shorter than max + 1 characters cannot open max + 1 brackets (most bodies).
  if (text.length <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
      if (i < 0) return false;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote that closes the string opened at `start`, or -1 when it is never closed. */
function endOfString(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end > 0) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}

/** Replaces the `application/json` parser of `app` (and of every plugin registered after this call). */
export function registerJsonBodyParser(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH) {
  // Fastify's defaults for both options: a body with __proto__ or constructor.prototype is refused.
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDepthExceeds(body as string, maxDepth)) {
      const message = `nested deeper than ${maxDepth} levels`;
      return done(
        new AppError('validation_failed', `The JSON body is ${message}.`, { errors: [{ path: '(body)', message }] }),
        undefined,
      );
    }
    parse(request, body as string, done);
  });
}
