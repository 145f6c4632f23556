import { BASE_NAME_PATTERN, DIGEST_PATTERN, SLUG_PATTERN } from "@lowrank/db";
import { z } from "zod";

/** True when `s` holds a NUL, another control character, DEL or a backslash. */
export function hasControlOrBackslash(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}

/**
 * A file name inside a version: relative, forward slashes, no `..` or `.` segments, no NUL or
 * control characters, no backslashes, at most 3 levels and 200 characters.
 */
export const filePathSchema = z
  .string()
  .min(1, "file path: expected a name, found an empty string")
  .max(200, "file path: expected at most 200 characters")
  .refine((p) => !hasControlOrBackslash(p), "file path: NUL, control characters and backslashes are refused")
  .refine((p) => !p.startsWith("/") && !/^[A-Za-z]:/.test(p), "file path: absolute paths are refused")
  .refine(
    (p) => p.split("/").every((s) => s !== "" && s !== "." && s !== ".."),
    "file path: '..', '.' and empty segments are refused",
  )
  .refine((p) => p.split("/").length <= 3, "file path: at most 3 levels")
  .refine((p) => /^[A-Za-z0-9._\-/ +]+$/.test(p), "file path: use letters, digits, '.', '_', '-', '+', ' ' and '/'");

export const slugSchema = z.string().regex(SLUG_PATTERN, "expected a lowercase slug (a-z, 0-9, '-', '_', '.'; 1-64)");
export const digestSchema = z.string().regex(DIGEST_PATTERN, "expected a sha256 digest (64 lowercase hex)");
export const baseNameSchema = z
  .string()
  .regex(BASE_NAME_PATTERN, "expected a base model name such as gpt2 or openai-community/gpt2");
/** Version labels: `v1`, `1.2.0`, `epoch-3`. Not `main`/`HEAD`, which name the latest version. */
export const versionLabelSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "version: expected 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit",
  )
  .refine(
    (v) => v !== "main" && v !== "HEAD" && !/^[0-9a-f]{40}$/.test(v),
    "version: main, HEAD and 40-hex names are reserved",
  );
export const tagSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((t) => !hasControlOrBackslash(t), "tag: no control characters or backslashes");
export const licenseSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._+-]+$/, "license: an SPDX-like id");
export const taskSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, "task: a pipeline tag such as text-generation");

export const publishInputSchema = z.object({
  /** Defaults to the caller's username. */
  owner: slugSchema.optional(),
  name: slugSchema,
  version: versionLabelSchema,
  base: baseNameSchema,
  files: z
    .array(z.object({ path: filePathSchema, sha256: digestSchema, size: z.int().min(0) }))
    .min(1, "files: expected at least one uploaded file")
    .max(16, "files: at most 16 files per version")
    .refine((fs) => new Set(fs.map((f) => f.path)).size === fs.length, "files: each path at most once"),
  description: z.string().max(10_000).optional(),
  task: taskSchema.optional(),
  tags: z.array(tagSchema).max(32).optional(),
  license: licenseSchema.optional(),
});
export type PublishInput = z.infer<typeof publishInputSchema>;
