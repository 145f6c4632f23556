// The OpenAI-compatible routes through the official `openai` npm client (baseURL at the server), on the
// fixture GPT-2 with its NumPy-checked greedy tokens as the expected text.
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import fc from "fast-check";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Engine } from "../engine/Engine.js";
import { GenerationScheduler } from "../generation/GenerationScheduler.js";
import type { Gpt2 } from "../models/Gpt2.js";
import { generateIds } from "../models/generate.js";
import { loadHfModel } from "../models/loadHfModel.js";
import { goldenPath, readGolden } from "../models/testing.js";
import { loadTokenizer, type TextTokenizer } from "../tokenizer/loadTokenizer.js";
import { type EngineServer, startEngineServer } from "./startEngineServer.js";

const g = readGolden<{ greedy_prompt_ids: number[]; greedy_base: number[]; greedy_adapter: number[] }>(
  "gpt2-lmhead-tiny",
);
const PROMPT = "The quick brown fox";
const TEMPLATE =
  "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

let tok: TextTokenizer;
let server: EngineServer;
let plain: EngineServer;
let scheduler: GenerationScheduler;
let client: OpenAI;
let model: Gpt2;

async function start(options: { chatTemplate?: string; maxQueued?: number }) {
  const engine = new Engine();
  const m = (await loadHfModel(fixturePath("hf-gpt2-lmhead-tiny"))) as Gpt2;
  engine.addBase("gpt2-tiny", m);
  engine.registerAdapter("lora", { kind: "folder", path: goldenPath("adapters", "gpt2-lmhead-tiny-lora") });
  const s = new GenerationScheduler(engine, { maxQueued: options.maxQueued });
  const srv = await startEngineServer({
    engine,
    openai: { scheduler: s, tokenizer: tok, chatTemplate: options.chatTemplate },
  });
  return { srv, s, m };
}

beforeAll(async () => {
  tok = await loadTokenizer(fixturePath("hf-gpt2-lmhead-tiny"));
  const a = await start({ chatTemplate: TEMPLATE });
  server = a.srv;
  scheduler = a.s;
  model = a.m;
  plain = (await start({ maxQueued: 0 })).srv;
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
  await plain.close();
});

const text = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });

