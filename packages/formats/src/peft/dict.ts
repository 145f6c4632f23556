/**
 * An empty record without a prototype, for maps keyed by names read from files: a tensor or module
 * called `__proto__` then stays a plain key instead of reaching `Object.prototype`.
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
