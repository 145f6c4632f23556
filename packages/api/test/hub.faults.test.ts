import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { adapters, adapterVersions, apikey, eq } from "@lowrank/db";
import { migratedPgliteDir } from "@lowrank/db/testing";
import type { BaseManifest } from "@lowrank/formats";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiskBlobStore } from "../src/blobs/DiskBlobStore.js";
import { filePathSchema } from "../src/hub/schemas.js";
import { type HubClient, hubClient, peftFilesFor, startTestHub, type TestHub, uploadFiles } from "../src/testing.js";

async function blobs(store: { list(): AsyncIterable<{ sha256: string }> }): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list()) out.push(b.sha256);
  return out.sort();
}
const until = async (what: () => boolean, tries = 400) => {
  for (let i = 0; i < tries && !what(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(what()).toBe(true);
};

/** Sends a PUT whose Content-Length promises more than it sends, then closes the connection. */
function truncatedPut(url: string, token: string, promised: number, sent: number): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `PUT /api/uploads HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${promised}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      );
      socket.write(Buffer.alloc(sent, 7));
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 50);
    });
  });
}

describe("hub security and faults", () => {
  let t: TestHub;
  let alice: { token: string; client: HubClient };
  let manifest: BaseManifest;
  const tmpFiles = () => {
    const dir = join(t.dataDir, "blobs", "tmp");
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  beforeAll(async () => {
    t = await startTestHub({ maxUploadBytes: 4096, signInPerMinute: 3 });
    const admin = await t.signUp("admin", "admin@example.com");
    manifest = await t.registerTinyGpt2(admin.client);
    alice = await t.signUp("alice");
  });
  afterAll(async () => t?.close());

  it("refuses an oversized upload (declared or streamed) with 413 and keeps nothing", async () => {
    const before = await blobs(t.hub.blobs);
    const declared = await fetch(`${t.url}/api/uploads`, {
      method: "PUT",
      headers: { authorization: `Bearer ${alice.token}` },
      body: new Uint8Array(5000),
    });
    expect(declared.status).toBe(413);
    const streamed = await fetch(`${t.url}/api/uploads`, {
      method: "PUT",
      headers: { authorization: `Bearer ${alice.token}` },
      body: new ReadableStream({
        pull(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1000));
          controller.close();
        },
      }),
      // @ts-expect-error Node's fetch needs duplex for a streamed body
      duplex: "half",
    });
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.code).toBe("TooLarge");
    expect(await blobs(t.hub.blobs)).toEqual(before);
    expect(tmpFiles()).toEqual([]);
  });

  it("drops a truncated upload (the client hangs up early): no blob, no temporary file", async () => {
    const before = await blobs(t.hub.blobs);
    await truncatedPut(t.url, alice.token, 3000, 1000);
    await until(() => tmpFiles().length === 0);
    expect(await blobs(t.hub.blobs)).toEqual(before);
  });

  // An open FileHandle is no "active resource" to Node, so the process's open files are read from
  // /proc (Linux, where CI runs): a temporary file removed while still open shows as "(deleted)".
  it.skipIf(process.platform !== "linux")("closes the temporary file of every aborted upload", async () => {
    const tmp = join(t.dataDir, "blobs", "tmp");
    const openTemporary = () =>
      readdirSync("/proc/self/fd")
        .map((fd) => {
          try {
            return readlinkSync(join("/proc/self/fd", fd));
          } catch {
            return ""; // closed between the listing and the read
          }
        })
        .filter((target) => target.startsWith(`${tmp}/`));
    // A FileHandle nobody closed is closed by the garbage collector, with this warning.
    const collected: string[] = [];
    const onWarning = (w: Error) => {
      if (/garbage collection/.test(w.message)) collected.push(w.message);
    };
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 20; i++) await truncatedPut(t.url, alice.token, 3000, 1000 + i);
      await until(() => tmpFiles().length === 0);
      // The store closes a temporary file before removing it: once none is left, none may be open.
      expect(openTemporary()).toEqual([]);
      expect(collected).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("refuses malformed safetensors and pickle files with the reason, leaving no row and no blob", async () => {
    const before = await blobs(t.hub.blobs);
    const good = peftFilesFor(manifest);
    const garbage = await uploadFiles(t.url, alice.token, {
      "adapter_config.json": good["adapter_config.json"]!,
      "adapter_model.safetensors": new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]),
    });
    const malformed = await alice.client.adapters.publish
      .mutate({ name: "broken", version: "v1", base: "gpt2-tiny", files: garbage })
      .catch((e) => e);
    expect(malformed.data.code).toBe("BAD_REQUEST");
    expect(malformed.message).toMatch(/safetensors|header/i);
    const pickle = await uploadFiles(t.url, alice.token, {
      "adapter_config.json": good["adapter_config.json"]!,
      "adapter_model.bin": new Uint8Array([0x80, 2, 3]),
    });
    const refused = await alice.client.adapters.publish
      .mutate({ name: "pickled", version: "v1", base: "gpt2-tiny", files: pickle })
      .catch((e) => e);
    expect(refused.data.code).toBe("BAD_REQUEST");
    expect(refused.message).toContain("Pickle files can run arbitrary code");
    expect(await t.hub.database.db.select().from(adapters)).toEqual([]);
    expect(await blobs(t.hub.blobs)).toEqual(before);
  });

  it("refuses file names with '..', absolute paths or NUL before reading anything", async () => {
    const [config] = await uploadFiles(t.url, alice.token, {
      "adapter_config.json": peftFilesFor(manifest)["adapter_config.json"]!,
    });
    for (const path of [
      "../adapter_config.json",
      "a/../../etc/passwd",
      "/etc/passwd",
      "adapter\0config.json",
      "C:\\x",
      "a\\b",
    ]) {
      const error = await alice.client.adapters.publish
        .mutate({ name: "paths", version: "v1", base: "gpt2-tiny", files: [{ ...config!, path }] })
        .catch((e) => e);
      expect(error.data?.code, path).toBe("BAD_REQUEST");
    }
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.constantFrom("..", "/", "\0", "\\"), (a, b, bad) => {
        const path = bad === "/" ? `/${a}${b}` : bad === ".." ? `${a}/../${b}` : `${a}${bad}${b}`;
        expect(filePathSchema.safeParse(path).success).toBe(false);
      }),
    );
  });

  it("answers random and mutated publish input with a typed 4xx error, never a 500, and writes nothing", async () => {
    const versionsBefore = (await t.hub.database.db.select().from(adapterVersions)).length;
    const valid = {
      name: "fuzz",
      version: "v1",
      base: "gpt2-tiny",
      files: [{ path: "adapter_config.json", sha256: "a".repeat(64), size: 3 }],
    };
    const mutated = fc.oneof(
      fc.anything(),
      fc.record({
        name: fc.string(),
        version: fc.string(),
        base: fc.string(),
        files: fc.array(fc.record({ path: fc.string(), sha256: fc.string(), size: fc.integer() })),
      }),
      fc.constantFrom(...Object.keys(valid)).chain((key) => fc.anything().map((v) => ({ ...valid, [key]: v }))),
    );
    await fc.assert(
      fc.asyncProperty(mutated, async (input) => {
        const response = await fetch(`${t.url}/api/trpc/adapters.publish`, {
          method: "POST",
          headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
          body: JSON.stringify({ json: input }),
        });
        expect([400, 404]).toContain(response.status);
      }),
      { numRuns: 60 },
    );
    expect((await t.hub.database.db.select().from(adapterVersions)).length).toBe(versionsBefore);
  });

  it("stores tokens hashed with the hf_ prefix, lists them without the secret, and refuses a revoked one", async () => {
    const created = await alice.client.tokens.create.mutate({ name: "ci" });
    expect(created.token).toMatch(/^hf_[A-Za-z]{64}$/);
    const [row] = await t.hub.database.db.select().from(apikey).where(eq(apikey.id, created.id));
    expect(row?.key).not.toContain(created.token.slice(3));
    const listed = await alice.client.tokens.list.query();
    expect(JSON.stringify(listed)).not.toContain(created.token);
    const withToken = hubClient(t.url, { token: created.token });
    await uploadFiles(t.url, created.token, { a: new Uint8Array([1]) });
    await alice.client.tokens.revoke.mutate({ id: created.id });
    const put = await fetch(`${t.url}/api/uploads`, {
      method: "PUT",
      headers: { authorization: `Bearer ${created.token}` },
      body: new Uint8Array([1]),
    });
    expect(put.status).toBe(401);
    await expect(withToken.tokens.list.query()).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
  });

  it("refuses cookie-authenticated writes from another site (CSRF), but not the same request with a token", async () => {
    const { cookie } = await t.signUp("erin");
    const forged = await fetch(`${t.url}/api/trpc/tokens.create`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", "content-type": "text/plain" },
      body: JSON.stringify({ json: { name: "stolen" } }),
    });
    expect(forged.status).toBe(403);
    const upload = await fetch(`${t.url}/api/uploads`, {
      method: "PUT",
      headers: { cookie, origin: "https://evil.example" },
      body: new Uint8Array([1]),
    });
    expect(upload.status).toBe(403);
    const sameSite = await fetch(`${t.url}/api/trpc/tokens.create`, {
      method: "POST",
      headers: { cookie, origin: t.url, "content-type": "application/json" },
      body: JSON.stringify({ json: { name: "mine" } }),
    });
    expect(sameSite.status).toBe(200);
  });

  it("rate limits sign-in attempts per client address", async () => {
    const attempt = () =>
      fetch(`${t.url}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: t.url, "x-forwarded-for": "203.0.113.9" },
        body: JSON.stringify({ email: "alice@example.com", password: "wrong password" }),
      }).then((r) => r.status);
    const statuses = [await attempt(), await attempt(), await attempt(), await attempt()];
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses[3]).toBe(429);
  });

  it("refuses to serve a blob damaged on disk (the download fails instead of returning wrong bytes)", async () => {
    const files = peftFilesFor(manifest, { seed: 77 });
    const published = await alice.client.adapters.publish.mutate({
      name: "damaged",
      version: "v1",
      base: "gpt2-tiny",
      files: await uploadFiles(t.url, alice.token, files),
    });
    const weights = published.files.find((f) => f.path === "adapter_model.safetensors")!;
    const disk = t.hub.blobs as DiskBlobStore;
    writeFileSync(join(disk.root, "sha256", weights.sha256.slice(0, 2), weights.sha256), new Uint8Array(weights.size));
    await expect(
      fetch(`${t.url}/alice/damaged/resolve/main/adapter_model.safetensors`).then((r) => r.arrayBuffer()),
    ).rejects.toThrow();
  });
});

