/** Rows of a `db.execute(...)` result: postgres-js returns an array, PGlite `{ rows }`. */
export function rows<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}
