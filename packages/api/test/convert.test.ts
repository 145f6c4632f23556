import {
  type BaseManifest,
  manifestFromConfig,
  parseSafetensors,
  peftToGgufLora,
  peftToKohya,
  readPeftAdapter,
  serializeSafetensors,
  toFloat32,
} from "@lowrank/formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HubClient, peftFilesFor, startTestHub, type TestHub, uploadFiles } from "../src/testing.js";

const LLAMA = {
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 2,
  vocab_size: 32,
};

// A GGUF LoRA (llama.cpp's format) is converted to PEFT by the hub and stored beside the original.
describe("publishing a GGUF LoRA", () => {
  let t: TestHub;
  let alice: { token: string; client: HubClient };
  let manifest: BaseManifest;
  beforeAll(async () => {
    t = await startTestHub();
    const admin = await t.signUp("admin", "admin@example.com");
    await admin.client.bases.register.mutate({ name: "llama-tiny", config: LLAMA, license: "mit" });
    manifest = manifestFromConfig(LLAMA);
    alice = await t.signUp("alice");
  });
  afterAll(async () => t?.close());

  it("checks the converted adapter against the base, keeps the .gguf and serves the PEFT files", async () => {
    const modules = Object.keys(manifest.modules).filter((m) =>
      /self_attn\.[qkvo]_proj$|mlp\.(gate|up|down)_proj$/.test(m),
    );
    const peft = peftFilesFor(manifest, { modules, r: 2 });
    const { bytes } = peftToGgufLora(readPeftAdapter(peft).adapter, { headCount: 2, headCountKv: 2 });
    const published = await alice.client.adapters.publish.mutate({
      name: "llama-gguf",
      version: "v1",
      base: "llama-tiny",
      files: await uploadFiles(t.url, alice.token, { "adapter.gguf": bytes }),
    });
    expect(published.format).toBe("gguf");
    expect(published.files.map((f) => [f.path, f.role]).sort()).toEqual([
      ["README.md", "card"],
      ["adapter.gguf", "original"],
      ["adapter_config.json", "peft"],
      ["adapter_model.safetensors", "peft"],
    ]);
    const config = await (await fetch(`${t.url}/alice/llama-gguf/resolve/main/adapter_config.json`)).json();
    expect(config).toMatchObject({ r: 2, peft_type: "LORA" });
    const found = await alice.client.search.query({ format: "gguf" });
    expect(found.items.map((i) => i.name)).toEqual(["llama-gguf"]);
  });

  it("refuses a GGUF LoRA for another base shape, naming the layer", async () => {
    const wider = manifestFromConfig({ ...LLAMA, hidden_size: 16, intermediate_size: 32 });
    const modules = Object.keys(wider.modules).filter((m) => /self_attn\.q_proj$/.test(m));
    const { bytes } = peftToGgufLora(readPeftAdapter(peftFilesFor(wider, { modules, r: 2 })).adapter, {
      headCount: 2,
      headCountKv: 2,
    });
    const error = await alice.client.adapters.publish
      .mutate({
        name: "wrong-gguf",
        version: "v1",
        base: "llama-tiny",
        files: await uploadFiles(t.url, alice.token, { "adapter.gguf": bytes }),
      })
      .catch((e) => e);
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/model\.layers\.0\.self_attn\.q_proj: expected lora_A \[2,8\]/);
  });
});

// kohya's names come from Stable Diffusion trainers (sd-scripts), and no registered base is an SD
// UNet or CLIP text encoder. Its naming rule (prefix + module path with "_" for ".") applies to any
// module, so a file our own writer (peftToKohya) makes for the tiny GPT-2 exercises the hub's kohya
// path: the base's module names undo the flattening, and sd-scripts metadata survives.
describe("publishing a kohya LoRA (written by peftToKohya for a GPT-2 base)", () => {
  let t: TestHub;
  let alice: { token: string; client: HubClient };
  let manifest: BaseManifest;
  let modules: string[];
  beforeAll(async () => {
    t = await startTestHub();
    const admin = await t.signUp("admin", "admin@example.com");
    manifest = await t.registerTinyGpt2(admin.client);
    modules = Object.keys(manifest.modules).filter((m) => manifest.modules[m]?.layout === "conv1d");
    alice = await t.signUp("alice");
  });
  afterAll(async () => t?.close());

  const kohyaFile = (shapeOff: boolean) => {
    const { adapter } = readPeftAdapter(peftFilesFor(manifest, { modules, r: 4, shapeOff }));
    const { tensors } = peftToKohya(adapter, { prefix: "lora_te" });
    return {
      adapter,
      bytes: serializeSafetensors(tensors, { ss_network_dim: "4", ss_output_name: "tiny-kohya", other: "dropped" }),
    };
  };

  it("converts it with the base's module names, keeps the file and its sd-scripts metadata", async () => {
    const { adapter, bytes } = kohyaFile(false);
    const published = await alice.client.adapters.publish.mutate({
      name: "gpt2-kohya",
      version: "v1",
      base: "gpt2-tiny",
      files: await uploadFiles(t.url, alice.token, { "tiny_kohya.safetensors": bytes }),
    });
    expect(published.format).toBe("kohya");
    expect(published.files.map((f) => [f.path, f.role]).sort()).toEqual([
      ["README.md", "card"],
      ["adapter_config.json", "peft"],
      ["adapter_model.safetensors", "peft"],
      ["tiny_kohya.safetensors", "original"],
    ]);
    const get = async (f: string) =>
      new Uint8Array(await (await fetch(`${t.url}/alice/gpt2-kohya/resolve/main/${f}`)).arrayBuffer());
    const weights = await get("adapter_model.safetensors");
    const served = readPeftAdapter({
      "adapter_config.json": await get("adapter_config.json"),
      "adapter_model.safetensors": weights,
    }).adapter;
    expect(served.config.target_modules).toEqual([...modules].sort());
    for (const m of modules) {
      expect(Array.from(toFloat32(served.modules[m]!.A)), m).toEqual(Array.from(toFloat32(adapter.modules[m]!.A)));
      expect(Array.from(toFloat32(served.modules[m]!.B)), m).toEqual(Array.from(toFloat32(adapter.modules[m]!.B)));
    }
    expect(parseSafetensors(weights).metadata).toMatchObject({ ss_network_dim: "4", ss_output_name: "tiny-kohya" });
    expect(parseSafetensors(weights).metadata?.other).toBeUndefined();
  });

  it("refuses one for another base shape, naming the layer and both shapes", async () => {
    const error = await alice.client.adapters.publish
      .mutate({
        name: "wrong-kohya",
        version: "v1",
        base: "gpt2-tiny",
        files: await uploadFiles(t.url, alice.token, { "wrong.safetensors": kohyaFile(true).bytes }),
      })
      .catch((e) => e);
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/h\.0\.attn\.c_attn: expected lora_A \[4,2\] and lora_B \[6,4\] .*found \[4,3\]/);
  });
});
