import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine/Engine.js";
import {
  createSyntheticCausalLm,
  createSyntheticMlp,
  seededValues,
  syntheticAdapterArrays,
} from "../engine/synthetic.js";
import { syntheticPeftFiles } from "../engine/syntheticPeft.js";
import { mlpArrays, referenceMlp } from "../engine/testing.js";
import { type EngineServer, startEngineServer } from "./startEngineServer.js";
import { type JsonAnswer, request } from "./testing.js";

const DIMS = [12, 20, 6];
let dir: string;
let server: EngineServer;
let engine: Engine;
const mlp = createSyntheticMlp({ dims: DIMS, seed: 6 });
const lm = createSyntheticCausalLm({ vocab: 17, dim: 16, layers: 2, seed: 2 });

function call(method: string, route: string, body?: unknown): Promise<JsonAnswer> {
  return request(server.url, method, route, body);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-serve-"));
  for (let i = 0; i < 5; i++) {
    const files = syntheticPeftFiles(mlp, { rank: 2 + i, seed: 40 + i });
    await mkdir(path.join(dir, `t${i}`));
    await writeFile(path.join(dir, `t${i}`, "adapter_config.json"), files.config);
    await writeFile(path.join(dir, `t${i}`, "adapter_model.safetensors"), files.weights);
  }
  const lmFiles = syntheticPeftFiles(lm, { rank: 4, seed: 3, alpha: 64 });
  await mkdir(path.join(dir, "chat"));
  await writeFile(path.join(dir, "chat", "adapter_config.json"), lmFiles.config);
  await writeFile(path.join(dir, "chat", "adapter_model.safetensors"), lmFiles.weights);
  engine = new Engine({ maxWaitMs: 2 }); // batch composition is tested with a manual-flush engine below
  engine.addBase("mlp", mlp);
  engine.addBase("lm", lm);
  server = await startEngineServer({ engine, port: 0, adaptersRoot: dir });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("engine HTTP server", () => {
  it("answers healthz, loads adapters by path and by name, lists and unloads them", async () => {
    expect(await call("GET", "/healthz")).toMatchObject({ status: 200, json: { ok: true, bases: ["mlp", "lm"] } });
    const byPath = await call("POST", "/v1/adapters/load", { path: "t0", base: "mlp" });
    expect(byPath.status).toBe(200);
    expect(byPath.json.adapter).toMatchObject({ name: "t0", source: "folder", loaded: [{ base: "mlp", rank: 2 }] });
    expect(byPath.json.adapter.digest).toMatch(/^[0-9a-f]{64}$/);
    const byName = await call("POST", "/v1/adapters/load", { name: "t1", base: "mlp" });
    expect(byName.json.adapter).toMatchObject({ name: "t1", loaded: [{ base: "mlp", rank: 3 }] });
    const list = await call("GET", "/v1/adapters");
    expect(list.json.adapters.map((a: { name: string }) => a.name)).toEqual(["t0", "t1"]);
    expect(await call("POST", "/v1/adapters/unload", { name: "t1" })).toMatchObject({
      status: 200,
      json: { unloaded: true },
    });
    expect((await call("GET", "/v1/adapters")).json.adapters[1].loaded).toEqual([]);
  });

  it("serves concurrent forwards for several adapters in one batch, each equal to the reference", async () => {
    // A server of its own whose engine batches only on flush(): all 20 requests share one batch, whatever the timing.
    const manual = new Engine({ flush: "manual" });
    const mlp2 = createSyntheticMlp({ dims: DIMS, seed: 6 });
    manual.addBase("mlp", mlp2);
    const own = await startEngineServer({ engine: manual, port: 0, adaptersRoot: dir });
    const post = async (route: string, body: unknown) => {
      const res = await fetch(own.url + route, { method: "POST", body: JSON.stringify(body) });
      return {
        status: res.status,
        json: (await res.json()) as { output: number[]; shape: number[]; batch_size: number },
      };
    };
    for (let i = 0; i < 5; i++) await post("/v1/adapters/load", { name: `t${i}` });
    const ref = mlpArrays(mlp);
    const jobs = Array.from({ length: 20 }, (_, i) => ({
      adapter: i % 6 === 5 ? "__base__" : `t${i % 5}`,
      scale: 0.25 * (i % 4),
      input: Array.from(seededValues(i, 12)),
    }));
    const pending = Promise.all(jobs.map((j) => post("/v1/forward", j)));
    while (manual.stats().queued < jobs.length) await new Promise((r) => setImmediate(r));
    await manual.flush();
    const answers = await pending;
    answers.forEach((a, i) => {
      const j = jobs[i] as (typeof jobs)[number];
      expect(a.status).toBe(200);
      const k = Number(j.adapter.slice(1));
      const expected = referenceMlp(
        ref,
        j.input,
        j.adapter === "__base__" ? undefined : syntheticAdapterArrays(mlp, { rank: 2 + k, seed: 40 + k }),
        j.scale,
      );
      expect(a.json.shape).toEqual([6]);
      (a.json.output as number[]).forEach((v, o) => {
        expect(v).toBeCloseTo(expected[o] as number, 4);
      });
    });
    expect(answers.map((a) => a.json.batch_size)).toEqual(jobs.map(() => jobs.length));
    await own.close();
  });

  it("generates greedily on a causal-LM base; the adapter changes the continuation, the base never reloads", async () => {
    const plain = await call("POST", "/v1/generate", { base: "lm", input_ids: [1, 2, 3], max_new_tokens: 4 });
    expect(plain.status).toBe(200);
    expect(plain.json.generated).toHaveLength(4);
    expect(plain.json.tokens.slice(0, 3)).toEqual([1, 2, 3]);
    await call("POST", "/v1/adapters/load", { name: "chat", base: "lm" });
    const tuned = await call("POST", "/v1/generate", {
      base: "lm",
      adapter: "chat",
      scale: 4,
      input_ids: [1, 2, 3],
      max_new_tokens: 4,
    });
    expect(tuned.json.generated).not.toEqual(plain.json.generated);
    const again = await call("POST", "/v1/generate", { base: "lm", input_ids: [1, 2, 3], max_new_tokens: 4 });
    expect(again.json.generated).toEqual(plain.json.generated);
    expect(engine.stats().baseLoads).toBe(2); // mlp and lm, once each
  });

  it("samples with temperature and top_k, reproducibly per seed, also when requests run concurrently", async () => {
    const body = { base: "lm", input_ids: [1, 2, 3], max_new_tokens: 8, temperature: 1.5, top_k: 6 };
    const [a, b, c] = await Promise.all([
      call("POST", "/v1/generate", { ...body, seed: 3 }),
      call("POST", "/v1/generate", { ...body, seed: 3 }),
      call("POST", "/v1/generate", { ...body, seed: 4, input_ids: [1, 2] }),
    ]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(a.json.generated).toEqual(b.json.generated);
    expect(a.json.generated.every((t: number) => Number.isInteger(t) && t >= 0 && t < 17)).toBe(true);
    // Greedy would repeat itself here; sampling at temperature 1.5 from 6 candidates does not.
    const greedy = await call("POST", "/v1/generate", { ...body, temperature: 0, seed: 3 });
    const seeds = await Promise.all(
      [5, 6, 7, 8].map((seed) => call("POST", "/v1/generate", { ...body, seed }).then((r) => r.json.generated)),
    );
    expect(new Set([a.json.generated, ...seeds].map((g) => g.join(","))).size).toBeGreaterThan(1);
    expect(seeds.some((g) => g.join(",") !== greedy.json.generated.join(","))).toBe(true);
    const bad = await call("POST", "/v1/generate", { ...body, temperature: -1 });
    expect([bad.status, bad.json.error.code]).toEqual([400, "BadRequest"]);
    expect(bad.json.error.message).toBe("temperature: expected a finite number >= 0, found -1");
  });

  it("answers clear JSON errors with codes and statuses", async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ["POST", "/v1/forward", { base: "mlp", adapter: "nope", input: [1] }, 404, "NotFound"],
      ["POST", "/v1/forward", "{not json", 400, "BadRequest"],
      ["POST", "/v1/forward", { base: "mlp", input: [1, 2] }, 400, "InvalidArgument"],
      ["POST", "/v1/forward", { base: "mlp", input: "x" }, 400, "BadRequest"],
      ["GET", "/v1/forward", undefined, 405, "MethodNotAllowed"],
      ["GET", "/nowhere", undefined, 404, "NotFound"],
      ["POST", "/v1/adapters/load", { path: "t2" }, 400, "InvalidArgument"], // two bases: which one?
      ["POST", "/v1/generate", { base: "mlp", input_ids: [1], max_new_tokens: 1 }, 400, "InvalidArgument"],
      ["POST", "/v1/adapters/load", { path: "chat", name: "chat-on-mlp", base: "mlp" }, 422, "AdapterMismatch"],
      ["POST", "/v1/adapters/load", { path: "missing", base: "mlp" }, 404, "NotFound"],
      ["POST", "/v1/adapters/load", { path: path.join(dir, "t0"), base: "mlp" }, 403, "Forbidden"],
    ];
    for (const [method, route, body, status, code] of cases) {
      const r = await call(method, route, body);
      expect({ route, status: r.status, code: r.json.error?.code }).toEqual({ route, status, code });
      expect(typeof r.json.error.message).toBe("string");
    }
    const mismatch = await call("POST", "/v1/adapters/load", { path: "chat", name: "chat-on-mlp", base: "mlp" });
    expect(mismatch.json.error.message).toMatch(/'chat-on-mlp', layer 'lm_head': expected a linear module of base/);
    // the failed loads registered nothing
    const names = (await call("GET", "/v1/adapters")).json.adapters.map((a: { name: string }) => a.name);
    expect(names).not.toContain("chat-on-mlp");
    expect(names).not.toContain("t2");
    expect(
      await call("POST", "/v1/forward", { base: "mlp", adapter: "chat-on-mlp", input: Array(12).fill(0) }),
    ).toMatchObject({
      status: 404,
    });
  });

  it("shuts down gracefully: in-flight requests finish, new connections are refused", async () => {
    const pending = call("POST", "/v1/generate", { base: "lm", input_ids: [4, 5], max_new_tokens: 3 });
    // Close only once the server holds the request, so the test does not race the connection.
    for (let i = 0; i < 500 && server.inFlight() === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(server.inFlight()).toBeGreaterThan(0);
    await server.close();
    expect((await pending).status).toBe(200);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
