import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { captureIO, login, runCli } from "@lowrank/cli";
import { adapterDigest, type BaseManifest } from "@lowrank/formats";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../src/hub/seed.js";
import { hubClient, peftFilesFor, startTestHub, type TestHub } from "../src/testing.js";

// `lowrank login / publish / search / pull` against a running hub: the CLI only speaks HTTP to it.
describe("lowrank CLI against a hub", () => {
  let t: TestHub;
  let token: string;
  let manifest: BaseManifest;
  const folders: string[] = [];
  const saved = { LOWRANK_CONFIG_DIR: process.env.LOWRANK_CONFIG_DIR, LOWRANK_HUB: process.env.LOWRANK_HUB };
  const temp = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    folders.push(dir);
    return dir;
  };
  const cli = async (...argv: string[]) => {
    const io = captureIO();
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };

  beforeAll(async () => {
    t = await startTestHub();
    const admin = await t.signUp("admin", "admin@example.com");
    manifest = await t.registerTinyGpt2(admin.client);
    ({ token } = await t.signUp("dana"));
    process.env.LOWRANK_CONFIG_DIR = temp("lowrank-config-");
    delete process.env.LOWRANK_HUB;
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await t?.close();
    for (const f of folders) rmSync(f, { recursive: true, force: true });
  });

  it("login stores the token outside the repo with mode 0600; email sign-in makes a new token", async () => {
    const first = await cli("login", "--hub", t.url, "--token", token, "--json");
    expect(first.code, first.err + first.out).toBe(0);
    const result = JSON.parse(first.out);
    expect(result.username).toBe("dana");
    expect(statSync(result.credentials).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(result.credentials, "utf8")).hubs[t.url].token).toBe(token);
    const viaPassword = await login(
      { hub: t.url, email: "dana@example.com", passwordStdin: true },
      Readable.from(["correct horse battery\n"]),
    );
    expect(viaPassword.username).toBe("dana");
    const stored = JSON.parse(readFileSync(result.credentials, "utf8")).hubs[t.url].token;
    expect(stored).toMatch(/^hf_/);
    expect(stored).not.toBe(token);
    expect((await cli("login", "--hub", t.url, "--token", "not-a-token")).code).toBe(1);
  });

  it("publish, search and pull round-trip an adapter whose pulled files have the published digests", async () => {
    const dir = join(temp("lowrank-publish-"), "tiny-chat");
    const files = peftFilesFor(manifest, {
      seed: 21,
      readme: "---\nbase_model: gpt2-tiny\ntags: [chat]\n---\n# Tiny chat\n\nA chatty tiny adapter.\n",
    });
    (await import("node:fs")).mkdirSync(dir);
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const published = await cli("publish", dir, "--version", "v1", "--json");
    expect(published.code, published.out + published.err).toBe(0);
    const p = JSON.parse(published.out);
    expect(p).toMatchObject({ owner: "dana", name: "tiny-chat", version: "v1", format: "peft" });
    expect(p.digest).toBe(
      adapterDigest({
        "adapter_config.json": files["adapter_config.json"]!,
        "adapter_model.safetensors": files["adapter_model.safetensors"]!,
      }),
    );

    const found = await cli("search", "chatty", "--base", "gpt2-tiny", "--json");
    expect(JSON.parse(found.out).items.map((i: { name: string }) => i.name)).toEqual(["tiny-chat"]);
    const human = await cli("search", "chatty");
    expect(human.out).toContain("dana/tiny-chat");

    const out = join(temp("lowrank-pull-"), "pulled");
    const pulled = await cli("pull", "dana/tiny-chat@v1", "--out", out, "--json");
    expect(pulled.code, pulled.out + pulled.err).toBe(0);
    expect(JSON.parse(pulled.out).digest).toBe(p.digest);
    expect(new Uint8Array(readFileSync(join(out, "adapter_model.safetensors")))).toEqual(
      files["adapter_model.safetensors"],
    );
  });

  it("serve --hub loads owner/name[@version] on demand, pulled once into a cache folder named by the digest", async () => {
    const { serve } = await import("@lowrank/cli");
    await seedDemo(t.hub);
    const cache = temp("lowrank-hub-cache-");
    const fixtures = new URL("../../../fixtures/hf-gpt2-lmhead-tiny", import.meta.url).pathname;
    const server = await serve({
      base: fixtures,
      port: 0,
      host: "127.0.0.1",
      backend: "wasm",
      mode: "unmerged",
      maxBatch: 8,
      maxWaitMs: 1,
      cacheMb: 64,
      hub: t.url,
      hubCache: cache,
    });
    try {
      const load = async (name: string) =>
        (
          await fetch(`${server.url}/v1/adapters/load`, { method: "POST", body: JSON.stringify({ name }) })
        ).json() as Promise<{ adapter: { name: string; digest: string } }>;
      const first = await load("lowrank/gpt2-lmhead-tiny-demo");
      const info = await hubClient(t.url).adapters.get.query({ owner: "lowrank", name: "gpt2-lmhead-tiny-demo" });
      expect(first.adapter.digest).toBe(info.version.digest);
      expect(readdirSync(cache)).toEqual([info.version.digest]);
      await load("lowrank/gpt2-lmhead-tiny-demo@v1");
      expect(readdirSync(cache)).toEqual([info.version.digest]);
      const forward = await fetch(`${server.url}/v1/forward`, {
        method: "POST",
        body: JSON.stringify({ adapter: "lowrank/gpt2-lmhead-tiny-demo", input_ids: [1, 2, 3] }),
      });
      expect(forward.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("refuses a pickle folder locally, before uploading, with the reason", async () => {
    const dir = temp("lowrank-pickle-");
    writeFileSync(join(dir, "adapter_config.json"), "{}");
    writeFileSync(join(dir, "adapter_model.bin"), "pickle");
    const r = await cli("publish", dir, "--base", "gpt2-tiny");
    expect(r.code).toBe(1);
    expect(r.err).toContain("Pickle files can run arbitrary code");
  });

  it("answers random arguments to publish, pull and search with exit 1 or 2 and one line, never a crash", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("publish", "pull", "search"),
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
        async (command, args) => {
          const r = await cli(command, ...args, "--hub", "http://127.0.0.1:9");
          expect([0, 1, 2]).toContain(r.code);
          if (r.code === 1) expect(r.err.trim().split("\n")).toHaveLength(1);
        },
      ),
      { numRuns: 30 },
    );
  });
});
