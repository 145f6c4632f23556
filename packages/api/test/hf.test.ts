import { createHash } from "node:crypto";
import { downloadFile, listFiles, listModels, modelInfo } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HubClient, peftFilesFor, startTestHub, type TestHub, uploadFiles } from "../src/testing.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

// The real @huggingface/hub npm client pointed at a lowrank hub (hubUrl, accessToken).
describe("Hugging Face-compatible routes with the @huggingface/hub client", () => {
  let t: TestHub;
  let alice: { token: string; client: HubClient };
  let files: Record<string, Uint8Array>;
  let digest: string;

  beforeAll(async () => {
    t = await startTestHub();
    const admin = await t.signUp("admin", "admin@example.com");
    const manifest = await t.registerTinyGpt2(admin.client);
    alice = await t.signUp("alice");
    files = peftFilesFor(manifest, { r: 2, readme: "---\ntags: [hf-test]\n---\n# HF client test\n" });
    digest = (
      await alice.client.adapters.publish.mutate({
        name: "hf-adapter",
        version: "v1",
        base: "gpt2-tiny",
        files: await uploadFiles(t.url, alice.token, files),
      })
    ).digest;
    for (let i = 0; i < 5; i++) {
      await alice.client.adapters.publish.mutate({
        name: `paged-${i}`,
        version: "v1",
        base: "gpt2-tiny",
        files: await uploadFiles(t.url, alice.token, peftFilesFor(manifest, { seed: 100 + i })),
      });
    }
  });
  afterAll(async () => t?.close());

  it("listModels: search, author, tag filter, and Link paging past the page size", async () => {
    const found = [];
    for await (const m of listModels({ hubUrl: t.url, accessToken: alice.token, search: { query: "hf-adapter" } }))
      found.push(m);
    expect(found.map((m) => m.name)).toEqual(["alice/hf-adapter"]);
    const tagged = [];
    for await (const m of listModels({ hubUrl: t.url, search: { tags: ["hf-test"] } })) tagged.push(m.name);
    expect(tagged).toEqual(["alice/hf-adapter"]);
    // Page size 2 on the server side, 6 models: the client follows the absolute Link header.
    const response = await fetch(`${t.url}/api/models?author=alice&limit=2&sort=createdAt`);
    expect(response.headers.get("link")).toMatch(new RegExp(`^<${t.url}/api/models\\?.*cursor=.*>; rel="next"$`));
    const all = [];
    for await (const m of listModels({ hubUrl: t.url, search: { owner: "alice" }, limit: 6, sort: "createdAt" }))
      all.push(m.name);
    expect(new Set(all).size).toBe(6);
  });

  it("modelInfo and listFiles describe the latest version by its commit and file digests", async () => {
    const info = await modelInfo({
      name: "alice/hf-adapter",
      hubUrl: t.url,
      additionalFields: ["sha", "cardData", "tags"],
    });
    expect(info.name).toBe("alice/hf-adapter");
    expect(info.sha).toBe(digest.slice(0, 40));
    expect(info.cardData).toMatchObject({ base_model: "gpt2-tiny", library_name: "peft" });
    const listed = [];
    for await (const f of listFiles({ repo: { type: "model", name: "alice/hf-adapter" }, hubUrl: t.url }))
      listed.push(f);
    const weights = listed.find((f) => f.path === "adapter_model.safetensors");
    expect(weights).toMatchObject({
      type: "file",
      size: files["adapter_model.safetensors"]!.length,
      lfs: { oid: sha(files["adapter_model.safetensors"]!) },
    });
    const byCommit = [];
    for await (const f of listFiles({
      repo: { type: "model", name: "alice/hf-adapter" },
      hubUrl: t.url,
      revision: info.sha,
    }))
      byCommit.push(f.path);
    expect(byCommit).toEqual(listed.map((f) => f.path));
  });

  it("downloadFile: whole and sliced bytes match the published digests; a missing file is null", async () => {
    const weights = files["adapter_model.safetensors"]!;
    const blob = await downloadFile({
      repo: "alice/hf-adapter",
      path: "adapter_model.safetensors",
      hubUrl: t.url,
      accessToken: alice.token,
    });
    expect(blob).not.toBeNull();
    const whole = new Uint8Array(await blob!.arrayBuffer());
    expect(sha(whole)).toBe(sha(weights));
    const slice = new Uint8Array(await blob!.slice(8, 40).arrayBuffer());
    expect(slice).toEqual(weights.subarray(8, 40));
    const byVersion = await downloadFile({
      repo: "alice/hf-adapter",
      path: "adapter_config.json",
      revision: "v1",
      hubUrl: t.url,
    });
    expect(new Uint8Array(await byVersion!.arrayBuffer())).toEqual(files["adapter_config.json"]);
    expect(await downloadFile({ repo: "alice/hf-adapter", path: "nope.bin", hubUrl: t.url })).toBeNull();
  });

  it("HEAD answers the header contract of Python's hf_hub_download; ranges answer 206 and 416", async () => {
    const url = `${t.url}/alice/hf-adapter/resolve/main/adapter_model.safetensors`;
    const size = files["adapter_model.safetensors"]!.length;
    const head = await fetch(url, { method: "HEAD", headers: { "accept-encoding": "identity" } });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-repo-commit")).toBe(digest.slice(0, 40));
    expect(head.headers.get("x-linked-etag")).toBe(`"${sha(files["adapter_model.safetensors"]!)}"`);
    expect(head.headers.get("etag")).toBe(`"${sha(files["adapter_model.safetensors"]!)}"`);
    expect(head.headers.get("x-linked-size")).toBe(String(size));
    expect(head.headers.get("content-length")).toBe(String(size));
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    const first = await fetch(url, { headers: { range: "bytes=0-0" } });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-0/${size}`);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(files["adapter_model.safetensors"]!.subarray(0, 1));
    const suffix = await fetch(url, { headers: { range: "bytes=-5" } });
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(files["adapter_model.safetensors"]!.subarray(size - 5));
    const beyond = await fetch(url, { headers: { range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${size}`);
    for (const [path, code] of [
      ["/alice/none/resolve/main/x", "RepoNotFound"],
      ["/alice/hf-adapter/resolve/v9/adapter_config.json", "RevisionNotFound"],
      ["/alice/hf-adapter/resolve/main/missing.json", "EntryNotFound"],
    ] as const) {
      const r = await fetch(`${t.url}${path}`, { method: "HEAD" });
      expect(r.status).toBe(404);
      expect(r.headers.get("x-error-code")).toBe(code);
    }
  });

  it("counts a full download of the weights", async () => {
    const before = (await alice.client.adapters.get.query({ owner: "alice", name: "hf-adapter" })).adapter.downloads;
    await (await fetch(`${t.url}/alice/hf-adapter/resolve/main/adapter_model.safetensors`)).arrayBuffer();
    const after = (await alice.client.adapters.get.query({ owner: "alice", name: "hf-adapter" })).adapter.downloads;
    expect(after).toBe(before + 1);
  });
});