describe("OpenAI-compatible API with the openai client", () => {
  it("lists the base and each adapter as models", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["gpt2-tiny", "lora"]);
  });

  it("runs /v1/generate on the same scheduler, with NumPy's greedy tokens", async () => {
    const before = scheduler.stats().prefills;
    const r = await fetch(`${server.url}/v1/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ adapter: "lora", input_ids: g.greedy_prompt_ids, max_new_tokens: 6 }),
    });
    const body = (await r.json()) as { generated: number[]; finish_reason: string };
    expect([r.status, body.generated, body.finish_reason]).toEqual([200, g.greedy_adapter, "length"]);
    expect(scheduler.stats().prefills).toBe(before + 1);
  });

  it("completes greedily with NumPy's tokens for the adapter and the base, with usage", async () => {
    const r = await client.completions.create({ model: "lora", prompt: PROMPT, max_tokens: 6, temperature: 0 });
    expect(r.object).toBe("text_completion");
    expect(r.choices[0]?.text).toBe(text(g.greedy_adapter));
    expect(r.choices[0]?.finish_reason).toBe("length");
    expect(r.usage).toEqual({
      prompt_tokens: g.greedy_prompt_ids.length,
      completion_tokens: 6,
      total_tokens: g.greedy_prompt_ids.length + 6,
    });
    const b = await client.completions.create({
      model: "gpt2-tiny",
      prompt: g.greedy_prompt_ids,
      max_tokens: 6,
      temperature: 0,
    });
    expect(b.choices[0]?.text).toBe(text(g.greedy_base));
  });

  it("streams the same text as server-sent events, then usage, then [DONE]", async () => {
    const stream = await client.completions.create({
      model: "lora",
      prompt: PROMPT,
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: unknown;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.text) deltas.push(c.text);
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    expect(deltas.join("")).toBe(text(g.greedy_adapter));
    expect(deltas.length).toBeGreaterThan(1);
    expect(finish).toBe("length");
    expect(usage).toMatchObject({ completion_tokens: 6 });
  });

  it("answers an unknown model with 404 in OpenAI's error shape", async () => {
    const error = await client.completions.create({ model: "nope", prompt: "hi", max_tokens: 2 }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({
      status: 404,
      code: "model_not_found",
      type: "invalid_request_error",
      param: "model",
    });
  });

  it("answers bad parameters with 400 naming the parameter", async () => {
    for (const [params, param] of [
      [{ temperature: 5 }, "temperature"],
      [{ max_tokens: -1 }, "max_tokens"],
      [{ top_p: 0 }, "top_p"],
      [{ n: 3 }, "n"],
    ] as const) {
      const error = await client.completions.create({ model: "lora", prompt: "hi", ...params }).catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param });
    }
  });

  it("chat completions render the chat template, plain and streamed; a base without one answers 400", async () => {
    const messages = [{ role: "user" as const, content: "Hello there" }];
    const promptIds = tok.encode(`user: Hello there\nassistant:`);
    const ref = await generateIds(model, promptIds, { maxNewTokens: 5, eosTokenId: null });
    const r = await client.chat.completions.create({ model: "gpt2-tiny", messages, max_tokens: 5, temperature: 0 });
    expect(r.choices[0]?.message).toMatchObject({ role: "assistant", content: text(ref.generatedIds) });
    expect(r.usage?.prompt_tokens).toBe(promptIds.length);
    const stream = await client.chat.completions.create({
      model: "gpt2-tiny",
      messages,
      max_tokens: 5,
      temperature: 0,
      stream: true,
    });
    let content = "";
    let role: string | undefined;
    for await (const chunk of stream) {
      role ??= chunk.choices[0]?.delta.role;
      content += chunk.choices[0]?.delta.content ?? "";
    }
    expect(role).toBe("assistant");
    expect(content).toBe(r.choices[0]?.message.content);
    const other = new OpenAI({ baseURL: `${plain.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const error = await other.chat.completions.create({ model: "gpt2-tiny", messages }).catch((e) => e);
    expect(error).toMatchObject({ status: 400, param: "messages" });
  });

  it("stops before a stop sequence; the same seed samples the same text alone or beside other requests", async () => {
    const full = text(g.greedy_adapter);
    const stopAt = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 2);
    const r = await client.completions.create({
      model: "lora",
      prompt: PROMPT,
      max_tokens: 6,
      temperature: 0,
      stop: stopAt,
    });
    expect(r.choices[0]?.text).toBe(full.slice(0, full.indexOf(stopAt)));
    expect(r.choices[0]?.finish_reason).toBe("stop");
    const sampled = { model: "lora", prompt: PROMPT, max_tokens: 8, temperature: 1.3, top_p: 0.9, seed: 11 };
    const alone = await client.completions.create(sampled);
    const [together] = await Promise.all([
      client.completions.create(sampled),
      client.completions.create({ ...sampled, model: "gpt2-tiny", seed: 2 }),
      client.completions.create({ ...sampled, prompt: "Hello", seed: 3 }),
    ]);
    expect(together.choices[0]?.text).toBe(alone.choices[0]?.text);
  });

  it("an overloaded queue answers 503", async () => {
    const other = new OpenAI({ baseURL: `${plain.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const error = await other.completions.create({ model: "lora", prompt: "hi", max_tokens: 2 }).catch((e) => e);
    expect(error).toMatchObject({ status: 503, type: "server_error", code: "Overloaded" });
  });

  it("a client that disconnects mid-stream frees its slot", async () => {
    const ctl = new AbortController();
    const res = await fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "lora", prompt: PROMPT, max_tokens: 900, stream: true }),
      signal: ctl.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    expect(scheduler.stats().running).toBe(1);
    ctl.abort();
    await vi.waitFor(() => expect(scheduler.stats()).toMatchObject({ running: 0, kvBytesReserved: 0 }), {
      timeout: 10_000,
    });
    expect(scheduler.stats().tokens).toBeLessThan(900);
  });

  it("property: any JSON body gets 200 or an OpenAI-shaped 400/404, never a 5xx", async () => {
    const field = (...values: unknown[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
    const body = fc.oneof(
      fc.anything(),
      fc.record({
        model: field("lora", "gpt2-tiny", "nope", 3, ""),
        prompt: field("hi", "", [1, 2], [[5]], [-1], [1.5], 7, ["a", 2]),
        messages: field([{ role: "user", content: "x" }], [], [{ role: "x" }], "hi"),
        max_tokens: field(1, 2, 0, -1, 1.5, "3", null),
        temperature: field(0, 1, -1, 3, Number.NaN, null),
        top_p: field(0.5, 0, 2),
        top_k: field(3, -1, 0.5),
        stop: field("a", ["a", "b"], [], 5, ["1", "2", "3", "4", "5"]),
        stream: field(true, false, "yes"),
        seed: field(1, 1.5),
      }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom("completions", "chat/completions"), async (b, route) => {
        const res = await fetch(`${server.url}/v1/${route}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(b) ?? "",
        });
        const text = await res.text();
        expect([200, 400, 404]).toContain(res.status);
        if (res.status !== 200) {
          const e = JSON.parse(text).error;
          expect(typeof e.message).toBe("string");
          expect(e.type).toBe("invalid_request_error");
        }
      }),
      { numRuns: 80 },
    );
  });
});
