import type { z } from "zod";
import { RuntimeError } from "../backend/errors.js";

/** `a.b[2]` from a zod issue path; `body` for the root. */
export function fieldPath(path: ReadonlyArray<PropertyKey>, root = "body"): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || root;
}

function found(value: unknown, path: ReadonlyArray<PropertyKey>): string {
  let v: unknown = value;
  for (const p of path) v = typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  if (v === undefined) return "nothing";
  const text = typeof v === "number" && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
  return text === undefined ? typeof v : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `field: expected ..., found ...` for the first issue of a failed parse of `value`. */
export function schemaProblem(error: z.ZodError, value: unknown, root?: string): string {
  const issue = error.issues[0];
  const path = issue?.path ?? [];
  return `${fieldPath(path, root)}: ${issue?.message ?? "invalid"}, found ${found(value, path)}`;
}

/**
 * Parses `value` with `schema`, or throws `RuntimeError("InvalidArgument")` naming the first bad field,
 * what was expected and what was found (`maxBatchSize: expected an integer >= 1, found 0`).
 */
export function parseWithSchema<S extends z.ZodType>(schema: S, value: unknown, root?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RuntimeError("InvalidArgument", schemaProblem(result.error, value, root), { cause: result.error });
}