describe("a hub process killed during an upload", () => {
  it("restarts with no half-published version, no temporary file and no orphan blob", async () => {
    const dataDir = await migratedPgliteDir();
    const tsxDist = join(fileURLToPath(new URL("../../../", import.meta.url)), "node_modules/tsx/dist");
    const tsx = join(tsxDist, "cli.mjs");
    // Node itself with tsx's loader, not tsx's CLI: the CLI runs the script in a second process, so
    // killing the CLI would leave the hub serving (and the upload going on) in an orphan.
    const child = spawn(
      process.execPath,
      [
        "--import",
        pathToFileURL(join(tsxDist, "loader.mjs")).href,
        "--conditions=@lowrank/source",
        fileURLToPath(new URL("fixtures/hubProcess.ts", import.meta.url)),
        dataDir,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => resolve(d.toString().trim()));
        child.once("exit", (code) => reject(new Error(`hub process exited with ${code}`)));
      });
      const signUp = await fetch(`${url}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: url },
        body: JSON.stringify({
          email: "c@example.com",
          password: "correct horse battery",
          name: "c",
          username: "carol",
        }),
      });
      const cookie = signUp.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const { token } = await hubClient(url, { cookie }).tokens.create.mutate({ name: "crash" });
      // One upload finished but never published (an orphan once the publisher is gone)...
      await uploadFiles(url, token, { "adapter_model.safetensors": new Uint8Array(2000).fill(3) });
      // ...and one in flight when the process dies.
      const { hostname, port } = new URL(url);
      const socket = connect(Number(port), hostname);
      await new Promise((r) => socket.once("connect", r));
      socket.write(
        `PUT /api/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 100000\r\n\r\n`,
      );
      socket.write(Buffer.alloc(20_000, 1));
      const tmp = join(dataDir, "blobs", "tmp");
      await until(() => existsSync(tmp) && readdirSync(tmp).length > 0);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      socket.destroy();
      expect(readdirSync(tmp).length).toBeGreaterThan(0);
      // Nothing answers any more: the process that served is the one killed, no orphan serves on.
      const after = await fetch(url).then(
        () => "answered",
        (e: Error) => (e.cause as { code?: string } | undefined)?.code,
      );
      expect(after).toBe("ECONNREFUSED");

      // A fresh process opens the folder, as the restarted hub would.
      const recovered = execFileSync(
        process.execPath,
        [
          tsx,
          "--conditions=@lowrank/source",
          fileURLToPath(new URL("fixtures/recoverProcess.ts", import.meta.url)),
          dataDir,
        ],
        { encoding: "utf8" },
      );
      expect(JSON.parse(recovered)).toEqual({ temporary: [], blobs: [], versions: 0 });
    } finally {
      child.kill("SIGKILL");
      child.stdout.destroy();
    }
  });
});
