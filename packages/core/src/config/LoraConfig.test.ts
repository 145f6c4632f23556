import { describe, expect, it } from "vitest";
import { isCoreError } from "../errors.js";
import { loraScaling, parseLoraConfig, safeParseLoraConfig } from "./LoraConfig.js";
import { isTargetModule, layerIndexOf, matchesModuleList, rankAndAlphaFor } from "./moduleMatch.js";

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isCoreError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a CoreError");
}

describe("parseLoraConfig", () => {
  it("fills PEFT defaults and keeps unknown keys", () => {
    const c = parseLoraConfig(
      '{"r": 4, "lora_alpha": 16, "target_modules": ["q", "v"], "future_field": {"x": 1}, "base_model_name_or_path": "gpt2"}',
    );
    expect(c.r).toBe(4);
    expect(c.lora_alpha).toBe(16);
    expect(c.bias).toBe("none");
    expect(c.init_lora_weights).toBe(true);
    expect(c.peft_type).toBe("LORA");
    expect(c.future_field).toEqual({ x: 1 });
    expect(c.base_model_name_or_path).toBe("gpt2");
    expect(JSON.parse(JSON.stringify(c)).future_field).toEqual({ x: 1 });
  });

  it.each([
    [{ r: 0 }, "r", "positive integer"],
    [{ r: 2.5 }, "r", "positive integer"],
    [{ bias: "some" }, "bias", '"none", "all", "lora_only"'],
    [{ lora_dropout: 1 }, "lora_dropout", "[0, 1)"],
    [{ init_lora_weights: "kaiming" }, "init_lora_weights", "gaussian"],
    [{ target_modules: "(" }, "target_modules", "regular expression"],
    [{ target_modules: [1, 2] }, "target_modules", "list of strings"],
    [{ rank_pattern: { q: -1 } }, "rank_pattern", "positive integer"],
    [{ peft_type: "IA3" }, "peft_type", '"LORA"'],
    [{ use_rslora: "yes" }, "use_rslora", "true or false"],
    [{ layers_to_transform: [1, -2] }, "layers_to_transform", "layer index"],
  ])("rejects %j naming the field and allowed values", (cfg, field, allowed) => {
    const e = codeOf(() => parseLoraConfig(cfg));
    expect(e.code).toBe("InvalidConfig");
    expect(e.message).toContain(field);
    expect(e.message).toContain(allowed);
  });

  it("safeParse returns a result instead of throwing", () => {
    const bad = safeParseLoraConfig({ r: -1 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe("InvalidConfig");
    expect(safeParseLoraConfig({ r: 2 }).ok).toBe(true);
    expect(codeOf(() => parseLoraConfig("{not json")).code).toBe("InvalidConfig");
  });

  it("scaling: alpha/r, rsLoRA alpha/sqrt(r)", () => {
    expect(loraScaling(16, 4)).toBe(4);
    expect(loraScaling(16, 4, true)).toBe(8);
  });
});

describe("module matching (PEFT rules)", () => {
  it("list entries match exact names or dotted suffixes, not substrings", () => {
    expect(matchesModuleList("transformer.h.0.attn.c_attn", ["c_attn"])).toBe(true);
    expect(matchesModuleList("c_attn", ["c_attn"])).toBe(true);
    expect(matchesModuleList("transformer.h.0.attn.xc_attn", ["c_attn"])).toBe(false);
    expect(matchesModuleList("transformer.h.0.attn.c_attn", ["attn.c_attn"])).toBe(true);
  });
  it("a string is a regex fully matched", () => {
    expect(matchesModuleList("model.layers.1.q_proj", ".*q_proj")).toBe(true);
    expect(matchesModuleList("model.layers.1.q_proj", "q_proj")).toBe(false);
    expect(matchesModuleList("model.layers.1.q_proj.x", ".*q_proj")).toBe(false);
  });
  it("exclude, all-linear and layers_to_transform", () => {
    const c = parseLoraConfig({ target_modules: "all-linear", exclude_modules: ["k"] });
    expect(isTargetModule("a.q", c)).toBe(true);
    expect(isTargetModule("a.k", c)).toBe(false);
    expect(isTargetModule("lm_head", c, true)).toBe(false);
    const l = parseLoraConfig({ target_modules: ["q"], layers_to_transform: [1], layers_pattern: "h" });
    expect(layerIndexOf("transformer.h.12.attn.q", "h")).toBe(12);
    expect(layerIndexOf("transformer.h.12.attn.q", null)).toBe(12);
    expect(isTargetModule("transformer.h.1.attn.q", l)).toBe(true);
    expect(isTargetModule("transformer.h.2.attn.q", l)).toBe(false);
    expect(isTargetModule("transformer.blocks.1.attn.q", l)).toBe(false);
  });
  it("rank_pattern / alpha_pattern keys", () => {
    const c = parseLoraConfig({
      r: 8,
      lora_alpha: 16,
      target_modules: ["q", "v"],
      rank_pattern: { "h.0.attn.q": 2, v: 4 },
      alpha_pattern: { "h\\.\\d\\.attn\\.v": 3 },
    });
    expect(rankAndAlphaFor("t.h.0.attn.q", c)).toEqual({ r: 2, alpha: 16 });
    expect(rankAndAlphaFor("t.h.1.attn.q", c)).toEqual({ r: 8, alpha: 16 });
    expect(rankAndAlphaFor("t.h.1.attn.v", c)).toEqual({ r: 4, alpha: 3 });
    expect(rankAndAlphaFor("t.h.1.attn.xv", c)).toEqual({ r: 8, alpha: 16 });
  });
});
