import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { childEnv, type GroupProcess, spawnGroup } from "./processGroup.js";

export const HUB_DIR = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const WORKSPACE_ROOT = join(HUB_DIR, "..", "..");
/** Next's CLI entry, run with this Node rather than through the `.bin` shell wrapper. */
export const NEXT_BIN = join(
  dirname(createRequire(join(HUB_DIR, "package.json")).resolve("next/package.json")),
  "dist/bin/next",
);

/** Entries of apps/hub that are not app sources: build output, dependencies, tests, editor state. */
const NOT_SOURCES = new Set(["node_modules", ".next", "test", "next-env.d.ts", "results"]);

export interface HubBuild {
  /** Folder holding the copied app and its `.next` production build; `next start` runs here. */
  dir: string;
  /** Delete the folder (and its build). Safe to call twice. */
  remove(): void;
}

/**
 * `next build` of a copy of apps/hub in a fresh folder under `<repo>/.tmp/`.
 *
 * Why a copy rather than `distDir`: Next 16 accepts a distDir only inside the workspace, and a build
 * into any distDir other than `.next` rewrites apps/hub's `tsconfig.json` (tracked) and `next-env.d.ts`
 * to point at that folder. Building a copy leaves the working tree and other engineers' `.next`
 * alone, and two runs never share output. `node_modules` is a symlink to the real one, so the
 * workspace packages (`@lowrank/api`, `@lowrank/db`) resolve to their sources exactly as in apps/hub.
 * @param track receives the build process as soon as it starts, so a hook can stop it on timeout.
 */
export async function buildHub(track?: (process: GroupProcess) => void): Promise<HubBuild> {
  const parent = join(WORKSPACE_ROOT, ".tmp");
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "hub-e2e-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    cpSync(HUB_DIR, dir, {
      recursive: true,
      filter: (source) => source === HUB_DIR || !(NOT_SOURCES.has(basename(source)) || source.endsWith(".tsbuildinfo")),
    });
    symlinkSync(join(HUB_DIR, "node_modules"), join(dir, "node_modules"), "dir");
    const build = spawnGroup(process.execPath, [NEXT_BIN, "build"], {
      cwd: dir,
      env: childEnv({ NEXT_TELEMETRY_DISABLED: "1" }, ["DATABASE_URL", "LOWRANK_DATA_DIR"]),
    });
    track?.(build);
    const status = await build.exited;
    if (status !== 0) {
      throw new Error(`expected \`next build\` in ${dir} to exit with 0, found ${status}:\n${build.output()}`);
    }
    return { dir, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
