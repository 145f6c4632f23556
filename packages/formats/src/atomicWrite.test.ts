import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pathExists, replaceFileAtomically, replaceFolderAtomically } from "./atomicWrite.js";

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), "lowrank-atomic-"));
}

describe("atomic writes", () => {
  it("a failing fill leaves the old folder as it was and no temporary folder behind", async () => {
    const root = await scratch();
    const out = join(root, "out");
    await replaceFolderAtomically(out, (tmp) => writeFile(join(tmp, "a.txt"), "old"));
    await expect(
      replaceFolderAtomically(out, async (tmp) => {
        await writeFile(join(tmp, "b.txt"), "new");
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    expect(await readdir(root)).toEqual(["out"]);
    expect(await readdir(out)).toEqual(["a.txt"]);
  });

  it("replaces a folder as a whole: no file of the old one stays beside the new ones", async () => {
    const root = await scratch();
    const out = join(root, "out");
    await replaceFolderAtomically(out, (tmp) => writeFile(join(tmp, "old.txt"), "1"));
    await replaceFolderAtomically(out, (tmp) => writeFile(join(tmp, "new.txt"), "2"));
    expect(await readdir(out)).toEqual(["new.txt"]);
    expect(await readdir(root)).toEqual(["out"]);
    // Not mkdtemp's 0700: the umask decides, as for any folder the user makes.
    const umask = process.umask();
    expect((await stat(out)).mode & 0o777).toBe(0o777 & ~umask);
  });

  it("writes a file with the asked mode through a rename", async () => {
    const root = await scratch();
    const file = join(root, "creds.json");
    expect(await pathExists(file)).toBe(false);
    await replaceFileAtomically(file, "secret", { mode: 0o600 });
    await replaceFileAtomically(file, "secret2", { mode: 0o600 });
    expect(await readFile(file, "utf8")).toBe("secret2");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(root)).toEqual(["creds.json"]);
    await expect(replaceFileAtomically(join(root, "missing", "x"), "y")).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(root)).toEqual(["creds.json"]);
  });
});
