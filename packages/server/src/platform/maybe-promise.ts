/**
 * (Not named `then`: a module exporting `then` is thenable, and `await import()` of it misbehaves.)
 * Hot paths answer from memory almost always and from the database only on a cache miss. Returning the
 * value itself on a hit (not a resolved promise) saves a promise and a microtask turn per step, and
 * with async_hooks active (AsyncLocalStorage, which Better Auth uses) every promise also costs hook calls.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Applies `f` now when `value` is plain, after it resolves when it is a promise.
 * @example
 * const agent = chain(resolver.resolve(orgId, actor, 'SupportBot'), (a) => admit(a)); // plain on a cache hit
 */
export function chain<T, R>(value: MaybePromise<T>, f: (v: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}
