import { rm } from "node:fs/promises";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine/Engine.js";
import {
  createSyntheticCausalLm,
  createSyntheticMlp,
  seededValues,
  syntheticAdapterArrays,
} from "../engine/synthetic.js";
import { mlpArrays, referenceMlp } from "../engine/testing.js";
import { type EngineServer, startEngineServer } from "./startEngineServer.js";
import { adapterFolders, type JsonAnswer, request } from "./testing.js";

// Random and mutated requests against a running server: every answer is a typed 4xx or a correct 200, the
// server keeps answering /healthz, and a valid request after the barrage still gives the reference output.

const DIMS = [6, 8, 4];
const VOCAB = 11;
const mlp = createSyntheticMlp({ dims: DIMS, seed: 8 });
const lm = createSyntheticCausalLm({ vocab: VOCAB, dim: 8, layers: 1, seed: 4 });
const SPEC = { rank: 2, seed: 5 };
const ref = mlpArrays(mlp);
const TYPED_4XX = new Set([400, 403, 404, 405, 413, 422]);
let dir: string;
const MODES = ["unmerged", "merged"] as const;
const servers = new Map<(typeof MODES)[number], EngineServer>();

beforeAll(async () => {
  dir = await adapterFolders([
    { name: "a", base: mlp, spec: SPEC },
    { name: "t", base: lm, spec: { rank: 2, seed: 6 } },
  ]);
  for (const mode of MODES) {
    const engine = new Engine({ mode, maxWaitMs: 0, maxBatchSize: 4, maxQueued: 64 });
    engine.addBase("mlp", createSyntheticMlp({ dims: DIMS, seed: 8 }));
    engine.addBase("lm", createSyntheticCausalLm({ vocab: VOCAB, dim: 8, layers: 1, seed: 4 }));
    engine.registerAdapter("a", { kind: "folder", path: `${dir}/a` }); // as `lowrank serve --adapters` does
    servers.set(mode, await startEngineServer({ engine, adaptersRoot: dir, maxBodyBytes: 4096 }));
  }
});

afterAll(async () => {
  for (const server of servers.values()) await server.close();
  mlp.dispose();
  lm.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** A value of any JSON type, including the edge numbers that break naive parsers. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1.5, 1e308, -1e308, 2 ** 31, 2 ** 53, VOCAB, 50257, "", "abc", null, [], {}, [[1]]),
);

/** A valid body for each route, then mutated: a field dropped, replaced by anything, or an unknown one added. */
const validBody = fc.oneof(
  fc.record({
    route: fc.constant("/v1/forward"),
    body: fc.record({
      base: fc.constant("mlp"),
      adapter: fc.constantFrom("a", "__base__"),
      scale: fc.double({ min: -4, max: 4, noNaN: true }),
      input: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }),
    }),
  }),
  fc.record({
    route: fc.constant("/v1/forward"),
    body: fc.record({
      base: fc.constant("lm"),
      adapter: fc.constantFrom("t", "__base__"),
      input_ids: fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: 1, maxLength: 5 }),
    }),
  }),
  fc.record({
    route: fc.constant("/v1/generate"),
    body: fc.record({
      base: fc.constant("lm"),
      input_ids: fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { minLength: 1, maxLength: 4 }),
      max_new_tokens: fc.integer({ min: 0, max: 3 }),
    }),
  }),
  fc.record({
    route: fc.constant("/v1/adapters/load"),
    body: fc.record({ name: fc.constantFrom("a", "t", "../a", "/a", "zz", "."), base: fc.constantFrom("mlp", "lm") }),
  }),
  fc.record({
    route: fc.constant("/v1/adapters/unload"),
    body: fc.record({ name: fc.constantFrom("a", "t", "nobody") }),
  }),
);

const mutated = validBody.chain(({ route, body }) => {
  const keys = Object.keys(body);
  return fc.oneof(
    { arbitrary: fc.constant({ route, body: body as unknown }), weight: 4 },
    fc.record({ key: fc.constantFrom(...keys), value: anyJson }).map(({ key, value }) => ({
      route,
      body: { ...body, [key]: value } as unknown,
    })),
    fc.constantFrom(...keys).map((key) => {
      const { [key]: _, ...rest } = body as Record<string, unknown>;
      return { route, body: rest as unknown };
    }),
    fc.record({ key: fc.string({ maxLength: 8 }), value: anyJson }).map(({ key, value }) => ({
      route,
      body: { ...body, [key]: value } as unknown,
    })),
    // one element of an array field replaced (an id past the vocabulary, a fraction, a string...)
    fc.record({ at: fc.nat(), value: anyJson }).map(({ at, value }) => {
      const key = keys.find((k) => Array.isArray((body as Record<string, unknown>)[k]));
      if (!key) return { route, body: body as unknown };
      const list = [...((body as Record<string, unknown>)[key] as unknown[])];
      list[at % list.length] = value;
      return { route, body: { ...body, [key]: list } as unknown };
    }),
    anyJson.map((value) => ({ route, body: value as unknown })),
    fc.string({ maxLength: 40 }).map((text) => ({ route, body: `{${text}` as unknown })),
  );
});

