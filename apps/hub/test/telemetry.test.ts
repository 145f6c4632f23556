import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HUB_DIR } from "./buildHub.js";

const scripts = (JSON.parse(readFileSync(join(HUB_DIR, "package.json"), "utf8")) as { scripts: Record<string, string> })
  .scripts;
const home = mkdtempSync(join(tmpdir(), "lowrank-hub-telemetry-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** What `next telemetry status` says when started the way `script` starts Next (its shell prefix kept). */
function telemetryStatus(script: string): string {
  const command = script.replace(/\bnext\s+\w+.*$/, "next telemetry status");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(HUB_DIR, "node_modules", ".bin")}:${process.env.PATH}`,
    // A fresh home: no opt-out remembered from an earlier `next telemetry disable`.
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
  };
  delete env.NEXT_TELEMETRY_DISABLED;
  const r = spawnSync("sh", ["-c", command], { cwd: HUB_DIR, env, encoding: "utf8", timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return /Status: (\w+)/.exec(r.stdout)?.[1] ?? r.stdout;
}

describe("Next.js telemetry", () => {
  const nextScripts = Object.entries(scripts).filter(([, s]) => /\bnext\s/.test(s));

  it("is off for every script that starts Next, before Next reads .env", () => {
    expect(nextScripts.map(([name]) => name).sort()).toEqual(["build", "dev", "start"]);
    for (const [name, script] of nextScripts) expect(telemetryStatus(script), name).toBe("Disabled");
  });

  it("would be on without the scripts' setting (.env alone is read too late)", () => {
    expect(readFileSync(join(HUB_DIR, ".env"), "utf8")).toMatch(/^NEXT_TELEMETRY_DISABLED=1$/m);
    expect(telemetryStatus("next dev")).toBe("Enabled");
  });
});
