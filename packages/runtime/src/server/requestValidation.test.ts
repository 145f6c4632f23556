import { mkdir, realpath, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine/Engine.js";
import { createSyntheticCausalLm, createSyntheticMlp } from "../engine/synthetic.js";
import type { Gpt2 } from "../models/Gpt2.js";
import { generateIds } from "../models/generate.js";
import { loadHfModel } from "../models/loadHfModel.js";
import { loadTokenizer } from "../tokenizer/loadTokenizer.js";
import { type EngineServer, startEngineServer } from "./startEngineServer.js";
import { adapterFolders, request } from "./testing.js";

const mlp = createSyntheticMlp({ dims: [12, 20, 6], seed: 6 });
const lm = createSyntheticCausalLm({ vocab: 17, dim: 16, layers: 2, seed: 2 });
let dir: string;
let outside: string;
let server: EngineServer;
const call = (method: string, route: string, body?: unknown) => request(server.url, method, route, body);

beforeAll(async () => {
  dir = await adapterFolders([
    { name: "m", base: mlp, spec: { rank: 2, seed: 1 } },
    { name: "chat", base: lm, spec: { rank: 4, seed: 3, alpha: 64 } },
  ]);
  outside = await adapterFolders([{ name: "secret", base: mlp, spec: { rank: 2, seed: 9 } }]);
  await symlink(path.join(outside, "secret"), path.join(dir, "link-out"));
  await mkdir(path.join(dir, "nested"));
  await symlink(path.join(dir, "m"), path.join(dir, "nested", "link-in"));
  const engine = new Engine({ maxWaitMs: 0 });
  engine.addBase("mlp", mlp);
  engine.addBase("lm", lm);
  server = await startEngineServer({ engine, adaptersRoot: dir });
  expect((await call("POST", "/v1/adapters/load", { path: "m", base: "mlp" })).status).toBe(200);
  expect((await call("POST", "/v1/adapters/load", { name: "chat", base: "lm" })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe("request validation (400 naming the field, never a 500)", () => {
  const cases: Array<[string, string, unknown, number, string, string]> = [
    [
      "out-of-vocabulary id",
      "/v1/forward",
      { base: "lm", input_ids: [1, 17] },
      400,
      "InvalidArgument",
      "input_ids[1]: expected an integer token id in [0, 17), found 17",
    ],
    [
      "GPT-2's vocabulary size as an id",
      "/v1/forward",
      { base: "lm", input_ids: [50257] },
      400,
      "InvalidArgument",
      "input_ids[0]",
    ],
    [
      "negative id",
      "/v1/forward",
      { base: "lm", input_ids: [-1] },
      400,
      "BadRequest",
      "input_ids[0]: expected an integer token id >= 0, found -1",
    ],
    [
      "fractional id",
      "/v1/forward",
      { base: "lm", input_ids: [2, 1.5] },
      400,
      "BadRequest",
      "input_ids[1]: expected an integer token id >= 0, found 1.5",
    ],
    [
      "empty ids",
      "/v1/forward",
      { base: "lm", input_ids: [] },
      400,
      "BadRequest",
      "input_ids: expected at least one token id",
    ],
    [
      "ids as a string",
      "/v1/forward",
      { base: "lm", input_ids: "1,2" },
      400,
      "BadRequest",
      "input_ids: expected an array of integer token ids",
    ],
    [
      "input of the wrong length",
      "/v1/forward",
      { base: "mlp", input: [1, 2, 3] },
      400,
      "InvalidArgument",
      "input: expected last dimension 12, found shape [3]",
    ],
    [
      "shape as a string",
      "/v1/forward",
      { base: "mlp", input: [1], shape: "abc" },
      400,
      "BadRequest",
      "shape: expected an array of positive integers",
    ],
    [
      "shape that disagrees with the input",
      "/v1/forward",
      { base: "mlp", input: Array(12).fill(0), shape: [3, 5] },
      400,
      "InvalidArgument",
      "input: expected 15 values for shape [3,5], found 12",
    ],
    [
      "both inputs",
      "/v1/forward",
      { base: "mlp", input: [1], input_ids: [1] },
      400,
      "BadRequest",
      "input_ids: expected exactly one of input_ids",
    ],
    [
      "neither input",
      "/v1/forward",
      { base: "mlp" },
      400,
      "BadRequest",
      "input_ids: expected exactly one of input_ids",
    ],
    [
      "overflowing scale",
      "/v1/forward",
      { base: "mlp", adapter: "m", scale: 1e308, input: Array(12).fill(1) },
      400,
      "InvalidArgument",
      "scale: expected a scale whose output is finite in float32, found 1e+308",
    ],
    [
      "scale as a string",
      "/v1/forward",
      { base: "mlp", scale: "2", input: Array(12).fill(1) },
      400,
      "BadRequest",
      'scale: expected a finite number, found "2"',
    ],
    [
      "adapter as a number",
      "/v1/forward",
      { base: "mlp", adapter: 5, input: Array(12).fill(1) },
      400,
      "BadRequest",
      "adapter: expected an adapter name",
    ],
    ["unknown field", "/v1/forward", { base: "mlp", inputs: [1] }, 400, "BadRequest", "body: Unrecognized key"],
    [
      "generate with an out-of-vocabulary prompt",
      "/v1/generate",
      { base: "lm", input_ids: [99], max_new_tokens: 2 },
      400,
      "InvalidArgument",
      "input_ids[0]",
    ],
    [
      "generate with too many tokens asked",
      "/v1/generate",
      { base: "lm", input_ids: [1], max_new_tokens: 5000 },
      400,
      "BadRequest",
      "max_new_tokens: expected an integer in 0..1024, found 5000",
    ],
    [
      "unload without a name",
      "/v1/adapters/unload",
      {},
      400,
      "BadRequest",
      "name: expected an adapter name or digest, found nothing",
    ],
    ["unload of an unknown adapter", "/v1/adapters/unload", { name: "nobody" }, 404, "NotFound", "adapter 'nobody'"],
    [
      "load with neither path nor name",
      "/v1/adapters/load",
      { base: "mlp" },
      400,
      "BadRequest",
      "name: expected {path} or {name}",
    ],
  ];
  it.each(cases)("%s", async (_what, route, body, status, code, message) => {
    const r = await call("POST", route, body);
    expect({ status: r.status, code: r.json.error?.code }).toEqual({ status, code });
    expect(r.json.error.message).toContain(message);
  });

  it("the same requests with valid values answer 200", async () => {
    expect((await call("POST", "/v1/forward", { base: "lm", input_ids: [0, 16] })).json.shape).toEqual([2, 17]);
    const ok = await call("POST", "/v1/forward", { base: "mlp", adapter: "m", scale: 1e3, input: Array(12).fill(1) });
    expect(ok.status).toBe(200);
    expect(ok.json.output.every(Number.isFinite)).toBe(true);
  });
});

describe("a real GPT-2 base", () => {
  it("answers 400 for ids outside its vocabulary (GatherV2 never sees them) and 200 inside", async () => {
    const model = await loadHfModel(fixturePath("hf-gpt2-tiny"));
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("gpt2", model);
    const gpt2 = await startEngineServer({ engine });
    try {
      const vocab = (model as { vocabSize?: number }).vocabSize as number;
      for (const id of [vocab, 50257, 2 ** 31]) {
        const r = await request(gpt2.url, "POST", "/v1/forward", { input_ids: [1, id] });
        expect([r.status, r.json.error.code, r.json.error.message]).toEqual([
          400,
          expect.any(String),
          expect.stringContaining("input_ids[1]"),
        ]);
      }
      const ok = await request(gpt2.url, "POST", "/v1/forward", { input_ids: [0, vocab - 1] });
      expect([ok.status, ok.json.shape[0]]).toEqual([200, 2]); // GPT2Model: hidden states per position
    } finally {
      await gpt2.close();
    }
  });
});

describe("/v1/generate on a GPT-2 LM head: the context limit and text prompts", () => {
  it("stops at the context limit with finish_reason 'length', as the CLI's generate does", async () => {
    const dir = fixturePath("hf-gpt2-lmhead-tiny");
    const model = (await loadHfModel(dir)) as Gpt2;
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("gpt2", model);
    const server = await startEngineServer({ engine });
    try {
      const limit = model.hparams.nPositions;
      const prompt = Array.from({ length: limit - 2 }, (_, i) => (i * 7) % 100);
      const r = await request(server.url, "POST", "/v1/generate", { input_ids: prompt, max_new_tokens: 10 });
      expect(r.status).toBe(200);
      // Forwards of limit-2, limit-1 and limit tokens fit; the fourth step would need limit+1 positions.
      expect([r.json.finish_reason, r.json.generated.length, r.json.tokens.length]).toEqual(["length", 3, limit + 1]);
      const cli = await generateIds(model, prompt, { maxNewTokens: 10, eosTokenId: null });
      expect([cli.finishReason, r.json.generated]).toEqual(["context", cli.generatedIds]);
      // KV-cached on the engine's generation scheduler: a prefill and two decode steps, no forward batch.
      expect([engine.stats().batches, engine.generation.stats().prefills, engine.generation.stats().steps]).toEqual([
        0, 1, 2,
      ]);
      const prompt2 = await request(server.url, "POST", "/v1/generate", {
        input_ids: [...prompt, 1, 2, 3],
        max_new_tokens: 1,
      });
      expect([prompt2.status, prompt2.json.error.message]).toEqual([400, expect.stringContaining("input_ids")]);
    } finally {
      await server.close();
    }
  });

  it("takes prompt text when the server has the tokenizer, and answers text too", async () => {
    const dir = fixturePath("hf-gpt2-lmhead-tiny");
    const model = (await loadHfModel(dir)) as Gpt2;
    const tokenizer = await loadTokenizer(dir);
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("gpt2", model);
    const withTok = await startEngineServer({ engine, tokenizer });
    try {
      const text = "Hello world, this is";
      const r = await request(withTok.url, "POST", "/v1/generate", { prompt: text, max_new_tokens: 4 });
      expect(r.status).toBe(200);
      const ids = tokenizer.encode(text);
      expect(r.json.tokens.slice(0, ids.length)).toEqual(ids);
      expect(r.json.text).toBe(tokenizer.decode(r.json.generated, { skipSpecialTokens: true }));
      const both = await request(withTok.url, "POST", "/v1/generate", { prompt: text, input_ids: [1] });
      expect([both.status, both.json.error.message]).toEqual([400, expect.stringContaining("input_ids")]);
      const empty = await request(withTok.url, "POST", "/v1/generate", { prompt: "" });
      expect([empty.status, empty.json.error.message]).toEqual([400, expect.stringContaining("prompt")]);
    } finally {
      await withTok.close();
    }
    const noTok = await startEngineServer({ engine: new Engine({ maxWaitMs: 0 }) });
    try {
      const r = await request(noTok.url, "POST", "/v1/generate", { prompt: "Hello" });
      expect([r.status, r.json.error.code, r.json.error.message]).toEqual([
        400,
        "BadRequest",
        expect.stringContaining("prompt"),
      ]);
    } finally {
      await noTok.close();
    }
  });
});

describe("loading adapters by path over HTTP stays inside --adapters", () => {
  it.each([
    ["a '..' path", { path: "../secret" }],
    ["an absolute path", { path: path.resolve(path.sep, "secret") }],
    ["a symlink that leads out", { path: "link-out" }],
    ["a '..' name", { name: ".." }],
    ["a nested '..'", { path: "nested/../../x" }],
  ])("refuses %s with 403 and registers nothing", async (_what, body) => {
    const before = (await call("GET", "/v1/adapters")).json.adapters.length;
    const r = await call("POST", "/v1/adapters/load", { ...body, base: "mlp" });
    expect({ status: r.status, code: r.json.error.code }).toEqual({ status: 403, code: "Forbidden" });
    expect((await call("GET", "/v1/adapters")).json.adapters.length).toBe(before);
  });

  it("follows a symlink that stays inside, and a failed load leaves nothing registered", async () => {
    const inside = await call("POST", "/v1/adapters/load", { path: "nested/link-in", name: "alias", base: "mlp" });
    expect(inside.status).toBe(200);
    expect(inside.json.adapter.path).toBe(path.join(await realpath(dir), "m"));
    const failed = await call("POST", "/v1/adapters/load", { path: "chat", name: "chat-on-mlp", base: "mlp" });
    expect(failed.status).toBe(422);
    const names = (await call("GET", "/v1/adapters")).json.adapters.map((a: { name: string }) => a.name);
    expect(names).toEqual(["m", "chat", "alias"]);
  });

  it("a failed load under a registered name restores that adapter as it was", async () => {
    const before = (await call("GET", "/v1/adapters")).json.adapters.find((a: { name: string }) => a.name === "m");
    const input = Array.from({ length: 12 }, (_, i) => i / 12);
    const served = await call("POST", "/v1/forward", { base: "mlp", adapter: "m", input });
    const failed = await call("POST", "/v1/adapters/load", { path: "chat", name: "m", base: "mlp" });
    expect([failed.status, failed.json.error.code]).toEqual([422, "AdapterMismatch"]);
    const after = (await call("GET", "/v1/adapters")).json.adapters.find((a: { name: string }) => a.name === "m");
    expect({ path: after.path, digest: after.digest }).toEqual({ path: before.path, digest: before.digest });
    const again = await call("POST", "/v1/forward", { base: "mlp", adapter: "m", input });
    expect(again.json.output).toEqual(served.json.output);
  });

  it("a name neither registered nor in --adapters goes to the server's own resolver (a hub cache); '..' never does", async () => {
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("mlp", createSyntheticMlp({ dims: [12, 20, 6], seed: 6 }));
    const asked: string[] = [];
    const hubbed = await startEngineServer({
      engine,
      adaptersRoot: dir,
      resolveAdapterPath: async (name) => {
        asked.push(name);
        return name === "owner/secret" ? path.join(outside, "secret") : undefined;
      },
    });
    try {
      const ok = await request(hubbed.url, "POST", "/v1/adapters/load", { name: "owner/secret" });
      expect([ok.status, ok.json.adapter.name]).toEqual([200, "owner/secret"]);
      const local = await request(hubbed.url, "POST", "/v1/adapters/load", { name: "m" });
      expect(local.status).toBe(200);
      const up = await request(hubbed.url, "POST", "/v1/adapters/load", { name: "../secret" });
      expect([up.status, up.json.error.code]).toEqual([403, "Forbidden"]);
      const none = await request(hubbed.url, "POST", "/v1/adapters/load", { name: "nobody" });
      expect([none.status, none.json.error.code]).toEqual([404, "NotFound"]);
      expect(asked).toEqual(["owner/secret", "nobody"]);
    } finally {
      await hubbed.close();
    }
  });

  it("a server without --adapters refuses every load by path with 403", async () => {
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("mlp", createSyntheticMlp({ dims: [4, 2] }));
    const bare = await startEngineServer({ engine });
    try {
      const r = await request(bare.url, "POST", "/v1/adapters/load", { path: "m" });
      expect([r.status, r.json.error.code]).toEqual([403, "Forbidden"]);
    } finally {
      await bare.close();
    }
  });
});

describe("unload", () => {
  it("answers 404 for an unknown name and 200 for a known one (forget unregisters it)", async () => {
    expect((await call("POST", "/v1/adapters/unload", { name: "ghost", forget: true })).status).toBe(404);
    await call("POST", "/v1/adapters/load", { path: "m", name: "temp", base: "mlp" });
    expect((await call("POST", "/v1/adapters/unload", { name: "temp", forget: true })).json).toEqual({
      unloaded: true,
    });
    expect((await call("POST", "/v1/adapters/unload", { name: "temp" })).status).toBe(404);
  });
});

describe("routes added by other modules", () => {
  it("are schema-checked like the built-in ones, can stream, and may not shadow a built-in route", async () => {
    const { z } = await import("zod");
    const { defineRoute, RouteStream } = await import("./defineRoute.js");
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("mlp", createSyntheticMlp({ dims: [4, 2] }));
    const echo = defineRoute({
      method: "POST",
      path: "/v1/echo",
      body: z.strictObject({ words: z.array(z.string()).min(1) }),
      handle: async (body) =>
        new RouteStream(
          (async function* () {
            for (const w of body.words) yield `data: ${w}\n\n`;
          })(),
        ),
    });
    const extra = await startEngineServer({ engine, routes: [echo] });
    try {
      const res = await fetch(`${extra.url}/v1/echo`, { method: "POST", body: JSON.stringify({ words: ["a", "b"] }) });
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      expect(await res.text()).toBe("data: a\n\ndata: b\n\n");
      const bad = await request(extra.url, "POST", "/v1/echo", { words: [] });
      expect([bad.status, bad.json.error.code]).toEqual([400, "BadRequest"]);
      expect(bad.json.error.message).toContain("words");
    } finally {
      await extra.close();
    }
    const clash = defineRoute({ method: "GET", path: "/healthz", handle: async () => ({}) });
    await expect(startEngineServer({ engine: new Engine(), routes: [clash] })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
  });
});
