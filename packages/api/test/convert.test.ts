import { type BaseManifest, manifestFromConfig, peftToGgufLora, readPeftAdapter } from "@lowrank/formats";
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