/** Raw requests: any method on any known or unknown route, with any text. */
const raw = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE"),
  route: fc.constantFrom("/healthz", "/v1/adapters", "/v1/forward", "/v1/generate", "/nope", "/v1/adapters/load"),
  body: fc.option(fc.string({ maxLength: 5000 }), { nil: undefined }),
});

function checkAnswer(route: string, body: unknown, answer: JsonAnswer): void {
  if (answer.status !== 200) {
    expect(TYPED_4XX.has(answer.status), `status ${answer.status} for ${JSON.stringify(body)}`).toBe(true);
    expect(typeof answer.json.error.code).toBe("string");
    expect(answer.json.error.code).not.toBe("Internal");
    expect(typeof answer.json.error.message).toBe("string");
    return;
  }
  const b = body as Record<string, unknown>;
  if (route === "/v1/forward" && b.base === "mlp") {
    const expected = referenceMlp(
      ref,
      b.input as number[],
      b.adapter === "a" ? syntheticAdapterArrays(mlp, SPEC) : undefined,
      (b.scale as number | undefined) ?? 1,
    );
    expect(answer.json.shape).toEqual([DIMS[2]]);
    (answer.json.output as number[]).forEach((v, i) => {
      expect(Math.abs(v - (expected[i] as number))).toBeLessThan(1e-3 * (1 + Math.abs(expected[i] as number)));
    });
  } else if (route === "/v1/forward") {
    const ids = b.input_ids as number[];
    // a 200 is correct only for ids the model has: anything else must have been refused
    expect(
      ids.every((id) => Number.isInteger(id) && id >= 0 && id < VOCAB),
      JSON.stringify(ids),
    ).toBe(true);
    expect(answer.json.shape).toEqual([ids.length, VOCAB]);
    expect((answer.json.output as number[]).every(Number.isFinite)).toBe(true);
  } else if (route === "/v1/generate") {
    const ids = b.input_ids as number[];
    expect(
      ids.every((id) => Number.isInteger(id) && id >= 0 && id < VOCAB),
      JSON.stringify(ids),
    ).toBe(true);
    expect(answer.json.tokens.slice(0, ids.length)).toEqual(ids);
    expect(answer.json.generated.every((t: number) => Number.isInteger(t) && t >= 0 && t < VOCAB)).toBe(true);
  }
}

describe.each(MODES)("engine server (%s) under random and mutated requests", (mode) => {
  it("answers every request with a typed 4xx or a correct 200, keeps /healthz up, and still computes right", async () => {
    const server = servers.get(mode) as EngineServer;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(mutated, async ({ route, body }) => {
        const answer = await request(server.url, "POST", route, body);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        checkAnswer(route, body, answer);
      }),
      { numRuns: 250, seed: 20261201 },
    );
    // the barrage exercised both sides: many correct answers and many refusals
    expect(statuses.get(200) ?? 0).toBeGreaterThan(60);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(60);
    await fc.assert(
      fc.asyncProperty(raw, async ({ method, route, body }) => {
        const res = await fetch(server.url + route, { method, body: method === "GET" ? undefined : body });
        const json = (await res.json()) as { error?: { code: string } };
        if (res.status !== 200) {
          expect(TYPED_4XX.has(res.status), `${method} ${route} ${res.status}`).toBe(true);
          expect(json.error?.code).not.toBe("Internal");
        }
      }),
      { numRuns: 120, seed: 7 },
    );
    const health = await request(server.url, "GET", "/healthz");
    expect([health.status, health.json.ok]).toEqual([200, true]);
    await request(server.url, "POST", "/v1/adapters/load", { name: "a", base: "mlp" });
    const input = Array.from(seededValues(3, DIMS[0] as number));
    const after = await request(server.url, "POST", "/v1/forward", { base: "mlp", adapter: "a", scale: 0.5, input });
    const expected = referenceMlp(ref, input, syntheticAdapterArrays(mlp, SPEC), 0.5);
    expect(after.status).toBe(200);
    (after.json.output as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 4);
    });
  }, 120_000);
});
