import { fileURLToPath } from "node:url";

/** Absolute path of a folder (or file inside it) under the repository's `fixtures/`. */
export function fixturePath(...parts: string[]): string {
  const root = fileURLToPath(new URL("../../fixtures/", import.meta.url));
  return [root.replace(/\/$/, ""), ...parts].join("/");
}
